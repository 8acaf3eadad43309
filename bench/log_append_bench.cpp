// Appends per second: raw RocksDB synced WriteBatch puts against LogStore's append of realistic
// events (a ~150-byte `data`), at batch sizes 1, 100 and 1,000, each in a fresh database with
// the same RocksDB tuning (engine/rocksdb_tuning.h). Two raw baselines:
//   plain:      one sequential 9-byte key with a 300-byte value per item (the brief's baseline)
//   log-shaped: the log's key shape without the log's code: a sequential `e` key with a
//               475-byte value plus an `s` index key (8-byte value) per item, index keys of a
//               batch sorted; it separates RocksDB's cost of the format from our code's cost.
// Raw values compress to about half, like db_bench's defaults (bench_common.h: CompressibleValues).
// The three run in interleaved rounds, so that a disk whose fsync latency drifts (a shared
// machine) drifts under all three alike. Each round of each ends when its RocksDB has no flush
// or compaction running or due, and that wait is counted in its time: otherwise one database's
// background work runs, on the same two cores, during the next one's round.
//
//   log_append_bench [--seconds N] [--quick] [--no-sync] [--dir PATH]
//
// Prints the machine, one human table, and one `RESULT {json}` line per batch size.
#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "bench/bench_common.h"
#include "engine/big_endian.h"
#include "engine/log_store.h"
#include "engine/rocksdb_tuning.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr size_t raw_value_bytes = 300;
constexpr size_t log_shaped_value_bytes = 475;  // what the log stores for the events below
constexpr size_t streams_count = 50'000;        // bookings the generated commands touch, round robin
constexpr int rounds = 3;
const size_t batch_sizes[] = {1, 100, 1000};

struct Flags {
  double seconds = 3;  // per case, split over the rounds
  std::string dir = "/tmp";
  bool sync = true;    // --no-sync isolates the CPU cost from the disk's fsync latency
};

bool parse_flags(int argc, char** argv, Flags* flags) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--quick") {
      flags->seconds = 0.6;
    } else if (arg == "--seconds" && i + 1 < argc) {
      flags->seconds = std::stod(argv[++i]);
    } else if (arg == "--no-sync") {
      flags->sync = false;
    } else if (arg == "--dir" && i + 1 < argc) {
      flags->dir = argv[++i];
    } else {
      std::fprintf(stderr, "usage: log_append_bench [--seconds N] [--quick] [--no-sync] [--dir PATH]\n");
      return false;
    }
  }
  return flags->seconds > 0;
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "%s\n", what.c_str());
  std::exit(1);
}

struct Measured {
  uint64_t items = 0;
  Clock::duration spent{};
  double per_second() const {
    const double seconds = std::chrono::duration<double>(spent).count();
    return seconds > 0 ? static_cast<double>(items) / seconds : 0;
  }
};

Clock::duration to_duration(double seconds) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

enum class RawShape { plain, log_shaped };

class RawRunner {
 public:
  RawRunner(const std::string& path, RawShape shape, bool sync)
      : shape_(shape), value_bytes_(shape == RawShape::plain ? raw_value_bytes : log_shaped_value_bytes) {
    const tl::RocksTuning tuning = tl::make_rocksdb_tuning(tl::LogOptions{});
    const rocksdb::Status opened = rocksdb::DB::Open(tuning.db, path, tl::column_family_descriptors(tuning), &handles_, &db_);
    if (!opened.ok()) die("raw open: " + opened.ToString());
    write_.sync = sync;
  }
  ~RawRunner() {
    for (auto* handle : handles_) db_->DestroyColumnFamilyHandle(handle);
    db_->Close();
    delete db_;
  }
  RawRunner(const RawRunner&) = delete;
  RawRunner& operator=(const RawRunner&) = delete;

  void run(size_t batch, double seconds) {
    const Clock::time_point start = Clock::now();
    const Clock::time_point end = start + to_duration(seconds);
    Clock::time_point now = start;
    while (now < end) {
      write_one(batch);
      measured_.items += batch;
      now = Clock::now();
    }
    tl::bench::wait_until_settled([&] { return tl::background_work_pending(*db_, handles_); });
    measured_.spent += Clock::now() - start;
  }
  const Measured& measured() const { return measured_; }

 private:
  void write_one(size_t batch) {
    rocksdb::WriteBatch write_batch;
    index_keys_.clear();
    for (size_t i = 0; i < batch; ++i, ++next_key_) {
      key_.assign(1, 'e');
      tl::append_u64_be(key_, next_key_);
      write_batch.Put(handles_[0], key_, values_.next(value_bytes_));
      if (shape_ == RawShape::log_shaped) {
        const size_t stream = next_key_ % streams_count;
        std::string& index_key = index_keys_.emplace_back(fmt::format("sbooking-{:05}", stream));
        index_key.push_back('\0');
        tl::append_u32_be(index_key, ++versions_[stream]);
      }
    }
    std::sort(index_keys_.begin(), index_keys_.end());
    for (const std::string& index_key : index_keys_) {
      position_be_.clear();
      tl::append_u64_be(position_be_, next_key_);
      write_batch.Put(handles_[0], index_key, position_be_);
    }
    if (!db_->Write(write_, &write_batch).ok()) die("raw write failed");
  }

  RawShape shape_;
  rocksdb::DB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::WriteOptions write_;
  size_t value_bytes_;
  tl::bench::CompressibleValues values_;
  std::string key_;
  std::string position_be_;
  std::vector<std::string> index_keys_;
  std::vector<uint32_t> versions_ = std::vector<uint32_t>(streams_count, 0);
  uint64_t next_key_ = 1;
  Measured measured_;
};

// A group commit of `batch` commands, each appending one event to its own booking stream with
// an exact expected version (what the engine writer does). Making the batch is not timed.
class LogRunner {
 public:
  LogRunner(const std::string& path, bool sync) {
    tl::LogOptions options;
    options.sync = sync;
    if (tl::Status status = tl::LogStore::open(path, options, &log_); !status.is_ok()) die("log open: " + status.to_string());
    for (size_t i = 0; i < streams_count; ++i) stream_names_.push_back(fmt::format("booking-{:05}", i));
  }

  void run(size_t batch, double seconds) {
    const Clock::duration budget = to_duration(seconds);
    Clock::duration spent{};
    while (spent < budget) {
      const tl::AppendBatch append = next(batch);
      const Clock::time_point start = Clock::now();
      const tl::AppendResult appended = log_->append(append);
      spent += Clock::now() - start;
      if (!appended.status.is_ok()) die("append: " + appended.status.to_string());
      for (const size_t stream : touched_) ++versions_[stream];
      measured_.items += appended.records.size();
    }
    spent += to_duration(tl::bench::wait_until_settled([&] { return log_->background_work_pending(); }));
    measured_.spent += spent;
  }
  const Measured& measured() const { return measured_; }

  // The stored size of the events (all alike but for their numbers), read back from the last one.
  size_t stored_bytes() const {
    size_t bytes = 0;
    (void)log_->scan_raw(log_->head().position, [&](uint64_t, std::string_view value) { return bytes = value.size(), false; });
    return bytes;
  }

 private:
  // About 150 bytes, like a PaymentCaptured event.
  static std::string data_for(uint64_t command) {
    return fmt::format(R"({{"booking_id":"bk_{:08}","amount":{{"amount":35000,"currency":"ETB"}},)"
                       R"("reference":"chapa_{:012}","tx_ref":"tx_{:012}","captured_by":"psp"}})",
                       command % 100'000'000, command, command);
  }

  tl::AppendBatch next(size_t batch) {
    tl::AppendBatch append;
    touched_.clear();
    for (size_t i = 0; i < batch; ++i) {
      const size_t stream = next_stream_;
      next_stream_ = (next_stream_ + 1) % streams_count;
      ++next_command_;
      tl::NewEvent event;
      event.type = "PaymentCaptured";
      event.schema = 1;
      event.at = 1'795'000'000'000 + static_cast<int64_t>(next_command_);
      event.actor = fmt::format("student:s{:05}", stream);
      event.command_id = fmt::format("c-{:09}", next_command_);
      event.data = data_for(next_command_);
      append.streams.push_back(tl::StreamAppend{stream_names_[stream], tl::ExpectedVersion::exact(versions_[stream]), {std::move(event)}});
      touched_.push_back(stream);
    }
    return append;
  }

  std::unique_ptr<tl::LogStore> log_;
  std::vector<std::string> stream_names_;
  std::vector<uint32_t> versions_ = std::vector<uint32_t>(streams_count, 0);
  std::vector<size_t> touched_;
  size_t next_stream_ = 0;
  uint64_t next_command_ = 0;
  Measured measured_;
};

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  if (!parse_flags(argc, argv, &flags)) return 2;
  const tl::bench::Machine m = tl::bench::machine();
  std::string folder = (fs::path(flags.dir) / "tl-append-bench-XXXXXX").string();
  if (mkdtemp(folder.data()) == nullptr) die("cannot make a folder under " + flags.dir);
  std::printf("log_append_bench: %u cores, %s; load average %s; %.1f s per case in %d rounds; %s; folder %s\n", m.cores,
              m.cpu.c_str(), m.load_average.c_str(), flags.seconds, rounds,
              flags.sync ? "synced writes" : "UNSYNCED writes (--no-sync)", folder.c_str());
  std::printf("%8s %14s %16s %10s %20s %12s %14s\n", "batch", "raw keys/s", "log events/s", "log/raw", "log-shaped raw it/s",
              "log/shaped", "stored bytes");
  std::vector<std::string> results;
  for (const size_t batch : batch_sizes) {
    size_t stored_bytes = 0;
    Measured raw;
    Measured shaped;
    Measured log;
    {
      RawRunner raw_runner(folder + fmt::format("/raw-{}", batch), RawShape::plain, flags.sync);
      RawRunner shaped_runner(folder + fmt::format("/shaped-{}", batch), RawShape::log_shaped, flags.sync);
      LogRunner log_runner(folder + fmt::format("/log-{}", batch), flags.sync);
      for (int round = 0; round < rounds; ++round) {
        raw_runner.run(batch, flags.seconds / rounds);
        shaped_runner.run(batch, flags.seconds / rounds);
        log_runner.run(batch, flags.seconds / rounds);
      }
      raw = raw_runner.measured();
      shaped = shaped_runner.measured();
      log = log_runner.measured();
      stored_bytes = log_runner.stored_bytes();
    }
    fs::remove_all(folder + fmt::format("/raw-{}", batch));
    fs::remove_all(folder + fmt::format("/shaped-{}", batch));
    fs::remove_all(folder + fmt::format("/log-{}", batch));
    const double ratio = raw.per_second() > 0 ? log.per_second() / raw.per_second() : 0;
    const double shaped_ratio = shaped.per_second() > 0 ? log.per_second() / shaped.per_second() : 0;
    std::printf("%8zu %14.0f %16.0f %10.2f %20.0f %12.2f %14zu\n", batch, raw.per_second(), log.per_second(), ratio,
                shaped.per_second(), shaped_ratio, stored_bytes);
    std::fflush(stdout);
    results.push_back(fmt::format(
        R"({{"bench":"log_append","sync":{},"batch":{},"raw_keys_per_s":{:.0f},"raw_value_bytes":{},)"
        R"("log_events_per_s":{:.0f},"log_stored_value_bytes":{},"ratio":{:.3f},)"
        R"("log_shaped_raw_items_per_s":{:.0f},"ratio_to_log_shaped":{:.3f},"seconds":{:.2f},"raw_keys":{},)"
        R"("log_events":{},"cores":{},"cpu":"{}","load":"{}"}})",
        flags.sync, batch, raw.per_second(), raw_value_bytes, log.per_second(), stored_bytes, ratio, shaped.per_second(),
        shaped_ratio, flags.seconds, raw.items, log.items, m.cores, m.cpu, m.load_average));
  }
  for (const std::string& result : results) std::printf("RESULT %s\n", result.c_str());
  fs::remove_all(folder);
  return 0;
}
