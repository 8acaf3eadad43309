// How late the engine releases escrows with the real clock (issue 7, item 7): N sessions end over
// a few seconds through a real engine (SystemClock, escrow_hold_ms shortened to 2 s), so N
// releases fall due over those seconds; lateness = `at` of EscrowReleased minus its release_at
// (from EscrowReleaseScheduled). Two cases: the engine otherwise idle, and the engine busy with
// closed-loop callers creating bookings the whole time. The seed design's hourly cron is the
// comparison: uniformly up to 60 min late, p50 30 min, p99 59.4 min by construction.
//
//   release_lateness_bench [--releases 20000] [--spread-seconds 3] [--hold-ms 2000]
//                          [--load-threads 8] [--quick] [--dir /tmp]
#include <fmt/format.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <unordered_map>

#include "bench/bench_common.h"
#include "bench/engine_driver.h"
#include "engine/clock.h"
#include "engine/engine.h"
#include "engine/event_codec.h"

namespace {

using namespace tl;
using namespace tl::bench;

constexpr int end_slices = 30;                     // sessions end in this many slices over the spread
constexpr int64_t release_wait_extra_ms = 20'000;  // give up this long after the last release is due
constexpr size_t read_page_events = 10'000;

struct Settings {
  uint64_t releases = 20'000;
  double spread_seconds = 3;
  TimeMs hold_ms = 2000;
  uint64_t load_threads = 8;
  std::string dir = "/tmp";
};

struct CaseResult {
  std::string name;
  uint64_t releases = 0;
  uint64_t load_commands = 0;
  double load_seconds = 0;
  Percentiles lateness;  // in microseconds of ms-resolution values
};

// release_at per booking from EscrowReleaseScheduled, lateness from EscrowReleased.
std::vector<int64_t> lateness_ns(const Engine& engine) {
  std::unordered_map<std::string, TimeMs> due;
  std::vector<int64_t> late;
  std::vector<EventRecord> page;
  for (uint64_t from = 1;; from += page.size()) {
    page.clear();
    if (Status status = engine.log().read_all(from, read_page_events, &page); !status.is_ok() || page.empty()) break;
    for (const EventRecord& record : page) {
      if (record.type != "EscrowReleaseScheduled" && record.type != "EscrowReleased") continue;
      Event event;
      if (!decode_event(record, &event).is_ok()) continue;
      if (const auto* scheduled = std::get_if<EscrowReleaseScheduled>(&event.data)) {
        due[scheduled->booking_id] = scheduled->release_at;
      } else if (const auto* released = std::get_if<EscrowReleased>(&event.data)) {
        late.push_back((event.at - due.at(released->booking_id)) * 1'000'000);
      }
    }
  }
  return late;
}

CaseResult run_case(const Settings& settings, bool loaded, const ScratchFolder& scratch) {
  EngineOptions options;
  options.data_dir = scratch.sub(loaded ? "loaded" : "idle");
  options.policy.escrow_hold_ms = settings.hold_ms;
  options.checkpoint_on_stop = false;
  std::unique_ptr<Engine> engine;
  if (Status status = Engine::open(options, std::make_unique<SystemClock>(), &engine); !status.is_ok()) {
    fmt::print(stderr, "release_lateness_bench: open failed: {}\n", status.to_string());
    std::exit(1);
  }
  std::vector<BookingPlan> plans;
  for (uint64_t n = 0; n < settings.releases; ++n)
    plans.push_back(booking_plan("bk_", n, engine->now() + ms_per_minute));
  Pipeline pipeline(*engine);
  for (const auto& plan : plans) pipeline.submit(student_of(plan), request_of(plan));
  for (const auto& plan : plans) pipeline.submit(tutor_of(plan), AcceptBooking{plan.id});
  for (const auto& plan : plans) pipeline.submit(student_of(plan), Checkout{plan.id});
  for (const auto& plan : plans) pipeline.submit(system_actor(), capture_of(plan));
  for (const auto& plan : plans) pipeline.submit(student_of(plan), StartSession{plan.id});
  if (pipeline.wait() != 0) {
    fmt::print(stderr, "release_lateness_bench: preparation failed: {}\n", pipeline.first_failure());
    std::exit(1);
  }

  std::atomic<bool> stopping{false};
  std::atomic<uint64_t> load_commands{0};
  std::vector<std::thread> load;
  const auto load_start = std::chrono::steady_clock::now();
  for (uint64_t t = 0; loaded && t < settings.load_threads; ++t) {
    load.emplace_back([&, t] {
      Caller caller(*engine);
      const TimeMs start = engine->now() + 7 * ms_per_day;
      for (uint64_t n = 0; !stopping.load(std::memory_order_relaxed); ++n) {
        const BookingPlan plan = booking_plan(fmt::format("load-{}-", t), n, start);
        (void)caller.call(student_of(plan), request_of(plan), fmt::format("load-{}-{}", t, n));
        load_commands.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }

  // End the sessions slice by slice: their releases fall due over spread_seconds.
  const auto slice_pause = std::chrono::duration<double>(settings.spread_seconds / end_slices);
  for (int slice = 0; slice < end_slices; ++slice) {
    const uint64_t first = settings.releases * slice / end_slices;
    const uint64_t last = settings.releases * (slice + 1) / end_slices;
    for (uint64_t n = first; n < last; ++n) pipeline.submit(tutor_of(plans[n]), EndSession{plans[n].id, ""});
    std::this_thread::sleep_for(slice_pause);
  }
  if (pipeline.wait() != 0) {
    fmt::print(stderr, "release_lateness_bench: ending sessions failed: {}\n", pipeline.first_failure());
    std::exit(1);
  }
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(settings.hold_ms + release_wait_extra_ms);
  while (engine->stats().timers_fired_total.load() < settings.releases && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stopping = true;
  for (auto& thread : load) thread.join();
  CaseResult result;
  result.name = loaded ? fmt::format("busy ({} threads creating)", settings.load_threads) : "idle";
  result.load_commands = load_commands.load();
  result.load_seconds = seconds_since(load_start);
  std::vector<int64_t> late = lateness_ns(*engine);
  result.releases = late.size();
  result.lateness = percentiles(late);
  engine->stop();
  if (result.releases != settings.releases) {
    fmt::print(stderr, "release_lateness_bench: {} of {} escrows were released\n", result.releases, settings.releases);
    std::exit(1);
  }
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags(argc, argv);
  Settings settings;
  const bool quick = flags.has("--quick");
  settings.releases = static_cast<uint64_t>(flags.number("--releases", quick ? 5'000 : 20'000));
  settings.spread_seconds = flags.number("--spread-seconds", 3);
  settings.hold_ms = static_cast<TimeMs>(flags.number("--hold-ms", 2000));
  settings.load_threads = static_cast<uint64_t>(flags.number("--load-threads", 8));
  settings.dir = flags.text("--dir", "/tmp");
  if (const std::string bad = flags.unknown(); !bad.empty() || settings.releases == 0) {
    fmt::print(stderr,
               "release_lateness_bench: unknown argument {}\nusage: release_lateness_bench [--releases N] "
               "[--spread-seconds S] [--hold-ms MS] [--load-threads N] [--quick] [--dir /tmp]\n",
               bad);
    return 2;
  }
  const Machine m = machine();
  const ScratchFolder scratch(settings.dir, "release-lateness-bench");
  fmt::print(
      "release_lateness_bench: {}\n{} escrow releases due over {:.1f} s (hold {} ms), SystemClock; lateness = "
      "EscrowReleased.at - release_at (ms resolution)\n\n",
      describe(m), settings.releases, settings.spread_seconds, settings.hold_ms);
  std::fflush(stdout);

  std::vector<CaseResult> cases;
  cases.push_back(run_case(settings, false, scratch));
  if (settings.load_threads > 0) cases.push_back(run_case(settings, true, scratch));

  fmt::print("{:<30} {:>9} {:>10} {:>10} {:>10} {:>16}\n", "engine", "releases", "p50 ms", "p99 ms", "max ms",
             "load commands/s");
  for (const CaseResult& c : cases) {
    fmt::print("{:<30} {:>9} {:>10.0f} {:>10.0f} {:>10.0f} {:>16.0f}\n", c.name, c.releases, c.lateness.p50_us / 1e3,
               c.lateness.p99_us / 1e3, c.lateness.max_us / 1e3, static_cast<double>(c.load_commands) / c.load_seconds);
  }
  fmt::print("{:<30} {:>9} {:>10.0f} {:>10.0f} {:>10.0f} {:>16}\n", "seed design: hourly cron", "-", 30.0 * 60e3,
             59.4 * 60e3, 60.0 * 60e3, "-");
  fmt::print("\n");
  for (const CaseResult& c : cases) {
    fmt::print(
        "RESULT {{\"bench\":\"release_lateness\",\"case\":\"{}\",\"releases\":{},\"spread_seconds\":{:.1f},"
        "\"hold_ms\":{},\"p50_ms\":{:.0f},\"p99_ms\":{:.0f},\"max_ms\":{:.0f},\"load_commands_per_s\":{:.0f},"
        "\"cron_p50_ms\":1800000,\"cron_p99_ms\":3564000,{}}}\n",
        c.load_commands > 0 ? "busy" : "idle", c.releases, settings.spread_seconds, settings.hold_ms,
        c.lateness.p50_us / 1e3, c.lateness.p99_us / 1e3, c.lateness.max_us / 1e3,
        static_cast<double>(c.load_commands) / c.load_seconds, machine_json_fields(m));
  }
  return 0;
}
