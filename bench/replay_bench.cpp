// The audit CLI's throughput: `replay verify` (hash chain, decode, invariants) and `replay
// rebuild` (every projection from scratch, compared with a checkpoint), in events/s, beside a
// plain sequential RocksDB scan of the same database (LogStore::scan_raw: no decoding).
//
//   replay_bench [--events N] [--dir DIR] [--keep]
//
// Builds a log of N events (default 1,000,000) of realistic booking journeys, decided and
// evolved by the real core and appended in batches through LogStore, with a checkpoint at the
// head; then opens it as a secondary (as the CLI does), warms the page cache with one raw scan,
// and measures each reader once. With --dir, a log already there with at least N events is
// reused. Prints a table and one `RESULT {json}` line.
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "engine/decide.h"
#include "engine/event_codec.h"
#include "engine/log_store.h"
#include "engine/recovery.h"
#include "projections/evolve.h"
#include "replay/data_folder.h"
#include "replay/rebuild.h"
#include "replay/verify.h"

namespace {

using namespace tl;
using SteadyClock = std::chrono::steady_clock;

constexpr uint64_t events_default = 1'000'000;
constexpr size_t append_batch_events_max = 10'000;
constexpr int wave_bookings = 2'000;
constexpr int tutors_count = 2'000;
constexpr int students_count = 20'000;
constexpr TimeMs log_start_ms = 1'790'000'000'000;  // 2026-09-21

std::string cpu_model() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.starts_with("model name")) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

std::string load_average() {
  std::ifstream file("/proc/loadavg");
  std::string one, five, fifteen;
  file >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

// ---- the log: journeys decided and evolved by the real core ---------------------------------

enum class Scenario { normal, declined, cancelled, no_show, disputed };

Scenario scenario_of(int booking) {
  const int roll = booking % 100;
  if (roll < 3) return Scenario::declined;
  if (roll < 5) return Scenario::cancelled;
  if (roll < 7) return Scenario::no_show;
  if (roll < 9) return Scenario::disputed;
  return Scenario::normal;
}

// One step of a journey, run at `at`.
struct Step {
  TimeMs at;
  int booking;
  int kind;  // which step of the journey: see Generator::run_step
};

class Generator {
 public:
  Generator(LogStore& log, uint64_t events_target) : log_(log), events_target_(events_target) {}

  Status run() {
    TimeMs wave_start = log_start_ms;
    while (appended_ + pending_events_ < events_target_) {
      wave_start = run_wave(wave_start) + ms_per_minute;
      if (!status_.is_ok()) return status_;
    }
    flush();
    if (!status_.is_ok()) return status_;
    return log_.write_checkpoint(make_checkpoint(state_, log_.head().hash));
  }

  uint64_t events() const { return appended_; }

 private:
  // Runs one wave of bookings through their journeys; returns the time of its last step.
  TimeMs run_wave(TimeMs start) {
    now_ = std::max(now_, start);
    wave_start_ = now_;
    const int first = next_booking_;
    next_booking_ += wave_bookings;
    std::vector<Step> steps;
    for (int b = first; b < next_booking_; ++b) {
      const TimeMs session = session_of(b);
      const TimeMs end = session + 50 * ms_per_minute;
      switch (scenario_of(b)) {
        case Scenario::declined: break;  // declined with the request (kind 0)
        case Scenario::cancelled: steps.push_back({start + 30 * ms_per_minute, b, 2}); break;
        case Scenario::no_show: steps.push_back({session + 15 * ms_per_minute, b, 3}); break;
        case Scenario::disputed:
          steps.push_back({session, b, 4});
          steps.push_back({end, b, 6});
          steps.push_back({end + ms_per_hour, b, 8});
          steps.push_back({end + 2 * ms_per_hour, b, 9});
          break;
        case Scenario::normal:
          steps.push_back({session, b, 4});
          steps.push_back({session + ms_per_minute, b, 5});
          steps.push_back({end, b, 6});
          steps.push_back({end + 24 * ms_per_hour, b, 7});
          if (b % 2 == 0) steps.push_back({end + 25 * ms_per_hour, b, 10});
          break;
      }
      steps.push_back({start, b, 0});  // request, accept or decline, pay
    }
    std::stable_sort(steps.begin(), steps.end(), [](const Step& a, const Step& b) { return a.at < b.at; });
    for (const Step& step : steps) {
      now_ = std::max(now_, step.at);
      run_step(step);
    }
    withdraw(now_ + ms_per_hour);
    return now_;
  }

  // Sessions of a wave start an hour after it, three seconds apart.
  TimeMs session_of(int b) const { return wave_start_ + ms_per_hour + static_cast<TimeMs>(b % wave_bookings) * 3 * ms_per_second; }

  static std::string booking_id(int b) { return fmt::format("bk_{:06}", b); }
  static Actor student_of(int b) { return Actor{Role::student, fmt::format("s{}", (b * 7919) % students_count)}; }
  static Actor tutor_of(int b) { return Actor{Role::tutor, fmt::format("t{}", (b * 104729) % tutors_count)}; }
  static Money price_of(int b) {
    static const Currency etb = *Currency::parse("ETB");
    static const Currency usd = *Currency::parse("USD");
    return b % 10 == 9 ? Money{2000 + (b % 7) * 500, usd} : Money{20000 + (b % 9) * 5000, etb};
  }

  void run_step(const Step& step) {
    const std::string id = booking_id(step.booking);
    const Actor student = student_of(step.booking);
    const Actor tutor = tutor_of(step.booking);
    switch (step.kind) {
      case 0: {
        run(student, RequestBooking{id, tutor.id, "Mathematics", session_of(step.booking), 60, price_of(step.booking)});
        if (scenario_of(step.booking) == Scenario::declined) return void(run(tutor, DeclineBooking{id, "fully booked"}));
        run(tutor, AcceptBooking{id});
        run(student, Checkout{id});
        const Booking& booking = *state_.find_booking(id);
        run(system_actor(), CapturePayment{booking.payment_ref(), "psp-" + id,
                                           format_decimal_amount(booking.price.amount, booking.price.currency),
                                           std::string(booking.price.currency.code())});
        return;
      }
      case 2: run(student, CancelBooking{id, "plans changed"}); return;
      case 3: run(system_actor(), TimerFired{TimerKind::close_start_window, id}); return;
      case 4: run(student, StartSession{id}); return;
      case 5: run(tutor, JoinSession{id}); return;
      case 6: run(tutor, EndSession{id, "covered chapter 3"}); return;
      case 7: run(system_actor(), TimerFired{TimerKind::release_escrow, id}); return;
      case 8: run(student, OpenDispute{id, "the audio dropped"}); return;
      case 9: run(Actor{Role::admin, "a1"}, ResolveDispute{id, state_.find_booking(id)->price.amount / 3}); return;
      case 10: run(student, RateSession{id, 4 + step.booking % 2, "thanks"}); return;
      default: return;
    }
  }

  // Every tutor with an ETB balance withdraws half; most withdrawals complete, some fail.
  void withdraw(TimeMs at) {
    now_ = std::max(now_, at);
    static const Currency etb = *Currency::parse("ETB");
    std::vector<std::string> requested;
    for (int t = 0; t < tutors_count; t += 3) {
      const Actor tutor{Role::tutor, fmt::format("t{}", t)};
      const int64_t available = state_.balance(accounts::tutor(tutor.id), etb);
      if (available < 2) continue;
      const std::string id = fmt::format("wd_{}", next_withdrawal_++);
      if (run(tutor, RequestWithdrawal{id, Money{available / 2, etb}, "CBE 1000"})) requested.push_back(id);
    }
    now_ += ms_per_hour;
    for (size_t i = 0; i < requested.size(); ++i) {
      if (i % 10 == 9) {
        run(Actor{Role::admin, "a1"}, FailWithdrawal{requested[i], "account closed"});
      } else {
        run(Actor{Role::admin, "a1"}, CompleteWithdrawal{requested[i]});
      }
    }
  }

  // Decides at now_, evolves, and queues the events for the next append.
  bool run(const Actor& actor, CommandBody body) {
    const Command command{actor, now_, fmt::format("c{}", ++commands_), std::move(body)};
    const Decision decision = decide(state_, command, policy_);
    if (decision.rejected() || decision.events.empty()) return false;
    StreamAppend append{decision.stream,
                        decision.expected_version == 0 ? ExpectedVersion::no_stream()
                                                       : ExpectedVersion::exact(decision.expected_version),
                        {}};
    for (size_t i = 0; i < decision.events.size(); ++i) {
      Event event;
      event.position = state_.position + 1;
      event.stream = decision.stream;
      event.version = decision.expected_version + static_cast<uint32_t>(i) + 1;
      event.at = now_;
      event.actor = actor;
      event.command_id = command.command_id;
      event.data = decision.events[i];
      if (const std::string problem = evolve(state_, event); !problem.empty()) {
        status_ = Status::corruption("the generator's own log does not evolve: " + problem);
        return false;
      }
      append.events.push_back(make_new_event(event.data, actor, now_, command.command_id));
    }
    pending_events_ += append.events.size();
    batch_.streams.push_back(std::move(append));
    if (pending_events_ >= append_batch_events_max) flush();
    return true;
  }

  void flush() {
    if (batch_.streams.empty() || !status_.is_ok()) return;
    const AppendResult result = log_.append(batch_);
    if (!result.status.is_ok()) status_ = result.status;
    const uint64_t before = appended_;
    appended_ += pending_events_;
    pending_events_ = 0;
    batch_.streams.clear();
    if (appended_ / 100'000 != before / 100'000) fmt::print(stderr, "  generated {} events\n", appended_);
  }

  LogStore& log_;
  uint64_t events_target_;
  State state_;
  Policy policy_;
  TimeMs now_ = log_start_ms;
  TimeMs wave_start_ = log_start_ms;
  int next_booking_ = 0;
  int next_withdrawal_ = 0;
  uint64_t commands_ = 0;
  AppendBatch batch_;
  uint64_t pending_events_ = 0;
  uint64_t appended_ = 0;
  Status status_;
};

// ---- measurements ----------------------------------------------------------------------------

// CPU time of the whole process (all threads), in seconds. The machine may be shared: wall time
// alone would hide whether a reader was slow or waiting for a core.
double process_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

struct Measurement {
  std::string name;
  uint64_t events = 0;
  double seconds = 0;
  double cpu_seconds = 0;
  double events_per_s() const { return seconds > 0 ? static_cast<double>(events) / seconds : 0; }
  double events_per_cpu_s() const { return cpu_seconds > 0 ? static_cast<double>(events) / cpu_seconds : 0; }
};

template <class Work>
Measurement measure(std::string name, Work work) {
  const auto started = SteadyClock::now();
  const double cpu_started = process_cpu_seconds();
  const uint64_t events = work();
  return {std::move(name), events, std::chrono::duration<double>(SteadyClock::now() - started).count(),
          process_cpu_seconds() - cpu_started};
}

int fail(const std::string& message) {
  fmt::print(stderr, "replay_bench: {}\n", message);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t events_target = events_default;
  std::string dir;
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--events" && i + 1 < argc) {
      events_target = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--dir" && i + 1 < argc) {
      dir = argv[++i];
      keep = true;
    } else if (arg == "--keep") {
      keep = true;
    } else {
      return fail("usage: replay_bench [--events N] [--dir DIR] [--keep]");
    }
  }
  if (events_target == 0) return fail("--events must be at least 1");
  if (dir.empty()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "tl-replay-bench-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) return fail("cannot make a temporary folder");
    dir = pattern + "/data";
  }

  // Build the log, unless a big enough one is already there.
  uint64_t head = 0;
  {
    std::unique_ptr<LogStore> existing;
    if (std::filesystem::exists(dir) && replay::open_data_folder(dir, &existing).is_ok()) head = existing->head().position;
  }
  if (head < events_target) {
    if (head > 0) return fail(fmt::format("{} holds a log of {} events: give an empty folder", dir, head));
    fmt::print(stderr, "building a log of {} events in {}\n", events_target, dir);
    LogOptions options;
    options.sync = false;  // the benchmark measures reading; one fsync at the end is enough
    std::unique_ptr<LogStore> log;
    if (Status opened = LogStore::open(dir, options, &log); !opened.is_ok()) return fail(opened.to_string());
    const auto started = SteadyClock::now();
    Generator generator(*log, events_target);
    if (Status generated = generator.run(); !generated.is_ok()) return fail(generated.to_string());
    head = log->head().position;
    // Reopening the primary flushes what is still only in the WAL into SST files, as a server's
    // data folder would have it; a secondary would otherwise replay the WAL on every open.
    log.reset();
    if (Status reopened = LogStore::open(dir, options, &log); !reopened.is_ok()) return fail(reopened.to_string());
    log.reset();
    fmt::print(stderr, "built {} events in {:.1f} s\n", head,
               std::chrono::duration<double>(SteadyClock::now() - started).count());
  }

  std::unique_ptr<LogStore> log;
  if (Status opened = replay::open_data_folder(dir, &log); !opened.is_ok()) return fail(opened.to_string());
  uint64_t bytes = 0;
  auto plain_scan = [&] {
    uint64_t events = 0;
    bytes = 0;
    const Status scanned = log->scan_raw(1, [&](uint64_t, std::string_view value) {
      bytes += value.size();
      ++events;
      return true;
    });
    if (!scanned.is_ok()) fmt::print(stderr, "plain scan: {}\n", scanned.to_string());
    return events;
  };
  plain_scan();  // warms the page cache; not reported

  std::vector<Measurement> results;
  results.push_back(measure("plain scan (scan_raw)", plain_scan));
  replay::Progress no_bar(nullptr, "", 0);
  bool verify_clean = false;
  results.push_back(measure("replay verify", [&] {
    const replay::VerifyFindings findings = replay::verify_log(*log, std::nullopt, no_bar);
    verify_clean = findings.clean();
    if (!verify_clean) fmt::print(stderr, "verify: position {}: {}\n", findings.first_bad.position, findings.first_bad.problem);
    return findings.events_checked;
  }));
  results.push_back(measure("  chain walk alone", [&] { return log->verify().events_checked; }));
  // Where the rebuild's time goes: the same scan, one step more each time.
  results.push_back(measure("  scan + chain hashes", [&] {
    uint64_t events = 0;
    (void)log->scan(1, [&](const EventRecord&) { return ++events, true; });
    return events;
  }));
  results.push_back(measure("  + decode events", [&] {
    uint64_t events = 0;
    Event event;
    (void)log->scan(1, [&](const EventRecord& record) { return decode_event(record, &event).is_ok() && ++events; });
    return events;
  }));
  results.push_back(measure("  + evolve", [&] {
    uint64_t events = 0;
    Event event;
    State state;
    (void)log->scan(1, [&](const EventRecord& record) {
      return decode_event(record, &event).is_ok() && evolve(state, event).empty() && ++events;
    });
    return events;
  }));
  // Fixed costs of a rebuild, whatever the number of events: reading the checkpoint (payload and
  // its checksum) and hashing the rebuilt state's dump once.
  uint64_t checkpoint_bytes = 0;
  results.push_back(measure("  read checkpoint", [&] {
    std::optional<Checkpoint> checkpoint;
    if (log->read_checkpoint(&checkpoint).is_ok() && checkpoint) checkpoint_bytes = checkpoint->payload.size();
    return head;
  }));
  bool rebuild_equal = false;
  results.push_back(measure("replay rebuild", [&] {
    const replay::RebuildFindings findings = replay::rebuild_log(*log, no_bar);
    rebuild_equal = findings.verdict == replay::CheckpointVerdict::equal && !findings.damage.found();
    return findings.events_replayed;
  }));

  const double plain = results[0].events_per_s();
  const Measurement& rebuild = results.back();
  const unsigned cores = std::thread::hardware_concurrency();
  fmt::print("replay_bench: {} events, {:.0f} bytes/event stored; machine: {} cores, {}; load average {}\n\n", head,
             static_cast<double>(bytes) / static_cast<double>(std::max<uint64_t>(head, 1)), cores, cpu_model(),
             load_average());
  fmt::print("{:<24} {:>10} {:>9} {:>9} {:>12} {:>10} {:>14}\n", "reader", "events", "wall s", "cpu s", "events/s",
             "vs plain", "events/cpu-s");
  for (const Measurement& m : results) {
    fmt::print("{:<24} {:>10} {:>9.3f} {:>9.3f} {:>12.0f} {:>9.1f}% {:>14.0f}\n", m.name, m.events, m.seconds,
               m.cpu_seconds, m.events_per_s(), plain > 0 ? 100 * m.events_per_s() / plain : 0, m.events_per_cpu_s());
  }
  fmt::print("\n(\"read checkpoint\" reads a {} byte checkpoint once; its events column is the log's, for scale.)\n",
             checkpoint_bytes);
  fmt::print("verify clean: {}, rebuild equal to the checkpoint: {}\n", verify_clean ? "yes" : "NO",
             rebuild_equal ? "yes" : "NO");
  fmt::print(
      "\nRESULT {{\"bench\":\"replay\",\"events\":{},\"cores\":{},\"cpu\":\"{}\",\"plain_scan_events_per_s\":{:.0f},"
      "\"verify_events_per_s\":{:.0f},\"chain_walk_events_per_s\":{:.0f},\"rebuild_events_per_s\":{:.0f},"
      "\"verify_vs_plain\":{:.3f},\"rebuild_vs_plain\":{:.3f},\"verify_cpu_s\":{:.3f},\"rebuild_cpu_s\":{:.3f},"
      "\"load_average\":\"{}\",\"verify_clean\":{},\"rebuild_equal\":{}}}\n",
      head, cores, cpu_model(), plain, results[1].events_per_s(), results[2].events_per_s(), rebuild.events_per_s(),
      plain > 0 ? results[1].events_per_s() / plain : 0, plain > 0 ? rebuild.events_per_s() / plain : 0,
      results[1].cpu_seconds, rebuild.cpu_seconds, load_average(), verify_clean, rebuild_equal);

  log.reset();
  if (!keep) std::filesystem::remove_all(std::filesystem::path(dir).parent_path());
  return verify_clean && rebuild_equal ? 0 : 1;
}
