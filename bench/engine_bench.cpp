// The engine's durable commands per second (issue 4): callers at 1, 8 and 64 threads, each
// submitting one command and waiting for its reply (closed loop), or with --in-flight K keeping up
// to K commands in flight (as an HTTP I/O thread with several connections does), for two commands:
// - create: RequestBooking with a new id (one event on a new stream);
// - capture: CapturePayment of a prepared accepted and checked-out booking (two events; it moves
//   money out of the shared `external:psp` account, the hot spot of every ledger).
// Per case: commands/s, latency submit-to-reply p50/p99/p999, the engine's average batch
// (EngineStats), and, in the same run, raw RocksDB synced WriteBatches of that batch size with
// values of the bytes one command appends (same RocksDB tuning as the log): the storage limit.
// Engine and raw baseline alternate in slices, so that both see the same disk on a shared machine;
// each slice ends when its RocksDB has no flush or compaction running or due, and that wait is
// counted in its time. Raw values compress to about half, like db_bench's (CompressibleValues).
//
//   engine_bench [--threads 1,8,64] [--commands create,capture] [--seconds 3] [--quick] [--no-sync] [--no-raw]
//                [--payable N] [--in-flight K] [--dir /tmp]
// One engine per command, shared by its thread counts; capture's N bookings (100k with --quick,
// 300k otherwise) are prepared once through the engine before its first case.
//
// SystemClock; a fresh engine in a scratch folder per case, removed at the end. Prints the
// machine, one table, and one `RESULT {json}` line per case.
#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <barrier>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_common.h"
#include "bench/engine_driver.h"
#include "engine/big_endian.h"
#include "engine/clock.h"
#include "engine/engine.h"
#include "engine/rocksdb_tuning.h"

namespace {

using namespace tl;
using namespace tl::bench;
using SteadyClock = std::chrono::steady_clock;

constexpr int64_t warmup_ms = 300;  // callers run, nothing is counted yet
constexpr uint64_t latency_samples_max_per_thread = 4'000'000;
constexpr uint64_t prepare_chunk_bookings = 8'000;    // journey steps are submitted chunk by chunk
constexpr int slices_count = 3;                       // engine and raw baseline alternate this many times
constexpr double raw_seconds_max = 2;                 // in total per case: the raw baseline is steady
constexpr uint64_t payable_bookings_quick = 100'000;  // prepared once for all capture cases
constexpr uint64_t payable_bookings_full = 300'000;
constexpr uint64_t in_flight_max = 64;  // per thread: 64 threads of 64 stay far below queue_commands_max

enum class CommandKind { create, capture };

std::string_view kind_name(CommandKind kind) { return kind == CommandKind::create ? "create" : "capture"; }

struct Settings {
  std::vector<uint64_t> threads;
  std::vector<CommandKind> kinds;
  double seconds = 3;
  std::string dir = "/tmp";
  bool sync = true;  // --no-sync: isolates the CPU cost from the disk (never a headline figure)
  bool raw = true;   // --no-raw: the engine alone (for profiling with callgrind or perf)
  uint64_t in_flight = 1;  // commands each thread keeps in flight; 1 is the closed loop
  uint64_t payable_bookings = 0;
};

struct EngineRun {
  uint64_t commands = 0;
  uint64_t failures = 0;
  std::string first_failure;
  double seconds = 0;
  Percentiles latency;
  double batch_commands_avg = 0;
  double events_per_command = 0;
  double event_value_bytes_avg = 0;
  bool ran_out_of_bookings = false;    // capture: every prepared booking was used before time ran out
  uint64_t engine_commands_total = 0;  // everything the engine decided so far (to divide profiles by)
  double commands_per_s() const { return seconds > 0 ? static_cast<double>(commands) / seconds : 0; }
};

struct RawRun {
  uint64_t batch_keys = 0;
  uint64_t value_bytes = 0;
  uint64_t keys = 0;
  double seconds = 0;
  double keys_per_s() const { return seconds > 0 ? static_cast<double>(keys) / seconds : 0; }
};

EngineOptions engine_options(const std::string& data_dir, bool sync) {
  EngineOptions options;
  options.data_dir = data_dir;
  options.log.sync = sync;
  // Checkpoints are measured by recovery_bench; here they would only stall one batch at random.
  options.checkpoint_events_max = UINT64_MAX;
  options.checkpoint_interval_ms = INT64_MAX / 4;
  options.checkpoint_on_stop = false;
  return options;
}

// Accepted and checked-out bookings, ready for CapturePayment, prepared through the engine.
std::vector<BookingPlan> prepare_payable(Engine& engine, uint64_t bookings, TimeMs scheduled_start) {
  std::vector<BookingPlan> plans;
  plans.reserve(bookings);
  for (uint64_t n = 0; n < bookings; ++n) plans.push_back(booking_plan("bk-pay-", n, scheduled_start));
  Pipeline pipeline(engine);
  for (uint64_t first = 0; first < bookings; first += prepare_chunk_bookings) {
    const uint64_t last = std::min(bookings, first + prepare_chunk_bookings);
    for (uint64_t n = first; n < last; ++n) pipeline.submit(student_of(plans[n]), request_of(plans[n]));
    for (uint64_t n = first; n < last; ++n) pipeline.submit(tutor_of(plans[n]), AcceptBooking{plans[n].id});
    for (uint64_t n = first; n < last; ++n) pipeline.submit(student_of(plans[n]), Checkout{plans[n].id});
  }
  if (const uint64_t failures = pipeline.wait(); failures != 0) {
    fmt::print(stderr, "engine_bench: {} preparation commands failed, e.g. {}\n", failures, pipeline.first_failure());
    std::exit(1);
  }
  return plans;
}

// The average stored value of the last `events` events (the bytes one event costs the log).
double event_value_bytes_avg(const Engine& engine, uint64_t events) {
  const uint64_t head = engine.log().head().position;
  const uint64_t from = head > events ? head - events + 1 : 1;
  uint64_t bytes = 0;
  uint64_t seen = 0;
  (void)engine.log().scan_raw(from, [&](uint64_t, std::string_view value) {
    bytes += value.size();
    ++seen;
    return true;
  });
  return seen == 0 ? 0 : static_cast<double>(bytes) / static_cast<double>(seen);
}

struct ThreadResult {
  uint64_t commands = 0;
  uint64_t failures = 0;
  std::string first_failure;
  std::vector<int64_t> latencies_ns;
};

// Raw RocksDB on the log's own tuning: synced WriteBatches of `batch_keys` puts, sequential keys.
// What the storage engine alone can do at the engine's batch size; kept open for the whole case
// so that its slices alternate with the engine's.
class RawWriter {
 public:
  RawWriter(const std::string& path, bool sync) : sync_(sync) {
    const RocksTuning tuning = make_rocksdb_tuning(LogOptions{});
    const rocksdb::Options options(tuning.db, tuning.log);
    rocksdb::DB* opened = nullptr;
    if (const rocksdb::Status status = rocksdb::DB::Open(options, path, &opened); !status.ok()) {
      fmt::print(stderr, "engine_bench: raw RocksDB open failed: {}\n", status.ToString());
      std::exit(1);
    }
    db_.reset(opened);
  }

  // Writes for `seconds`; adds to run().
  void write_for(uint64_t batch_keys, uint64_t value_bytes, double seconds) {
    assert(batch_keys > 0 && value_bytes > 0);
    rocksdb::WriteOptions sync;
    sync.sync = sync_;
    std::string key;
    const auto start = SteadyClock::now();
    while (seconds_since(start) < seconds) {
      rocksdb::WriteBatch batch;
      for (uint64_t i = 0; i < batch_keys; ++i) {
        key.assign(1, 'e');
        append_u64_be(key, next_key_++);
        batch.Put(key, values_.next(value_bytes));
      }
      if (const rocksdb::Status status = db_->Write(sync, &batch); !status.ok()) {
        fmt::print(stderr, "engine_bench: raw write failed: {}\n", status.ToString());
        std::exit(1);
      }
      run_.keys += batch_keys;
    }
    wait_until_settled([&] { return background_work_pending(*db_, {db_->DefaultColumnFamily()}); });
    run_.seconds += seconds_since(start);
    run_.batch_keys = batch_keys;
    run_.value_bytes = value_bytes;
  }
  const RawRun& run() const { return run_; }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  bool sync_ = true;
  CompressibleValues values_;
  uint64_t next_key_ = 1;
  RawRun run_;
};

// One engine per command, shared by its thread counts (its state grows from case to case, as a
// live ledger's does). Capture's bookings are prepared once, for all its cases.
struct CommandEngine {
  std::unique_ptr<Engine> engine;
  TimeMs scheduled_start = 0;
  std::vector<BookingPlan> payable;       // capture only
  std::atomic<uint64_t> next_payable{0};  // the next unused one
};

void open_command_engine(CommandKind kind, const Settings& settings, const ScratchFolder& scratch, CommandEngine* out) {
  const std::string dir = scratch.sub(fmt::format("engine-{}", kind_name(kind)));
  if (Status status = Engine::open(engine_options(dir, settings.sync), std::make_unique<SystemClock>(), &out->engine);
      !status.is_ok()) {
    fmt::print(stderr, "engine_bench: cannot open the engine: {}\n", status.to_string());
    std::exit(1);
  }
  out->scheduled_start = out->engine->now() + 7 * ms_per_day;
  if (kind == CommandKind::capture) {
    const auto start = SteadyClock::now();
    out->payable = prepare_payable(*out->engine, settings.payable_bookings, out->scheduled_start);
    fmt::print("  (prepared {} accepted and checked-out bookings for capture in {:.1f} s)\n", out->payable.size(),
               seconds_since(start));
    std::fflush(stdout);
  }
}

// One case: the engine under `threads` callers, measured in `slices_count` slices;
// between them the callers pause and the raw baseline writes for as long, at the engine's
// average batch so far. Alternating keeps both under the same disk conditions on a shared machine.
std::pair<EngineRun, RawRun> run_case(CommandKind kind, uint64_t threads, CommandEngine& shared,
                                      const Settings& settings, const ScratchFolder& scratch) {
  Engine* engine = shared.engine.get();
  // What RocksDB still owes for earlier writes (capture's prepared bookings) is done before the
  // clock starts: that work is not this case's.
  wait_until_settled([&] { return engine->log().background_work_pending(); });
  const std::string name = fmt::format("{}-{}", kind_name(kind), threads);
  RawWriter raw(scratch.sub("raw-" + name), settings.sync);
  const TimeMs scheduled_start = shared.scheduled_start;
  const std::vector<BookingPlan>& payable = shared.payable;
  std::atomic<uint64_t>& next_payable = shared.next_payable;
  // When capture's prepared bookings run out, the case ends early and says so.
  auto out_of_bookings = [&] { return kind == CommandKind::capture && next_payable.load() >= payable.size(); };

  std::atomic<bool> measuring{false};
  std::atomic<bool> paused{false};
  std::atomic<uint64_t> parked{0};  // callers waiting while paused (or finished)
  std::atomic<bool> stopping{false};
  std::vector<ThreadResult> results(threads);
  std::barrier start_line(static_cast<std::ptrdiff_t>(threads + 1));
  std::vector<std::thread> callers;
  for (uint64_t t = 0; t < threads; ++t) {
    callers.emplace_back([&, t] {
      Caller caller(*engine);
      WindowCaller window(*engine, settings.in_flight, latency_samples_max_per_thread);
      ThreadResult& result = results[t];
      result.latencies_ns.reserve(std::min<uint64_t>(latency_samples_max_per_thread, 1u << 20));
      start_line.arrive_and_wait();
      for (uint64_t n = 0; !stopping.load(std::memory_order_relaxed); ++n) {
        if (paused.load()) {
          window.drain();  // nothing of the engine's may overlap the raw baseline's slice
          parked.fetch_add(1);
          paused.wait(true);
          parked.fetch_sub(1);
          continue;
        }
        Actor actor;
        CommandBody body;
        if (kind == CommandKind::create) {
          const BookingPlan plan = booking_plan(fmt::format("bk-{}-{}-", threads, t), n, scheduled_start);
          actor = student_of(plan);
          body = request_of(plan);
        } else {
          const uint64_t index = next_payable.fetch_add(1, std::memory_order_relaxed);
          if (index >= payable.size()) break;
          actor = system_actor();
          body = capture_of(payable[index]);
        }
        if (settings.in_flight > 1) {
          if (!window.submit(actor, std::move(body), fmt::format("c-{}-{}", t, n), measuring) && measuring.load()) {
            if (result.failures++ == 0) result.first_failure = "not queued";
          }
          continue;
        }
        const auto submitted = SteadyClock::now();
        const std::optional<Reply> reply = caller.call(actor, std::move(body), fmt::format("c-{}-{}", t, n));
        const auto replied = SteadyClock::now();
        if (!measuring.load(std::memory_order_relaxed)) continue;
        ++result.commands;
        if (!reply || !success(*reply)) {
          if (result.failures++ == 0)
            result.first_failure = reply ? fmt::format("{} {}", reply->status, reply->body) : "not queued";
        }
        if (result.latencies_ns.size() < latency_samples_max_per_thread) {
          result.latencies_ns.push_back(
              std::chrono::duration_cast<std::chrono::nanoseconds>(replied - submitted).count());
        }
      }
      window.drain();
      result.commands += window.replies();
      result.failures += window.failures();
      if (result.first_failure.empty()) result.first_failure = window.first_failure();
      result.latencies_ns.insert(result.latencies_ns.end(), window.latencies_ns().begin(), window.latencies_ns().end());
      parked.fetch_add(1);  // finished callers count as parked
    });
  }
  start_line.arrive_and_wait();
  std::this_thread::sleep_for(std::chrono::milliseconds(warmup_ms));

  const EngineStats& stats = engine->stats();
  EngineRun run;
  uint64_t commands_engine = 0;
  uint64_t batches = 0;
  uint64_t events = 0;
  const double slice_seconds = settings.seconds / slices_count;
  for (int slice = 0; slice < slices_count && !out_of_bookings(); ++slice) {
    const uint64_t commands_before = stats.commands_total.load();
    const uint64_t batches_before = stats.batches_total.load();
    const uint64_t events_before = stats.events_total.load();
    const auto slice_start = SteadyClock::now();
    measuring = true;
    while (seconds_since(slice_start) < slice_seconds && !out_of_bookings()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    measuring = false;
    run.seconds += seconds_since(slice_start);
    commands_engine += stats.commands_total.load() - commands_before;
    batches += stats.batches_total.load() - batches_before;
    events += stats.events_total.load() - events_before;

    paused = true;
    while (parked.load() < threads) std::this_thread::sleep_for(std::chrono::microseconds(200));
    // The flushes and compactions this slice's writes caused are part of its cost (and must not
    // run during the raw baseline's slice).
    run.seconds += wait_until_settled([&] { return engine->log().background_work_pending(); });
    const double batch_avg = batches == 0 ? 1 : static_cast<double>(commands_engine) / static_cast<double>(batches);
    const double events_per_command =
        commands_engine == 0 ? 1 : static_cast<double>(events) / static_cast<double>(commands_engine);
    const uint64_t value_bytes =
        static_cast<uint64_t>(std::llround(event_value_bytes_avg(*engine, 2'000) * events_per_command));
    if (settings.raw) {
      raw.write_for(std::max<uint64_t>(1, static_cast<uint64_t>(std::llround(batch_avg))),
                    std::max<uint64_t>(1, value_bytes), std::min(slice_seconds, raw_seconds_max / slices_count));
    }
    paused = false;
    paused.notify_all();
  }
  run.ran_out_of_bookings = out_of_bookings();
  stopping = true;
  paused = false;
  paused.notify_all();
  for (auto& caller : callers) caller.join();

  std::vector<int64_t> latencies;
  for (ThreadResult& result : results) {
    run.commands += result.commands;
    run.failures += result.failures;
    if (run.first_failure.empty()) run.first_failure = result.first_failure;
    latencies.insert(latencies.end(), result.latencies_ns.begin(), result.latencies_ns.end());
  }
  run.latency = percentiles(latencies);
  run.batch_commands_avg = batches == 0 ? 0 : static_cast<double>(commands_engine) / static_cast<double>(batches);
  run.events_per_command =
      commands_engine == 0 ? 0 : static_cast<double>(events) / static_cast<double>(commands_engine);
  run.event_value_bytes_avg = event_value_bytes_avg(*engine, 10'000);
  run.engine_commands_total = stats.commands_total.load();
  return {run, raw.run()};
}

// 0 when the raw baseline did not run (--no-raw).
double engine_over_raw(const EngineRun& run, const RawRun& raw) {
  return raw.keys_per_s() > 0 ? run.commands_per_s() / raw.keys_per_s() : 0;
}

void print_header() {
  fmt::print("{:<8} {:>7} {:>11} {:>9} {:>9} {:>9} {:>9} {:>10} {:>10} {:>11} {:>11} {:>9}\n", "command", "threads",
             "commands/s", "p50 us", "p99 us", "p999 us", "batch avg", "events/cmd", "bytes/cmd", "raw batch",
             "raw keys/s", "eng/raw");
}

void print_row(CommandKind kind, uint64_t threads, const EngineRun& run, const RawRun& raw) {
  fmt::print("{:<8} {:>7} {:>11.0f} {:>9.0f} {:>9.0f} {:>9.0f} {:>9.1f} {:>10.2f} {:>10} {:>11} {:>11.0f} {:>8.0f}%\n",
             kind_name(kind), threads, run.commands_per_s(), run.latency.p50_us, run.latency.p99_us,
             run.latency.p999_us, run.batch_commands_avg, run.events_per_command, raw.value_bytes, raw.batch_keys,
             raw.keys_per_s(), 100 * engine_over_raw(run, raw));
}

std::string result_json(const Machine& m, CommandKind kind, uint64_t threads, const EngineRun& run, const RawRun& raw,
                        bool sync, uint64_t in_flight) {
  return fmt::format(R"({{"bench":"engine","command":"{}","threads":{},"seconds":{:.3f},"commands":{},"failures":{},)"
                     R"("commands_per_s":{:.0f},"p50_us":{:.1f},"p99_us":{:.1f},"p999_us":{:.1f},"max_us":{:.1f},)"
                     R"("batch_commands_avg":{:.2f},"events_per_command":{:.3f},"event_value_bytes_avg":{:.1f},)"
                     R"("ran_out_of_bookings":{},"raw_batch_keys":{},"raw_value_bytes":{},"raw_keys_per_s":{:.0f},)"
                     R"("engine_over_raw":{:.3f},"sync":{},"in_flight":{},"engine_commands_total":{},{}}})",
                     kind_name(kind), threads, run.seconds, run.commands, run.failures, run.commands_per_s(),
                     run.latency.p50_us, run.latency.p99_us, run.latency.p999_us, run.latency.max_us,
                     run.batch_commands_avg, run.events_per_command, run.event_value_bytes_avg,
                     run.ran_out_of_bookings ? "true" : "false", raw.batch_keys, raw.value_bytes, raw.keys_per_s(),
                     engine_over_raw(run, raw), sync ? "true" : "false", in_flight, run.engine_commands_total,
                     machine_json_fields(m));
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags(argc, argv);
  Settings settings;
  const bool quick = flags.has("--quick");
  settings.seconds = flags.number("--seconds", quick ? 1 : 3);
  settings.threads = flags.numbers("--threads", {1, 8, 64});
  settings.dir = flags.text("--dir", "/tmp");
  settings.sync = !flags.has("--no-sync");
  settings.raw = !flags.has("--no-raw");
  settings.in_flight = static_cast<uint64_t>(flags.number("--in-flight", 1));
  settings.payable_bookings =
      static_cast<uint64_t>(flags.number("--payable", quick ? payable_bookings_quick : payable_bookings_full));
  const std::string commands = flags.text("--commands", "create,capture");
  if (commands.find("create") != std::string::npos) settings.kinds.push_back(CommandKind::create);
  if (commands.find("capture") != std::string::npos) settings.kinds.push_back(CommandKind::capture);
  if (settings.in_flight < 1 || settings.in_flight > in_flight_max) {
    fmt::print(stderr, "engine_bench: --in-flight must be from 1 to {}\n", in_flight_max);
    return 2;
  }
  if (const std::string bad = flags.unknown(); !bad.empty() || settings.kinds.empty()) {
    fmt::print(stderr,
               "engine_bench: unknown argument {}\nusage: engine_bench [--threads 1,8,64] [--commands create,capture] "
               "[--seconds 3] [--quick] [--no-sync] [--no-raw] [--payable N] [--in-flight 1..{}] [--dir /tmp]\n",
               bad, in_flight_max);
    return 2;
  }

  const Machine m = machine();
  const ScratchFolder scratch(settings.dir, "engine-bench");
  fmt::print(
      "engine_bench: {}\n{}, {:.1f} s per case "
      "after {} ms warm-up, SystemClock, {}; scratch {}\n\n",
      describe(m),
      settings.in_flight == 1
          ? std::string("closed loop (each thread submits one command and waits for its reply)")
          : fmt::format("{} commands in flight per thread (each thread waits only when that many await replies)",
                        settings.in_flight),
      settings.seconds, warmup_ms,
      settings.sync ? "synced group commit" : "UNSYNCED writes (--no-sync: CPU cost only)", scratch.path().string());
  std::fflush(stdout);

  std::vector<std::string> results;
  int exit_code = 0;
  for (const CommandKind kind : settings.kinds) {
    CommandEngine shared;
    open_command_engine(kind, settings, scratch, &shared);
    for (const uint64_t threads : settings.threads) {
      const auto [run, raw] = run_case(kind, threads, shared, settings, scratch);
      if (results.empty()) print_header();
      print_row(kind, threads, run, raw);
      std::fflush(stdout);
      if (run.failures != 0) {
        fmt::print(stderr, "engine_bench: {} of {} commands failed, e.g. {}\n", run.failures, run.commands,
                   run.first_failure);
        exit_code = 1;
      }
      if (run.ran_out_of_bookings) fmt::print("  (capture used every prepared booking after {:.2f} s)\n", run.seconds);
      results.push_back(result_json(m, kind, threads, run, raw, settings.sync, settings.in_flight));
    }
  }
  fmt::print(
      "\nbytes/cmd: stored event bytes one command appends (the raw puts use values of that size, one put per "
      "command);\neng/raw: engine commands/s over raw synced RocksDB keys/s at the engine's average batch size.\n\n");
  for (const std::string& result : results) fmt::print("RESULT {}\n", result);
  return exit_code;
}
