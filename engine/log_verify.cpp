// verify(): walks the whole log and reports the first bad position (engine/FORMAT.md, "Verify").
//   1. `e` keys from position 1: gapless, key = record position, decodes, canonical bytes,
//      `data` is a JSON object, prev_hash links, hash recomputes.
//   2. metadata head = the last record.
//   3. `s` keys: per stream versions 1, 2, 3, ... at increasing positions, and the index as a
//      whole equals the events' (stream, version, position) triples (IndexDigest); when it does
//      not, an exact pass with point reads finds the first position at fault.
#include <cassert>
#include <limits>
#include <random>

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
      : impl_(impl), progress_(progress), visit_good_(visit_good), events_(seed()), index_(events_) {
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
    walk_events();
    if (first_bad_ == no_problem) check_metadata();
    walk_index();
    if (events_ == index_) {
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

  std::unique_ptr<rocksdb::Iterator> iterate(std::string_view from, const rocksdb::Slice* upper_bound) {
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

  void check_metadata() {
    LogHead metadata;
    if (Status status = read_metadata_head(&metadata); !status.is_ok()) return note(last_good_.position + 1, status.message());
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

  // Per stream: versions 1, 2, 3, ... at increasing positions. Entries the event walk could
  // not vouch for (at or past its first bad position) are left out of the digest. An order
  // problem is held back: if the digests differ, the index itself is damaged and the exact
  // pass names the event whose entry is wrong.
  void note_index_order(uint64_t position, std::string problem) {
    if (position < index_order_position_) {
      index_order_position_ = position;
      index_order_problem_ = std::move(problem);
    }
  }

  void walk_index() {
    const std::string from(1, log_keys::stream_tag);
    const std::string end(1, log_keys::stream_tag + 1);
    const rocksdb::Slice upper_bound(end);
    std::unique_ptr<rocksdb::Iterator> it = iterate(from, &upper_bound);
    const uint64_t vouched_end = last_good_.position + 1;
    std::string stream;
    uint32_t last_version = 0;
    uint64_t last_position = 0;
    for (; it->Valid(); it->Next()) {
      const std::optional<log_keys::StreamKey> key = log_keys::parse_stream_key(it->key().ToStringView());
      if (!key || it->value().size() != 8) {
        note(vouched_end, "malformed stream index entry");
        continue;
      }
      const uint64_t position = load_u64_be(it->value().ToStringView());
      if (key->stream != stream) {
        stream.assign(key->stream);
        if (key->version != 1) note_index_order(position, fmt::format("stream {} starts at version {}", stream, key->version));
      } else if (key->version != last_version + 1) {
        note_index_order(position, fmt::format("stream {}: version {} follows version {}", stream, key->version, last_version));
      } else if (position <= last_position) {
        note_index_order(position, fmt::format("stream {}: version {} is at position {}, not after version {} at {}", stream,
                                   key->version, position, last_version, last_position));
      }
      last_version = key->version;
      last_position = position;
      if (position < vouched_end) {
        index_.add(key->stream, key->version, position);
      } else if (first_bad_ == no_problem) {
        note(vouched_end, fmt::format("index entry {}@{} points to position {}, past the end of the log",
                                      key->stream, key->version, position));
      }
    }
    if (!it->status().ok()) note(vouched_end, fmt::format("read error: {}", it->status().ToString()));
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
  IndexDigest index_;
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
