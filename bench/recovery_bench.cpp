// Start-up time (Engine::open) of a log of N events, without a checkpoint (every event replayed:
// decoded, hash-checked, evolved) and with one (the checkpoint loaded, the tail replayed), plus
// the time to write that checkpoint (issue 7, item 6).
//
//   recovery_bench [--events 1000000,10000000] [--quick] [--dir /tmp] [--reuse DIR]    (--quick: 100,000)
//
// The log is written through the engine itself, with a test clock: whole booking journeys
// (requested ... escrow released by its timer, 9 events each) in waves of `wave_bookings`; the
// clock moves 25 h per wave to fire the releases. Caches are warm (the log was just written):
// this is a restart of a process, not a cold boot of the machine.
#include <fmt/format.h>

#include <cassert>
#include <cstdio>
#include <future>
#include <string>

#include "bench/bench_common.h"
#include "bench/engine_driver.h"
#include "engine/clock.h"
#include "engine/engine.h"
#include "engine/recovery.h"

namespace {

using namespace tl;
using namespace tl::bench;
using SteadyClock = std::chrono::steady_clock;

constexpr uint64_t wave_bookings = 10'000;
constexpr uint64_t events_per_journey = 9;
constexpr TimeMs generation_start = 1795514400000;  // 2026-11-24T10:00:00Z

struct Generated {
  uint64_t events = 0;
  uint64_t bookings = 0;
  double seconds = 0;
  uint64_t disk_bytes = 0;
};

struct OpenTiming {
  double seconds = 0;  // wall time of Engine::open
  RecoveryReport report;
};

EngineOptions options_for(const std::string& dir) {
  EngineOptions options;
  options.data_dir = dir;
  options.checkpoint_events_max = UINT64_MAX;  // checkpoints only where this program asks
  options.checkpoint_interval_ms = INT64_MAX / 4;
  options.checkpoint_on_stop = false;
  return options;
}

std::unique_ptr<Engine> open_or_die(const std::string& dir, std::unique_ptr<Clock> clock) {
  std::unique_ptr<Engine> engine;
  if (Status status = Engine::open(options_for(dir), std::move(clock), &engine); !status.is_ok()) {
    fmt::print(stderr, "recovery_bench: open failed: {}\n", status.to_string());
    std::exit(1);
  }
  return engine;
}

void wait_for_clock(Engine& engine, TimeMs to) {
  std::promise<Status> advanced;
  auto result = advanced.get_future();
  engine.advance_clock(to, [&advanced](Status status, TimeMs) { advanced.set_value(status); });
  if (Status status = result.get(); !status.is_ok()) {
    fmt::print(stderr, "recovery_bench: advancing the clock failed: {}\n", status.to_string());
    std::exit(1);
  }
}

Generated generate(const std::string& dir, uint64_t events_wanted) {
  const auto start = SteadyClock::now();
  std::unique_ptr<Engine> engine = open_or_die(dir, std::make_unique<ManualClock>(generation_start));
  Generated generated;
  const uint64_t bookings = (events_wanted + events_per_journey - 1) / events_per_journey;
  for (uint64_t first = 0; first < bookings; first += wave_bookings) {
    const uint64_t last = std::min(bookings, first + wave_bookings);
    const TimeMs now = engine->now();
    std::vector<BookingPlan> plans;
    for (uint64_t n = first; n < last; ++n) plans.push_back(booking_plan("bk_", n, now + ms_per_minute));
    {
      Pipeline pipeline(*engine);
      for (const auto& plan : plans) pipeline.submit(student_of(plan), request_of(plan));
      for (const auto& plan : plans) pipeline.submit(tutor_of(plan), AcceptBooking{plan.id});
      for (const auto& plan : plans) pipeline.submit(student_of(plan), Checkout{plan.id});
      for (const auto& plan : plans) pipeline.submit(system_actor(), capture_of(plan));
      for (const auto& plan : plans) pipeline.submit(student_of(plan), StartSession{plan.id});
      for (const auto& plan : plans) pipeline.submit(tutor_of(plan), EndSession{plan.id, "Covered chapter 3."});
      if (const uint64_t failures = pipeline.wait(); failures != 0) {
        fmt::print(stderr, "recovery_bench: {} commands failed, e.g. {}\n", failures, pipeline.first_failure());
        std::exit(1);
      }
    }
    wait_for_clock(*engine, now + 25 * ms_per_hour);  // every release of the wave fires
    if (engine->stats().timers_pending.load() != 0) {
      fmt::print(stderr, "recovery_bench: {} timers still pending after a wave\n",
                 engine->stats().timers_pending.load());
      std::exit(1);
    }
    std::fprintf(stderr, "\r  generating: %llu of %llu bookings", static_cast<unsigned long long>(last),
                 static_cast<unsigned long long>(bookings));
  }
  std::fprintf(stderr, "\n");
  generated.events = engine->log().head().position;
  generated.bookings = bookings;
  engine->stop();
  generated.seconds = seconds_since(start);
  generated.disk_bytes = folder_bytes(dir);
  return generated;
}

OpenTiming timed_open(const std::string& dir, std::unique_ptr<Engine>* out) {
  const auto start = SteadyClock::now();
  *out = open_or_die(dir, std::make_unique<SystemClock>());
  OpenTiming timing;
  timing.seconds = seconds_since(start);
  timing.report = (*out)->recovery();
  return timing;
}

// Where an open's time went (RecoveryReport's phases), one line.
std::string phases(const RecoveryReport& r) {
  return fmt::format("rocksdb open {} ms, checkpoint read {} ms, decode {} ms, state hash {} ms, tail {} ms ({} events), "
                     "invariants {} ms, timers {} ms",
                     r.log_open_ms, r.checkpoint_read_ms, r.checkpoint_decode_ms, r.checkpoint_hash_ms, r.tail_ms,
                     r.events_replayed, r.invariants_ms, r.timers_ms);
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags(argc, argv);
  const bool quick = flags.has("--quick");
  const std::vector<uint64_t> sizes =
      flags.numbers("--events", quick ? std::vector<uint64_t>{100'000} : std::vector<uint64_t>{1'000'000, 10'000'000});
  const std::string parent = flags.text("--dir", "/tmp");
  // --reuse DIR: logs stay in DIR/log-N between runs and are generated only once (for working on
  // start-up itself); only the opens are timed then.
  const std::string reuse = flags.text("--reuse", "");
  if (const std::string bad = flags.unknown(); !bad.empty()) {
    fmt::print(stderr,
               "recovery_bench: unknown argument {}\nusage: recovery_bench [--events N,M] [--quick] [--dir /tmp] [--reuse DIR]\n",
               bad);
    return 2;
  }
  const Machine m = machine();
  const ScratchFolder scratch(parent, "recovery-bench");
  fmt::print(
      "recovery_bench: {}\nEngine::open wall time over logs of booking journeys (9 events each), warm page "
      "cache; scratch {}\n\n",
      describe(m), scratch.path().string());
  std::fflush(stdout);

  std::vector<std::string> results;
  for (const uint64_t events : sizes) {
    if (!reuse.empty()) {
      const std::string dir = fmt::format("{}/log-{}", reuse, events);
      if (!std::filesystem::exists(dir)) generate(dir, events);
      std::unique_ptr<Engine> engine;
      const OpenTiming first = timed_open(dir, &engine);
      fmt::print("open {:.3f} s (checkpoint used: {}): {}\n", first.seconds, first.report.checkpoint_used, phases(first.report));
      if (!first.report.checkpoint_used) {
        std::promise<Status> written;
        engine->checkpoint([&written](Status status) { written.set_value(status); });
        if (Status status = written.get_future().get(); !status.is_ok()) return 1;
        engine->stop();
        engine.reset();
        const OpenTiming again = timed_open(dir, &engine);
        fmt::print("open {:.3f} s (checkpoint used: {}): {}\n", again.seconds, again.report.checkpoint_used, phases(again.report));
      }
      engine->stop();
      continue;
    }
    const std::string dir = scratch.sub(fmt::format("log-{}", events));
    const Generated generated = generate(dir, events);

    std::unique_ptr<Engine> engine;
    const OpenTiming cold = timed_open(dir, &engine);  // no checkpoint exists yet
    const auto checkpoint_start = SteadyClock::now();
    std::promise<Status> written;
    auto written_future = written.get_future();
    engine->checkpoint([&written](Status status) { written.set_value(status); });
    if (Status status = written_future.get(); !status.is_ok()) {
      fmt::print(stderr, "recovery_bench: checkpoint failed: {}\n", status.to_string());
      return 1;
    }
    const double checkpoint_s = seconds_since(checkpoint_start);
    // What a scheduled checkpoint costs the writer: only the snapshot (the state's dump); hashing
    // and writing it run beside the writer (engine/engine.cpp).
    const double writer_pause_s = engine->read([](const State& state) {
      const auto start = SteadyClock::now();
      const Checkpoint snapshot = snapshot_checkpoint(state, Digest{});
      assert(!snapshot.payload.empty());
      return seconds_since(start);
    });
    engine->stop();
    engine.reset();
    const OpenTiming warm = timed_open(dir, &engine);
    engine->stop();
    engine.reset();
    if (cold.report.checkpoint_used || !warm.report.checkpoint_used ||
        cold.report.events_replayed != generated.events) {
      fmt::print(stderr,
                 "recovery_bench: unexpected recovery: without checkpoint used={} replayed={}, with used={} ({})\n",
                 cold.report.checkpoint_used, cold.report.events_replayed, warm.report.checkpoint_used,
                 warm.report.checkpoint_discarded);
      return 1;
    }
    if (results.empty()) {
      fmt::print("{:>10} {:>9} {:>10} {:>12} {:>14} {:>13} {:>14} {:>12} {:>14}\n", "events", "bookings", "log MB",
                 "generate s", "open no ckpt s", "replay ev/s", "open w/ ckpt s", "ckpt write s", "writer pause s");
    }
    fmt::print("{:>10} {:>9} {:>10.0f} {:>12.1f} {:>14.3f} {:>13.0f} {:>14.3f} {:>12.3f} {:>14.3f}\n", generated.events,
               generated.bookings, static_cast<double>(generated.disk_bytes) / 1e6, generated.seconds, cold.seconds,
               static_cast<double>(generated.events) / cold.seconds, warm.seconds, checkpoint_s, writer_pause_s);
    fmt::print("  without checkpoint: {}\n  with checkpoint:    {}\n", phases(cold.report), phases(warm.report));
    std::fflush(stdout);
    results.push_back(fmt::format(
        R"({{"bench":"recovery","events":{},"bookings":{},"log_bytes":{},"generate_seconds":{:.3f},)"
        R"("open_without_checkpoint_seconds":{:.4f},"replay_events_per_s":{:.0f},"open_with_checkpoint_seconds":{:.4f},)"
        R"("checkpoint_write_seconds":{:.4f},"checkpoint_writer_pause_seconds":{:.4f},"timers_scheduled":{},{}}})",
        generated.events, generated.bookings, generated.disk_bytes, generated.seconds, cold.seconds,
        static_cast<double>(generated.events) / cold.seconds, warm.seconds, checkpoint_s, writer_pause_s,
        warm.report.timers_scheduled,
        machine_json_fields(m)));
    std::filesystem::remove_all(dir);
  }
  fmt::print("\n");
  for (const std::string& result : results) fmt::print("RESULT {}\n", result);
  return 0;
}
