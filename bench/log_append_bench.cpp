// Appends per second: raw RocksDB synced WriteBatch puts of 300-byte values against LogStore's
// append of realistic events (a ~150-byte `data`), at batch sizes 1, 100 and 1,000, each in a
// fresh database with the same RocksDB tuning (engine/rocksdb_tuning.h).
//
//   log_append_bench [--seconds N] [--quick] [--no-sync] [--dir PATH]
//
// Prints the machine, one human table, and one `RESULT {json}` line per batch size.
#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/big_endian.h"
#include "engine/log_store.h"
#include "engine/rocksdb_tuning.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr size_t raw_value_bytes = 300;
constexpr size_t streams_count = 50'000;  // bookings the generated commands touch, round robin
const size_t batch_sizes[] = {1, 100, 1000};

struct Flags {
  double seconds = 3;
  std::string dir = "/tmp";
  bool sync = true;  // --no-sync isolates the CPU cost from the disk's fsync latency
};

struct Machine {
  unsigned cores = 0;
  std::string cpu;
  std::string load;  // /proc/loadavg at the start: other work on the machine skews the figures
};

Machine machine() {
  Machine m;
  m.cores = std::thread::hardware_concurrency();
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.starts_with("model name")) {
      m.cpu = line.substr(line.find(':') + 2);
      break;
    }
  }
  std::ifstream loadavg("/proc/loadavg");
  std::getline(loadavg, m.load);
  m.load = m.load.substr(0, m.load.find(' ', m.load.find(' ', m.load.find(' ') + 1) + 1));
  return m;
}

bool parse_flags(int argc, char** argv, Flags* flags) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--quick") {
      flags->seconds = 0.5;
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

struct Measured {
  uint64_t items = 0;
  double seconds = 0;
  double per_second() const { return seconds > 0 ? static_cast<double>(items) / seconds : 0; }
};

// Synced WriteBatches of `batch` sequential 9-byte keys with 300-byte values.
Measured run_raw(const std::string& path, size_t batch, double seconds, bool sync) {
  const tl::RocksTuning tuning = tl::make_rocksdb_tuning(tl::LogOptions{});
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  const rocksdb::Status opened = rocksdb::DB::Open(tuning.db, path, tl::column_family_descriptors(tuning), &handles, &db);
  if (!opened.ok()) {
    std::fprintf(stderr, "raw open: %s\n", opened.ToString().c_str());
    std::exit(1);
  }
  rocksdb::WriteOptions write;
  write.sync = sync;
  std::string value(raw_value_bytes, 'v');
  std::string key;
  uint64_t next_key = 1;
  Measured measured;
  const Clock::time_point start = Clock::now();
  const Clock::time_point end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  Clock::time_point now = start;
  while (now < end) {
    rocksdb::WriteBatch write_batch;
    for (size_t i = 0; i < batch; ++i, ++next_key) {
      key.assign(1, 'e');
      tl::append_u64_be(key, next_key);
      value[0] = static_cast<char>(next_key);  // not all values identical
      write_batch.Put(handles[0], key, value);
    }
    if (!db->Write(write, &write_batch).ok()) {
      std::fprintf(stderr, "raw write failed\n");
      std::exit(1);
    }
    measured.items += batch;
    now = Clock::now();
  }
  measured.seconds = std::chrono::duration<double>(now - start).count();
  for (auto* handle : handles) db->DestroyColumnFamilyHandle(handle);
  db->Close();
  delete db;
  return measured;
}

// A group commit of `batch` commands, each appending one event to its own booking stream with
// an exact expected version (what the engine writer does).
struct LogWorkload {
  std::vector<uint32_t> versions = std::vector<uint32_t>(streams_count, 0);
  std::vector<std::string> stream_names;
  size_t next_stream = 0;
  uint64_t next_command = 0;

  LogWorkload() {
    for (size_t i = 0; i < streams_count; ++i) stream_names.push_back(fmt::format("booking-{:05}", i));
  }

  // About 150 bytes, like a PaymentCaptured event.
  static std::string data_for(uint64_t command) {
    return fmt::format(R"({{"booking_id":"bk_{:08}","amount":{{"amount":35000,"currency":"ETB"}},)"
                       R"("reference":"chapa_{:012}","tx_ref":"tx_{:012}","captured_by":"psp"}})",
                       command % 100'000'000, command, command);
  }

  tl::AppendBatch next(size_t batch, std::vector<size_t>* touched) {
    tl::AppendBatch append;
    touched->clear();
    for (size_t i = 0; i < batch; ++i) {
      const size_t stream = next_stream;
      next_stream = (next_stream + 1) % streams_count;
      ++next_command;
      tl::NewEvent event;
      event.type = "PaymentCaptured";
      event.schema = 1;
      event.at = 1'795'000'000'000 + static_cast<int64_t>(next_command);
      event.actor = fmt::format("student:s{:05}", stream);
      event.command_id = fmt::format("c-{:09}", next_command);
      event.data = data_for(next_command);
      append.streams.push_back(tl::StreamAppend{stream_names[stream], tl::ExpectedVersion::exact(versions[stream]), {std::move(event)}});
      touched->push_back(stream);
    }
    return append;
  }
};

struct LogMeasured {
  Measured measured;
  size_t stored_bytes = 0;
  double build_seconds = 0;  // time spent making the batches, excluded from `measured`
};

LogMeasured run_log(const std::string& path, size_t batch, double seconds, bool sync) {
  std::unique_ptr<tl::LogStore> log;
  tl::LogOptions options;
  options.sync = sync;
  if (tl::Status status = tl::LogStore::open(path, options, &log); !status.is_ok()) {
    std::fprintf(stderr, "log open: %s\n", status.to_string().c_str());
    std::exit(1);
  }
  LogWorkload workload;
  std::vector<size_t> touched;
  LogMeasured result;
  Clock::duration appending{};
  Clock::duration building{};
  const auto budget = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  while (appending < budget) {
    const Clock::time_point built_at = Clock::now();
    const tl::AppendBatch append = workload.next(batch, &touched);
    const Clock::time_point append_at = Clock::now();
    const tl::AppendResult appended = log->append(append);
    appending += Clock::now() - append_at;
    building += append_at - built_at;
    if (!appended.status.is_ok()) {
      std::fprintf(stderr, "append: %s\n", appended.status.to_string().c_str());
      std::exit(1);
    }
    for (const size_t stream : touched) ++workload.versions[stream];
    result.measured.items += appended.records.size();
  }
  result.measured.seconds = std::chrono::duration<double>(appending).count();
  result.build_seconds = std::chrono::duration<double>(building).count();
  // The stored size of the events (all alike but for their numbers), read back from the last one.
  size_t value_bytes = 0;
  (void)log->scan_raw(log->head().position, [&](uint64_t, std::string_view value) { return value_bytes = value.size(), false; });
  result.stored_bytes = value_bytes;
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  if (!parse_flags(argc, argv, &flags)) return 2;
  const Machine m = machine();
  std::string folder = (fs::path(flags.dir) / "tl-append-bench-XXXXXX").string();
  if (mkdtemp(folder.data()) == nullptr) {
    std::fprintf(stderr, "cannot make a folder under %s\n", flags.dir.c_str());
    return 1;
  }
  std::printf("log_append_bench: %u cores, %s; load average %s; %.1f s per case; %s; folder %s\n", m.cores,
              m.cpu.c_str(), m.load.c_str(), flags.seconds, flags.sync ? "synced writes" : "UNSYNCED writes (--no-sync)",
              folder.c_str());
  std::printf("%8s %14s %16s %10s %14s\n", "batch", "raw keys/s", "log events/s", "log/raw", "stored bytes");
  std::vector<std::string> results;
  for (const size_t batch : batch_sizes) {
    const std::string raw_path = folder + fmt::format("/raw-{}", batch);
    const std::string log_path = folder + fmt::format("/log-{}", batch);
    const Measured raw = run_raw(raw_path, batch, flags.seconds, flags.sync);
    fs::remove_all(raw_path);
    const LogMeasured log = run_log(log_path, batch, flags.seconds, flags.sync);
    fs::remove_all(log_path);
    const double ratio = raw.per_second() > 0 ? log.measured.per_second() / raw.per_second() : 0;
    std::printf("%8zu %14.0f %16.0f %10.2f %14zu\n", batch, raw.per_second(), log.measured.per_second(), ratio,
                log.stored_bytes);
    std::fflush(stdout);
    results.push_back(fmt::format(
        R"({{"bench":"log_append","sync":{},"batch":{},"raw_keys_per_s":{:.0f},"raw_value_bytes":{},"log_events_per_s":{:.0f},)"
        R"("log_stored_value_bytes":{},"ratio":{:.3f},"seconds":{:.2f},"raw_keys":{},"log_events":{},"cores":{},"cpu":"{}","load":"{}"}})",
        flags.sync, batch, raw.per_second(), raw_value_bytes, log.measured.per_second(), log.stored_bytes, ratio, flags.seconds,
        raw.items, log.measured.items, m.cores, m.cpu, m.load));
  }
  for (const std::string& result : results) std::printf("RESULT %s\n", result.c_str());
  fs::remove_all(folder);
  return 0;
}
