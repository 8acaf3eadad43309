// The replay hot path on one core: how fast events are decoded and hashed, alone (from memory)
// and through LogStore's scans of a log on disk (page cache warm: the log was just written).
//
//   log_scan_bench [--events N] [--quick] [--dir PATH]
//
// Prints the machine, one human table, and one `RESULT {json}` line per measurement.
#include <fmt/format.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/log_store.h"
#include "engine/record_codec.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr size_t build_batch_events = 1000;
constexpr size_t streams_count = 50'000;
constexpr size_t sample_values_max = 100'000;  // values kept in memory for the codec-only passes

struct Flags {
  uint64_t events = 1'000'000;
  std::string dir = "/tmp";
};

bool parse_flags(int argc, char** argv, Flags* flags) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--quick") {
      flags->events = 200'000;
    } else if (arg == "--events" && i + 1 < argc) {
      flags->events = std::stoull(argv[++i]);
    } else if (arg == "--dir" && i + 1 < argc) {
      flags->dir = argv[++i];
    } else {
      std::fprintf(stderr, "usage: log_scan_bench [--events N] [--quick] [--dir PATH]\n");
      return false;
    }
  }
  return flags->events > 0;
}

// /proc/loadavg's three averages: other work on the machine skews the figures.
std::string load_average() {
  std::ifstream loadavg("/proc/loadavg");
  std::string line;
  std::getline(loadavg, line);
  return line.substr(0, line.find(' ', line.find(' ', line.find(' ') + 1) + 1));
}

std::string cpu_model() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.starts_with("model name")) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

void die(const std::string& what) {
  std::fprintf(stderr, "%s\n", what.c_str());
  std::exit(1);
}

// The same realistic events as log_append_bench: one PaymentCaptured per booking stream.
void build_log(tl::LogStore& log, uint64_t events) {
  uint64_t command = 0;
  while (command < events) {
    tl::AppendBatch batch;
    for (size_t i = 0; i < build_batch_events && command < events; ++i) {
      ++command;
      tl::NewEvent event;
      event.type = "PaymentCaptured";
      event.at = 1'795'000'000'000 + static_cast<int64_t>(command);
      event.actor = fmt::format("student:s{:05}", command % streams_count);
      event.command_id = fmt::format("c-{:09}", command);
      event.data = fmt::format(R"({{"booking_id":"bk_{:08}","amount":{{"amount":35000,"currency":"ETB"}},)"
                               R"("reference":"chapa_{:012}","tx_ref":"tx_{:012}","captured_by":"psp"}})",
                               command % 100'000'000, command, command);
      batch.streams.push_back(tl::StreamAppend{fmt::format("booking-{:05}", command % streams_count), tl::ExpectedVersion::any(), {std::move(event)}});
    }
    if (tl::Status status = log.append(batch).status; !status.is_ok()) die("append: " + status.to_string());
  }
}

struct Row {
  std::string name;
  uint64_t events = 0;
  double seconds = 0;
  double per_second() const { return seconds > 0 ? static_cast<double>(events) / seconds : 0; }
};

template <typename F>
Row timed(std::string name, F&& run) {
  const Clock::time_point start = Clock::now();
  const uint64_t events = run();
  return Row{std::move(name), events, std::chrono::duration<double>(Clock::now() - start).count()};
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  if (!parse_flags(argc, argv, &flags)) return 2;
  const unsigned cores = std::thread::hardware_concurrency();
  const std::string cpu = cpu_model();
  const std::string load = load_average();
  std::string folder = (fs::path(flags.dir) / "tl-scan-bench-XXXXXX").string();
  if (mkdtemp(folder.data()) == nullptr) die("cannot make a folder under " + flags.dir);
  std::printf("log_scan_bench: %u cores, %s; load average %s; %llu events; folder %s\n", cores, cpu.c_str(), load.c_str(),
              static_cast<unsigned long long>(flags.events), folder.c_str());
  {
    tl::LogOptions options;
    options.sync = false;  // building the fixture only
    std::unique_ptr<tl::LogStore> log;
    if (tl::Status status = tl::LogStore::open(folder, options, &log); !status.is_ok()) die(status.to_string());
    build_log(*log, flags.events);
  }
  std::unique_ptr<tl::LogStore> log;  // reopened: the events are in SST files now
  if (tl::Status status = tl::LogStore::open(folder, tl::LogOptions{}, &log); !status.is_ok()) die(status.to_string());

  std::vector<std::string> sample;
  uint64_t stored_bytes = 0;
  (void)log->scan_raw(1, [&](uint64_t, std::string_view value) {
    stored_bytes += value.size();
    if (sample.size() < sample_values_max) sample.emplace_back(value);
    return true;
  });
  const uint64_t passes = std::max<uint64_t>(1, flags.events / sample.size());

  std::vector<Row> rows;
  tl::RecordDecoder decoder;
  tl::EventRecord record;
  rows.push_back(timed("codec decode (memory)", [&] {
    uint64_t n = 0;
    for (uint64_t pass = 0; pass < passes; ++pass) {
      for (const std::string& value : sample) n += decoder.decode(value, &record).is_ok() ? 1 : 0;
    }
    return n;
  }));
  rows.push_back(timed("codec decode+hash (memory)", [&] {
    uint64_t n = 0;
    for (uint64_t pass = 0; pass < passes; ++pass) {
      for (const std::string& value : sample) {
        if (decoder.decode(value, &record).is_ok() && decoder.compute_hash(value, record.prev_hash, record.position) == record.hash) ++n;
      }
    }
    return n;
  }));
  rows.push_back(timed("scan_raw (RocksDB only)", [&] {
    uint64_t n = 0;
    if (!log->scan_raw(1, [&](uint64_t, std::string_view) { return ++n, true; }).is_ok()) die("scan_raw failed");
    return n;
  }));
  rows.push_back(timed("scan (decode+hash+chain)", [&] {
    uint64_t n = 0;
    if (!log->scan(1, [&](const tl::EventRecord&) { return ++n, true; }).is_ok()) die("scan failed");
    return n;
  }));
  rows.push_back(timed("verify (all checks)", [&] {
    const tl::VerifyReport report = log->verify();
    if (!report.clean) die("verify: " + report.problem);
    return report.events_checked;
  }));

  const double mean_bytes = static_cast<double>(stored_bytes) / static_cast<double>(flags.events);
  std::printf("%-30s %12s %14s\n", "pass (one core)", "events", "events/s");
  for (const Row& row : rows) std::printf("%-30s %12llu %14.0f\n", row.name.c_str(), static_cast<unsigned long long>(row.events), row.per_second());
  std::printf("mean stored value: %.0f bytes\n", mean_bytes);
  for (const Row& row : rows) {
    std::printf("RESULT %s\n",
                fmt::format(R"({{"bench":"log_scan","pass":"{}","events":{},"seconds":{:.3f},"events_per_s":{:.0f},)"
                            R"("stored_value_bytes":{:.0f},"cores":{},"cpu":"{}","load":"{}"}})",
                            row.name, row.events, row.seconds, row.per_second(), mean_bytes, cores, cpu, load)
                    .c_str());
  }
  log.reset();
  fs::remove_all(folder);
  return 0;
}
