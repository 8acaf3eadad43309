#pragma once
// Shared by the benchmark programs: what machine this is, latency percentiles, a scratch folder
// removed at the end, and the small flag parser every program uses. Header-only, because every
// bench/*_bench.cpp is its own program (bench/CMakeLists.txt) and there is no bench library.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "projections/json_text.h"

namespace tl::bench {

struct Machine {
  unsigned cores = 0;
  std::string cpu = "unknown";
  uint64_t memory_bytes = 0;
  std::string load_average;  // "1m 5m 15m" at the start: the machine may be shared
};

inline Machine machine() {
  Machine m;
  m.cores = std::thread::hardware_concurrency();
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.starts_with("model name")) {
      m.cpu = line.substr(line.find(':') + 2);
      break;
    }
  }
  std::ifstream meminfo("/proc/meminfo");
  for (std::string line; std::getline(meminfo, line);) {
    if (line.starts_with("MemTotal:")) m.memory_bytes = std::strtoull(line.c_str() + 9, nullptr, 10) * 1024;
  }
  std::ifstream loadavg("/proc/loadavg");
  std::string one, five, fifteen;
  loadavg >> one >> five >> fifteen;
  m.load_average = one + " " + five + " " + fifteen;
  return m;
}

inline std::string describe(const Machine& m) {
  return fmt::format("{} cores, {}, {:.1f} GiB, load average {}", m.cores, m.cpu,
                     static_cast<double>(m.memory_bytes) / (1ull << 30), m.load_average);
}

// `"cores":2,"cpu":"...","memory_bytes":...,"load_average":"..."` (no braces: for embedding).
inline std::string machine_json_fields(const Machine& m) {
  std::string out = fmt::format(R"("cores":{},"cpu":)", m.cores);
  json::append_string(out, m.cpu);
  out += fmt::format(R"(,"memory_bytes":{},"load_average":)", m.memory_bytes);
  json::append_string(out, m.load_average);
  return out;
}

// Resident set size of this process, from /proc/self/statm.
inline uint64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size_pages = 0;
  uint64_t resident_pages = 0;
  statm >> size_pages >> resident_pages;
  return resident_pages * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

struct Percentiles {
  uint64_t samples = 0;
  double p50_us = 0;
  double p99_us = 0;
  double p999_us = 0;
  double max_us = 0;
};

// Nearest-rank percentiles of latencies in nanoseconds (sorts the vector).
inline Percentiles percentiles(std::vector<int64_t>& nanos) {
  Percentiles p;
  p.samples = nanos.size();
  if (nanos.empty()) return p;
  std::sort(nanos.begin(), nanos.end());
  auto at = [&](double q) {
    const size_t rank = static_cast<size_t>(q * static_cast<double>(nanos.size()));
    return static_cast<double>(nanos[std::min(rank, nanos.size() - 1)]) / 1e3;
  };
  p.p50_us = at(0.50);
  p.p99_us = at(0.99);
  p.p999_us = at(0.999);
  p.max_us = static_cast<double>(nanos.back()) / 1e3;
  return p;
}

// A fresh folder under `parent`, removed with everything in it when this goes out of scope.
class ScratchFolder {
 public:
  ScratchFolder(const std::string& parent, std::string_view name) {
    path_ = std::filesystem::path(parent) / fmt::format("tl-{}-{}", name, getpid());
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchFolder() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchFolder(const ScratchFolder&) = delete;
  ScratchFolder& operator=(const ScratchFolder&) = delete;

  // A sub-folder name for one case (not created: RocksDB creates it).
  std::string sub(std::string_view name) const { return (path_ / std::string(name)).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Bytes used by everything under `folder` (the log's size on disk).
inline uint64_t folder_bytes(const std::filesystem::path& folder) {
  uint64_t total = 0;
  std::error_code error;
  for (auto it = std::filesystem::recursive_directory_iterator(folder, error);
       !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
    if (it->is_regular_file(error)) total += it->file_size(error);
  }
  return total;
}

// How long a benchmark waits at most for RocksDB's background work after a timed slice.
constexpr double settle_seconds_max = 60;

// Polls `pending()` every millisecond until it is false (or settle_seconds_max passed) and
// returns the seconds waited. Benchmarks that alternate RocksDB databases call it after each
// timed slice with "flush or compaction running or due" and count the wait in that slice: a run
// pays for the storage work its own writes caused, not for the one its neighbour left behind.
template <class Pending>
double wait_until_settled(Pending&& pending) {
  const auto start = std::chrono::steady_clock::now();
  while (pending() && seconds_since(start) < settle_seconds_max) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return seconds_since(start);
}

// Values for the raw RocksDB baselines that compress to about half their size, like db_bench's
// default values (--compression_ratio=0.5): every 100-byte piece of a 1 MiB pool is 50 random
// printable bytes written twice, and each value is the next window of the pool. A value of one
// repeated byte would compress to nothing and make RocksDB's flushes and compactions nearly
// free, which no real data gets (the log's events are JSON with 64-digit hex hashes).
class CompressibleValues {
 public:
  static constexpr size_t pool_bytes = 1 << 20;
  static constexpr size_t piece_bytes = 100;

  explicit CompressibleValues(uint64_t seed = 20261202) : pool_(pool_bytes, ' ') {
    uint64_t state = seed;
    for (size_t piece = 0; piece + piece_bytes <= pool_.size(); piece += piece_bytes) {
      for (size_t i = 0; i < piece_bytes / 2; ++i) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;  // an LCG: speed, not quality
        const char printable = static_cast<char>(' ' + (state >> 33) % 95);
        pool_[piece + i] = printable;
        pool_[piece + piece_bytes / 2 + i] = printable;
      }
    }
  }

  // The next `bytes` bytes of the pool (valid until the next call), wrapping to its start.
  std::string_view next(size_t bytes) {
    assert(bytes <= pool_.size());
    if (offset_ + bytes > pool_.size()) offset_ = 0;
    const std::string_view value(pool_.data() + offset_, bytes);
    offset_ += bytes;
    return value;
  }

 private:
  std::string pool_;
  size_t offset_ = 0;
};

// `--name value` and `--flag` arguments; anything unknown is an error the caller reports.
class Flags {
 public:
  Flags(int argc, char** argv) : args_(argv + 1, argv + argc), used_(args_.size(), false) {}

  bool has(std::string_view flag) {
    for (size_t i = 0; i < args_.size(); ++i) {
      if (args_[i] == flag) return used_[i] = true;
    }
    return false;
  }
  std::string text(std::string_view flag, std::string fallback) {
    for (size_t i = 0; i + 1 < args_.size(); ++i) {
      if (args_[i] == flag) {
        used_[i] = used_[i + 1] = true;
        return args_[i + 1];
      }
    }
    return fallback;
  }
  double number(std::string_view flag, double fallback) {
    const std::string value = text(flag, "");
    return value.empty() ? fallback : std::strtod(value.c_str(), nullptr);
  }
  // Comma-separated positive integers, e.g. "1,8,64".
  std::vector<uint64_t> numbers(std::string_view flag, std::vector<uint64_t> fallback) {
    const std::string value = text(flag, "");
    if (value.empty()) return fallback;
    std::vector<uint64_t> out;
    for (size_t start = 0; start <= value.size();) {
      const size_t comma = std::min(value.find(',', start), value.size());
      out.push_back(std::strtoull(value.substr(start, comma - start).c_str(), nullptr, 10));
      start = comma + 1;
    }
    return out;
  }
  // The first argument nobody asked for, or empty when all were understood.
  std::string unknown() const {
    for (size_t i = 0; i < args_.size(); ++i) {
      if (!used_[i]) return args_[i];
    }
    return {};
  }

 private:
  std::vector<std::string> args_;
  std::vector<bool> used_;
};

}  // namespace tl::bench
