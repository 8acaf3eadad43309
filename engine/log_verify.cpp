// verify(): walks the whole log and reports the first bad position (engine/FORMAT.md, "Verify").
//   1. `e` keys from position 1: gapless, key = record position, decodes, canonical bytes,
//      `data` is a JSON object, prev_hash links, hash recomputes.
//   2. metadata head = the last record.
//   3. `s` keys: per stream versions 1, 2, 3, ... at increasing positions, and the index as a
//      whole equals the events' (stream, version, position) triples (IndexDigest); when it does
//      not, an exact pass with point reads finds the first position at fault.
#include <cassert>
#include <limits>
#include <optional>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "engine/big_endian.h"
#include "engine/index_digest.h"
#include "engine/log_keys.h"
#include "engine/log_store_impl.h"

namespace tl {
namespace {

constexpr uint64_t no_problem = std::numeric_limits<uint64_t>::max();
constexpr uint64_t progress_interval_events = 1 << 16;

class Verifier {
 public:
  Verifier(const LogStore::Impl& impl, const std::function<void(uint64_t)>& progress,
           const std::function<void(EventRecord&)>& visit_good)
      : impl_(impl), progress_(progress), visit_good_(visit_good), events_(seed()) {
    snapshot_ = impl.take_snapshot();
    read_ = sequential_read_options(nullptr);
    read_.snapshot = snapshot_;
  }
  ~Verifier() {
    impl_.release_snapshot(snapshot_);
  }
  Verifier(const Verifier&) = delete;
  Verifier& operator=(const Verifier&) = delete;

  VerifyReport run() {
    // The index walk needs to know where the vouched events end. It runs beside the event walk,
    // on a thread of its own, taking the metadata head's word for that end (the index is about a
    // tenth of the reading, and after the event walk it ran alone); when the event walk ends
    // anywhere else (a damaged log), it runs again after it with the end that walk found.
    LogHead metadata;
    const Status metadata_read = read_metadata_head(&metadata);  // checked after the event walk
    std::optional<IndexWalk> early_walk;
    std::jthread index_thread;  // joins on every way out
    if (metadata_read.is_ok()) {
      index_thread = std::jthread([this, end = metadata.position + 1, seed = events_.seed(), &early_walk] {
        early_walk = walk_index(end, seed);
      });
    }
    walk_events();
    if (first_bad_ == no_problem) check_metadata(metadata_read, metadata);
    if (index_thread.joinable()) index_thread.join();
    const uint64_t vouched_end = last_good_.position + 1;
    const IndexWalk walk = early_walk && early_walk->vouched_end == vouched_end
                               ? std::move(*early_walk)
                               : walk_index(vouched_end, events_.seed());
    take_index_walk(walk);
    if (events_ == walk.digest) {
      // The index mirrors the events exactly, so an order problem found in it is the events'.
      if (index_order_position_ != no_problem) note(index_order_position_, index_order_problem_);
    } else {
      find_index_mismatch();
    }
    return report();
  }

 private:
  static uint64_t seed() {
    std::random_device device;
    return uint64_t{device()} << 32 | device();
  }

  void note(uint64_t position, std::string problem) {
    if (position < first_bad_) {
      first_bad_ = position;
      problem_ = std::move(problem);
    }
  }

  std::unique_ptr<rocksdb::Iterator> iterate(std::string_view from, const rocksdb::Slice* upper_bound) const {
    rocksdb::ReadOptions read = read_;
    read.iterate_upper_bound = upper_bound;
    std::unique_ptr<rocksdb::Iterator> it(impl_.db->NewIterator(read, impl_.log_family));
    it->Seek(from);
    return it;
  }

  // Checks one stored record at `position`; returns the problem, empty when it is good.
  std::string check_record(uint64_t position, std::string_view value) {
    bool canonical = false;
    if (Status status = decoder_.decode(value, &record_, &canonical); !status.is_ok()) return status.message();
    if (record_.position != position) return fmt::format("key position {} holds the record of position {}", position, record_.position);
    if (!canonical) return "record is not canonically encoded";
    if (Status status = data_checker_.check(record_.data); !status.is_ok()) return status.message();
    if (record_.prev_hash != last_good_.hash) return fmt::format("prev_hash is not the hash of position {}", position - 1);
    if (decoder_.compute_hash(value, record_.prev_hash, position) != record_.hash) return "hash mismatch";
    if (record_.version == 0) return "version 0";
    return {};
  }

  void walk_events() {
    const rocksdb::Slice upper_bound(log_keys::event_keys_end);
    std::unique_ptr<rocksdb::Iterator> it = iterate(log_keys::event_key(1), &upper_bound);
    uint64_t expected = 1;
    for (; it->Valid(); it->Next(), ++expected) {
      const std::optional<uint64_t> position = log_keys::parse_event_key(it->key().ToStringView());
      if (!position) return note(expected, "malformed event key");
      if (*position != expected) return note(expected, fmt::format("gap: expected position {}, found {}", expected, *position));
      if (std::string problem = check_record(expected, it->value().ToStringView()); !problem.empty()) {
        return note(expected, std::move(problem));
      }
      events_.add(record_.stream, record_.version, expected);
      last_good_ = LogHead{expected, record_.hash};
      ++events_checked_;
      if (visit_good_) visit_good_(record_);
      if (progress_ && events_checked_ % progress_interval_events == 0) progress_(events_checked_);
    }
    if (!it->status().ok()) note(expected, fmt::format("read error: {}", it->status().ToString()));
  }

  // `metadata` as read_metadata_head() gave it, with its status.
  void check_metadata(const Status& metadata_read, const LogHead& metadata) {
    if (!metadata_read.is_ok()) return note(last_good_.position + 1, metadata_read.message());
    const uint64_t last = last_good_.position;
    if (metadata.position > last) {
      note(last + 1, fmt::format("metadata head is position {} but the log ends at {}", metadata.position, last));
    } else if (metadata.position < last) {
      note(metadata.position + 1, fmt::format("the log holds events past the metadata head {}", metadata.position));
    } else if (metadata.hash != last_good_.hash) {
      note(last, "metadata last_hash is not the hash of the last event");
    }
  }

  Status read_metadata_head(LogHead* head) {
    rocksdb::ReadOptions read = point_read_options();
    read.snapshot = snapshot_;
    std::string position;
    std::string hash;
    const rocksdb::Status got_position = impl_.db->Get(read, impl_.log_family, log_keys::meta_last_position, &position);
    const rocksdb::Status got_hash = impl_.db->Get(read, impl_.log_family, log_keys::meta_last_hash, &hash);
    if (got_position.IsNotFound() && got_hash.IsNotFound()) {
      *head = LogHead{};
      return Status::ok();
    }
    if (!got_position.ok() || !got_hash.ok() || position.size() != 8 || hash.size() != 32) {
      return Status::corruption("metadata head is missing a part or has the wrong size");
    }
    head->position = load_u64_be(position);
    std::copy(hash.begin(), hash.end(), head->hash.begin());
    return Status::ok();
  }

  // What a walk of the `s` keys found, given where the vouched events end.
  struct IndexWalk {
    uint64_t vouched_end = 0;
    IndexDigest digest;
    // The first entry that is malformed or points at or past `vouched_end`, in key order; it is
    // damage only when the event walk found none (take_index_walk).
    std::string problem;
    uint64_t order_position = no_problem;  // the first order problem by position
    std::string order_problem;
  };

  // Per stream: versions 1, 2, 3, ... at increasing positions. Entries the event walk could
  // not vouch for (at or past its first bad position) are left out of the digest. An order
  // problem is held back: if the digests differ, the index itself is damaged and the exact
  // pass names the event whose entry is wrong. Reads only the snapshot: it may run on another
  // thread than the event walk. `seed` is the event digest's, so that the two compare.
  IndexWalk walk_index(uint64_t vouched_end, uint64_t seed) const {
    IndexWalk walk{vouched_end, IndexDigest(seed), {}, no_problem, {}};
    const auto note_order = [&walk](uint64_t position, std::string problem) {
      if (position < walk.order_position) {
        walk.order_position = position;
        walk.order_problem = std::move(problem);
      }
    };
    const std::string from(1, log_keys::stream_tag);
    const std::string end(1, log_keys::stream_tag + 1);
    const rocksdb::Slice upper_bound(end);
    std::unique_ptr<rocksdb::Iterator> it = iterate(from, &upper_bound);
    std::string stream;
    uint32_t last_version = 0;
    uint64_t last_position = 0;
    for (; it->Valid(); it->Next()) {
      const std::optional<log_keys::StreamKey> key = log_keys::parse_stream_key(it->key().ToStringView());
      if (!key || it->value().size() != 8) {
        if (walk.problem.empty()) walk.problem = "malformed stream index entry";
        continue;
      }
      const uint64_t position = load_u64_be(it->value().ToStringView());
      if (key->stream != stream) {
        stream.assign(key->stream);
        if (key->version != 1) note_order(position, fmt::format("stream {} starts at version {}", stream, key->version));
      } else if (key->version != last_version + 1) {
        note_order(position, fmt::format("stream {}: version {} follows version {}", stream, key->version, last_version));
      } else if (position <= last_position) {
        note_order(position, fmt::format("stream {}: version {} is at position {}, not after version {} at {}", stream,
                                         key->version, position, last_version, last_position));
      }
      last_version = key->version;
      last_position = position;
      if (position < vouched_end) {
        walk.digest.add(key->stream, key->version, position);
      } else if (walk.problem.empty()) {
        walk.problem = fmt::format("index entry {}@{} points to position {}, past the end of the log", key->stream,
                                   key->version, position);
      }
    }
    if (!it->status().ok() && walk.problem.empty()) walk.problem = fmt::format("read error: {}", it->status().ToString());
    return walk;
  }

  // Every problem of the index walk is at the end of the vouched events, so none of them can
  // come before one the event walk found (which is at or before that end).
  void take_index_walk(const IndexWalk& walk) {
    assert(walk.vouched_end == last_good_.position + 1);
    if (!walk.problem.empty() && first_bad_ == no_problem) note(walk.vouched_end, walk.problem);
    index_order_position_ = walk.order_position;
    index_order_problem_ = walk.order_problem;
  }

  // The digests differ: find the first position at fault with point reads (damaged logs only).
  void find_index_mismatch() {
    rocksdb::ReadOptions read = point_read_options();
    read.snapshot = snapshot_;
    const uint64_t vouched_end = last_good_.position + 1;
    // Every event must have its index entry pointing back at it.
    const rocksdb::Slice events_end(log_keys::event_keys_end);
    std::string value;
    for (std::unique_ptr<rocksdb::Iterator> it = iterate(log_keys::event_key(1), &events_end); it->Valid(); it->Next()) {
      const uint64_t position = *log_keys::parse_event_key(it->key().ToStringView());
      if (position >= vouched_end || position >= first_bad_) break;
      if (!decoder_.decode(it->value().ToStringView(), &record_).is_ok()) break;
      const rocksdb::Status got = impl_.db->Get(read, impl_.log_family, log_keys::stream_key(record_.stream, record_.version), &value);
      if (!got.ok() || value.size() != 8) {
        return note(position, fmt::format("index entry for {}@{} is missing", record_.stream, record_.version));
      }
      if (load_u64_be(value) != position) {
        return note(position, fmt::format("index entry {}@{} points to position {}", record_.stream, record_.version, load_u64_be(value)));
      }
    }
    if (first_bad_ < vouched_end) return;
    // Every event has its entry, so some entry is extra: it must point at an event of its
    // stream and version, and the first one that does not names the position.
    const std::string end(1, log_keys::stream_tag + 1);
    const rocksdb::Slice index_end(end);
    for (std::unique_ptr<rocksdb::Iterator> it = iterate(std::string(1, log_keys::stream_tag), &index_end); it->Valid(); it->Next()) {
      const std::optional<log_keys::StreamKey> key = log_keys::parse_stream_key(it->key().ToStringView());
      if (!key || it->value().size() != 8) continue;
      const uint64_t position = load_u64_be(it->value().ToStringView());
      if (position >= vouched_end || position >= first_bad_) continue;
      const rocksdb::Status got = impl_.db->Get(read, impl_.log_family, log_keys::event_key(position), &value);
      if (!got.ok() || !decoder_.decode(value, &record_).is_ok() || record_.stream != key->stream || record_.version != key->version) {
        note(position, fmt::format("index entry {}@{} points to position {}, which holds another event", key->stream, key->version, position));
      }
    }
    if (first_bad_ < vouched_end) return;
    if (index_order_position_ != no_problem) return note(index_order_position_, index_order_problem_);
    note(vouched_end, "the stream index does not match the events");
  }

  VerifyReport report() {
    VerifyReport report;
    report.events_checked = events_checked_;
    report.head = last_good_;
    if (first_bad_ == no_problem) return report;
    report.clean = false;
    report.first_bad_position = first_bad_;
    report.problem = problem_;
    if (first_bad_ <= last_good_.position) {
      // An index problem before the end of the walk: the last good record is the one before it.
      report.head = LogHead{first_bad_ - 1, Digest{}};
      std::string value;
      if (first_bad_ > 1 && impl_.get_event_value(first_bad_ - 1, &value).is_ok()) {
        report.head.hash = stored_hash_field(value).value_or(Digest{});
      }
    }
    return report;
  }

  const LogStore::Impl& impl_;
  const std::function<void(uint64_t)>& progress_;
  const std::function<void(EventRecord&)>& visit_good_;
  const rocksdb::Snapshot* snapshot_ = nullptr;
  rocksdb::ReadOptions read_;
  RecordDecoder decoder_;
  JsonObjectChecker data_checker_;
  EventRecord record_;
  IndexDigest events_;
  LogHead last_good_;
  uint64_t events_checked_ = 0;
  uint64_t first_bad_ = no_problem;
  std::string problem_;
  uint64_t index_order_position_ = no_problem;
  std::string index_order_problem_;
};

}  // namespace

VerifyReport LogStore::verify(const std::function<void(uint64_t)>& progress,
                              const std::function<void(EventRecord&)>& visit_good) const {
  Verifier verifier(*impl_, progress, visit_good);
  VerifyReport report = verifier.run();
  assert(report.clean == (report.first_bad_position == 0));
  return report;
}

}  // namespace tl
