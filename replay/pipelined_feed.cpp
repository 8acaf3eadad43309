#include "replay/pipelined_feed.h"

#include <atomic>
#include <cassert>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/event_codec.h"
#include "engine/record_codec.h"

namespace tl::replay {
namespace {

// A stored value as the chain walk left it: its bytes are in the batch's `bytes`.
struct StoredValue {
  uint64_t position = 0;
  size_t offset = 0;
  size_t size = 0;
  Digest hash{};
};

// Items for the visitor to decode, unless the reader decoded them (`prepared`). From
// LogStore::verify the reader hands over decoded records (`records`); from a scan, the stored
// values as they are (`values`, their bytes back to back in `bytes`), so that the reader only
// walks and hashes the log and the visitor parses each record as well.
struct Batch {
  std::vector<EventRecord> records;  // the first `size` are filled, or
  std::vector<StoredValue> values;   // these
  std::string bytes;
  size_t size = 0;
  // Set when the reader decoded the items itself (ReaderDecodes): events[i] and hashes[i] for
  // i < prepared_count; when that is short of `size`, prepared_stop says why the feed ends there
  // (the damage, or ok for an event past the time limit).
  bool prepared = false;
  std::vector<Event> events;
  std::vector<const Digest*> hashes;
  size_t prepared_count = 0;
  Status prepared_stop;
};

// Decodes item i of a batch into `event` and points `hash` at its hash; false ends the feed, with
// `status` naming the damage or ok (past the time limit). Each thread has its own.
using ItemDecoder = std::function<bool(const Batch&, size_t i, Event* event, const Digest** hash, Status* status)>;
using MakeItemDecoder = std::function<ItemDecoder()>;

void prepare_events(Batch& batch, const ItemDecoder& decode_item) {
  assert(!batch.prepared);
  if (batch.events.size() < batch.size) batch.events.resize(batch.size);
  batch.hashes.resize(batch.size);
  batch.prepared_count = 0;
  batch.prepared_stop = Status::ok();
  for (size_t i = 0; i < batch.size; ++i) {
    if (!decode_item(batch, i, &batch.events[i], &batch.hashes[i], &batch.prepared_stop)) break;
    ++batch.prepared_count;
  }
  batch.prepared = true;
}

// Batches go reader → visitor through `full` and come back through `empty`, so that records and
// their strings are reused rather than allocated again.
class BatchQueue {
 public:
  BatchQueue() {
    for (size_t i = 0; i < pipeline_batches_in_flight_max; ++i) {
      empty_.push_back(std::make_unique<Batch>());  // each reader grows the part it fills
    }
  }

  // Reader side. Null once the visitor has stopped.
  std::unique_ptr<Batch> take_empty() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !empty_.empty() || stopped_; });
    if (stopped_) return nullptr;
    auto batch = std::move(empty_.front());
    empty_.pop_front();
    return batch;
  }
  void put_full(std::unique_ptr<Batch> batch) {
    std::lock_guard lock(mutex_);
    full_.push_back(std::move(batch));
    changed_.notify_all();
  }
  // Reader side: a batch handed over earlier is still waiting for the visitor.
  bool visitor_behind() {
    std::lock_guard lock(mutex_);
    return !full_.empty();
  }
  void finish_reading() {
    std::lock_guard lock(mutex_);
    reading_done_ = true;
    changed_.notify_all();
  }

  // Visitor side. Null when the reader is done and everything was handed over.
  std::unique_ptr<Batch> take_full() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !full_.empty() || reading_done_; });
    if (full_.empty()) return nullptr;
    auto batch = std::move(full_.front());
    full_.pop_front();
    return batch;
  }
  void put_empty(std::unique_ptr<Batch> batch) {
    std::lock_guard lock(mutex_);
    empty_.push_back(std::move(batch));
    changed_.notify_all();
  }
  void stop() {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::unique_ptr<Batch>> empty_;
  std::deque<std::unique_ptr<Batch>> full_;
  bool reading_done_ = false;
  bool stopped_ = false;
};

// The readers hand full batches over through this, which decodes a batch first when the options
// say so. Used on the reader thread only, with the reader's own decoder.
class HandOver {
 public:
  HandOver(BatchQueue& queue, ReaderDecodes policy, ItemDecoder decode_item)
      : queue_(queue), policy_(policy), decode_item_(std::move(decode_item)) {}

  void operator()(std::unique_ptr<Batch> batch) {
    const bool decode = policy_ == ReaderDecodes::always ||
                        (policy_ == ReaderDecodes::when_visitor_is_behind && queue_.visitor_behind());
    if (decode) prepare_events(*batch, decode_item_);
    queue_.put_full(std::move(batch));
  }

 private:
  BatchQueue& queue_;
  ReaderDecodes policy_;
  ItemDecoder decode_item_;
};

// The reader thread's work: fills batches with the source's records until the limits, the end,
// damage, or a stop.
class Reader {
 public:
  Reader(const RecordSource& source, const FeedLimits& limits, BatchQueue& queue, HandOver& hand_over)
      : source_(source), limits_(limits), queue_(queue), hand_over_(hand_over) {}

  void run() {
    batch_ = queue_.take_empty();
    if (batch_ != nullptr) {
      const Status walked = source_([this](EventRecord& record) { return add(record); });
      if (failure_.is_ok()) failure_ = walked;
      if (batch_ != nullptr && batch_->size > 0) hand_over_(std::move(batch_));
    }
    queue_.finish_reading();
  }

  const Status& failure() const { return failure_; }
  uint64_t last_position() const { return last_position_; }

 private:
  bool add(EventRecord& record) {
    if (record.position > limits_.position_max || record.at > limits_.at_max) return false;
    // A swap, not a copy: the source refills `record`, into the strings of a record the visitor
    // is done with, so nothing is allocated or copied once the batches are warm.
    last_position_ = record.position;
    if (batch_->records.size() == batch_->size) batch_->records.emplace_back();  // the first rounds only
    std::swap(batch_->records[batch_->size], record);  // `record` now holds a spent one
    ++batch_->size;
    if (batch_->size == pipeline_batch_events_max) {
      hand_over_(std::move(batch_));
      batch_ = queue_.take_empty();
      if (batch_ == nullptr) return false;  // the visitor stopped
    }
    return true;
  }

  const RecordSource& source_;
  const FeedLimits& limits_;
  BatchQueue& queue_;
  HandOver& hand_over_;
  std::unique_ptr<Batch> batch_;
  Status failure_;
  uint64_t last_position_ = 0;
};

// The reader thread's work on a scan: copies each stored value into the batch's bytes.
class StoredReader {
 public:
  StoredReader(const LogStore& log, const FeedLimits& limits, BatchQueue& queue, HandOver& hand_over)
      : log_(log), limits_(limits), queue_(queue), hand_over_(hand_over) {}

  void run() {
    batch_ = queue_.take_empty();
    if (batch_ != nullptr) {
      failure_ = log_.scan_stored(1, [this](uint64_t position, std::string_view stored, const Digest& hash) {
        return add(position, stored, hash);
      });
      if (batch_ != nullptr && batch_->size > 0) hand_over_(std::move(batch_));
    }
    queue_.finish_reading();
  }

  const Status& failure() const { return failure_; }
  uint64_t last_position() const { return last_position_; }

 private:
  bool add(uint64_t position, std::string_view stored, const Digest& hash) {
    if (position > limits_.position_max) return false;  // `at` is the visitor's to check
    last_position_ = position;
    if (batch_->size == 0) {
      batch_->values.clear();
      batch_->bytes.clear();
    }
    batch_->values.push_back(StoredValue{position, batch_->bytes.size(), stored.size(), hash});
    batch_->bytes.append(stored);
    ++batch_->size;
    if (batch_->size == pipeline_batch_events_max || batch_->bytes.size() >= pipeline_batch_bytes_max) {
      hand_over_(std::move(batch_));
      batch_ = queue_.take_empty();
      if (batch_ == nullptr) return false;  // the visitor stopped
    }
    return true;
  }

  const LogStore& log_;
  const FeedLimits& limits_;
  BatchQueue& queue_;
  HandOver& hand_over_;
  std::unique_ptr<Batch> batch_;
  Status failure_;
  uint64_t last_position_ = 0;
};

// The visitor thread's loop for either reader: decodes each item with its own decoder, unless
// the reader decoded the batch already, and visits it.
template <class ReaderType>
FeedResult visit_batches(ReaderType& reader, BatchQueue& queue, Progress& progress, const DecodedVisitor& visit,
                         const ItemDecoder& decode_item) {
  std::thread reading([&reader] { reader.run(); });
  FeedResult result;
  Status undecodable;  // the first item that does not decode ends the feed there
  Event decoded;
  bool stopped = false;
  while (std::unique_ptr<Batch> batch = queue.take_full()) {
    for (size_t i = 0; i < batch->size && !stopped; ++i) {
      const Event* event = &decoded;
      const Digest* hash = nullptr;
      if (batch->prepared) {
        if (i == batch->prepared_count) {
          undecodable = std::move(batch->prepared_stop);
          stopped = true;
          break;
        }
        event = &batch->events[i];
        hash = batch->hashes[i];
        ++result.events_decoded_by_reader;
      } else if (!decode_item(*batch, i, &decoded, &hash, &undecodable)) {
        stopped = true;
        break;
      }
      ++result.events_visited;
      result.last_position = event->position;
      stopped = !visit(*event, *hash);
    }
    batch->size = 0;
    batch->prepared = false;
    progress.update(result.last_position);
    queue.put_empty(std::move(batch));
    if (stopped) {
      queue.stop();
      break;
    }
  }
  reading.join();
  if (!undecodable.is_ok()) {
    result.status = std::move(undecodable);  // before anything the reader found later in the log
  } else if (!stopped) {
    result.status = reader.failure();
    assert(result.last_position == reader.last_position() || !result.status.is_ok());
  }
  return result;
}

}  // namespace

FeedResult feed_events_pipelined(const LogStore& log, const FeedLimits& limits, Progress& progress,
                                 const DecodedVisitor& visit, const PipelineOptions& options) {
  const MakeItemDecoder make_decoder = [&limits]() -> ItemDecoder {
    auto decoder = std::make_shared<RecordDecoder>();
    auto record = std::make_shared<EventRecord>();
    return [&limits, decoder, record](const Batch& batch, size_t i, Event* event, const Digest** hash, Status* status) {
      const StoredValue& value = batch.values[i];
      *status = decoder->decode_at(value.position, std::string_view(batch.bytes).substr(value.offset, value.size), record.get());
      if (status->is_ok() && record->at > limits.at_max) return false;  // times never go back: done
      if (status->is_ok()) *status = decode_event(*record, event);
      *hash = &value.hash;
      return status->is_ok();
    };
  };
  BatchQueue queue;
  HandOver hand_over(queue, options.reader_decodes, make_decoder());
  StoredReader reader(log, limits, queue, hand_over);
  return visit_batches(reader, queue, progress, visit, make_decoder());
}

FeedResult feed_records_pipelined(const RecordSource& source, const FeedLimits& limits, Progress& progress,
                                  const DecodedVisitor& visit, const PipelineOptions& options) {
  const ItemDecoder decode_item = [](const Batch& batch, size_t i, Event* event, const Digest** hash, Status* status) {
    const EventRecord& record = batch.records[i];
    *status = decode_event(record, event);
    *hash = &record.hash;
    return status->is_ok();
  };
  BatchQueue queue;
  HandOver hand_over(queue, options.reader_decodes, decode_item);  // it holds no state: one for both threads
  Reader reader(source, limits, queue, hand_over);
  return visit_batches(reader, queue, progress, visit, decode_item);
}

}  // namespace tl::replay
