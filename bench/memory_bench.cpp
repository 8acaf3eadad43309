// Resident memory per booking (issue 7, item 8): fills a State through the pure domain core
// (decide, then evolve, as the engine's writer does, without the log) with completed bookings
// and reads the process's resident set before and after from /proc/self/statm.
//
//   memory_bench [--bookings 1000000] [--quick]     (--quick: 100,000 bookings)
//
// Each booking goes the whole journey: requested, accepted, checked out, paid (escrow held),
// session started and ended, rated, escrow released 24 h later by its timer: 10 events, postings
// on the tutor's, the platform's, the escrow's and the PSP's accounts, notifications to both
// parties. 100,000 students and 10,000 tutors. Time moves forward in waves of `wave_bookings`.
#include <fmt/format.h>
#include <malloc.h>

#include <cassert>
#include <cstdio>
#include <string>

#include "bench/bench_common.h"
#include "bench/engine_driver.h"
#include "engine/decide.h"
#include "projections/evolve.h"
#include "projections/pending_timer.h"
#include "projections/state.h"

namespace {

using namespace tl;
using namespace tl::bench;

constexpr uint64_t wave_bookings = 10'000;
constexpr TimeMs first_wave_at = 1795514400000;     // 2026-11-24T10:00:00Z
constexpr TimeMs wave_spacing_ms = 4 * ms_per_day;  // a wave's journeys end before the next starts

// decide + evolve, as the writer does; any rejection or evolve problem is a bug in this driver.
class DomainDriver {
 public:
  explicit DomainDriver(State& state) : state_(state) {}

  void run(const Actor& actor, CommandBody body, TimeMs now) {
    Command command{actor, now, fmt::format("mem-{}", ++commands_), std::move(body)};
    Decision decision = decide(state_, command, policy_);
    if (decision.rejected() || decision.events.empty()) {
      fmt::print(stderr, "memory_bench: {} refused: {}\n", command_name(command.body), decision.message);
      std::exit(1);
    }
    uint32_t version = decision.expected_version;
    for (EventData& data : decision.events) {
      Event event{state_.position + 1, decision.stream, ++version, now, actor, command.command_id, std::move(data)};
      if (const std::string problem = evolve(state_, event); !problem.empty()) {
        fmt::print(stderr, "memory_bench: evolve: {}\n", problem);
        std::exit(1);
      }
      ++events_;
    }
  }

  // Fires the booking's pending timer at its due time (the engine's wheel would).
  void fire_timer(const std::string& booking_id) {
    const Booking* booking = state_.find_booking(booking_id);
    assert(booking != nullptr);
    const std::optional<PendingTimer> timer = pending_timer(*booking, policy_);
    assert(timer.has_value());
    run(system_actor(), TimerFired{timer->kind, booking_id}, timer->due);
  }

  const Policy& policy() const { return policy_; }
  uint64_t events() const { return events_; }

 private:
  State& state_;
  Policy policy_;
  uint64_t commands_ = 0;
  uint64_t events_ = 0;
};

void run_wave(DomainDriver& driver, uint64_t first, uint64_t last, TimeMs wave_at) {
  const TimeMs start = wave_at + 2 * ms_per_day;
  std::vector<BookingPlan> plans;
  plans.reserve(last - first);
  for (uint64_t n = first; n < last; ++n) plans.push_back(booking_plan("bk_", n, start));
  for (const auto& plan : plans) driver.run(student_of(plan), request_of(plan), wave_at);
  for (const auto& plan : plans) driver.run(tutor_of(plan), AcceptBooking{plan.id}, wave_at + ms_per_hour);
  for (const auto& plan : plans) driver.run(student_of(plan), Checkout{plan.id}, wave_at + 2 * ms_per_hour);
  for (const auto& plan : plans)
    driver.run(system_actor(), capture_of(plan), wave_at + 2 * ms_per_hour + ms_per_minute);
  for (const auto& plan : plans) driver.run(student_of(plan), StartSession{plan.id}, start);
  for (const auto& plan : plans) driver.run(tutor_of(plan), JoinSession{plan.id}, start + ms_per_minute);
  for (const auto& plan : plans) {
    driver.run(student_of(plan), EndSession{plan.id, "Covered chapter 3; homework: exercises 4 to 9."},
               start + 60 * ms_per_minute);
  }
  for (const auto& plan : plans) {
    driver.run(student_of(plan), RateSession{plan.id, 5, "Clear and patient."}, start + 2 * ms_per_hour);
  }
  for (const auto& plan : plans) driver.fire_timer(plan.id);  // the escrow release, 24 h after the end
}

// Bytes a string holds on the heap (0 while it fits the small-string buffer).
size_t heap_bytes(const std::string& text) { return text.capacity() > 15 ? text.capacity() + 1 : 0; }
// Bytes a CompactText holds on the heap (its size prefix and the bytes; none while empty).
size_t heap_bytes(const CompactText& text) { return text.empty() ? 0 : sizeof(uint32_t) + text.size(); }

// Where the bytes go, counted from the structures (element storage only: allocator headers and
// hash-map nodes are not counted, so this is a lower bound of the RSS figure).
struct Breakdown {
  uint64_t booking_structs = 0;
  uint64_t booking_strings = 0;
  uint64_t notifications = 0;
  uint64_t notification_bytes = 0;  // vector capacities
  uint64_t index_entries = 0;       // bookings_by_student + bookings_by_tutor entries
  uint64_t index_bytes = 0;
  uint64_t payments = 0;
  uint64_t balances_accounts = 0;
};

Breakdown breakdown(const State& state) {
  Breakdown b;
  for (const Booking& booking : state.bookings) {
    b.booking_structs += sizeof(Booking);
    for (const std::string* text : {&booking.id, &booking.student_id, &booking.tutor_id, &booking.subject}) {
      b.booking_strings += heap_bytes(*text);
    }
    for (const CompactText* text : {&booking.notes, &booking.dispute_reason, &booking.rating_comment}) {
      b.booking_strings += heap_bytes(*text);
    }
  }
  for (const auto* lists : {&state.student_notifications, &state.tutor_notifications}) {
    for (const auto& [user, list] : *lists) {
      b.notifications += list.size();
      b.notification_bytes += list.capacity() * sizeof(Notification);
    }
  }
  for (const auto* index : {&state.bookings_by_student, &state.bookings_by_tutor}) {
    for (const auto& [user, list] : *index) {
      b.index_entries += list.size();
      b.index_bytes += list.capacity() * sizeof(uint32_t);
    }
  }
  b.payments = state.payments.size();
  b.balances_accounts = state.balances.size();
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags(argc, argv);
  const bool quick = flags.has("--quick");
  const uint64_t bookings = static_cast<uint64_t>(flags.number("--bookings", quick ? 100'000 : 1'000'000));
  if (const std::string bad = flags.unknown(); !bad.empty() || bookings == 0) {
    fmt::print(stderr, "memory_bench: unknown argument {}\nusage: memory_bench [--bookings N] [--quick]\n", bad);
    return 2;
  }
  const Machine m = machine();
  fmt::print(
      "memory_bench: {}\n{} completed bookings through the domain core (decide + evolve), "
      "resident set from /proc/self/statm\n\n",
      describe(m), bookings);
  std::fflush(stdout);

  malloc_trim(0);
  const uint64_t rss_before = resident_bytes();
  const auto start = std::chrono::steady_clock::now();
  State state;
  DomainDriver driver(state);
  for (uint64_t first = 0, wave = 0; first < bookings; first += wave_bookings, ++wave) {
    run_wave(driver, first, std::min(bookings, first + wave_bookings),
             first_wave_at + static_cast<TimeMs>(wave) * wave_spacing_ms);
  }
  const double fill_s = seconds_since(start);
  const uint64_t rss_filled = resident_bytes();
  malloc_trim(0);  // hand back what the driver's temporaries left in malloc's free lists
  const uint64_t rss_after = resident_bytes();

  uint64_t released = 0;
  for (const Booking& booking : state.bookings) {
    released += booking.status == BookingStatus::completed && booking.escrow_status == EscrowStatus::released;
  }
  if (released != bookings) {
    fmt::print(stderr, "memory_bench: only {} of {} bookings completed with their escrow released\n", released,
               bookings);
    return 1;
  }
  const double per_booking = static_cast<double>(rss_after - rss_before) / static_cast<double>(bookings);
  const Breakdown b = breakdown(state);
  auto each = [&](uint64_t bytes) { return static_cast<double>(bytes) / static_cast<double>(bookings); };
  const double per_booking_untrimmed = static_cast<double>(rss_filled - rss_before) / static_cast<double>(bookings);
  fmt::print("{:<10} {:>8} {:>14} {:>14} {:>16} {:>20} {:>10}\n", "bookings", "events", "RSS before MB", "RSS after MB",
             "bytes/booking", "(before malloc_trim)", "fill s");
  fmt::print("{:<10} {:>8} {:>14.1f} {:>14.1f} {:>16.0f} {:>20.0f} {:>10.2f}\n", bookings, driver.events(),
             static_cast<double>(rss_before) / 1e6, static_cast<double>(rss_after) / 1e6, per_booking,
             per_booking_untrimmed, fill_s);
  fmt::print("users: {} students, {} tutors; sizeof(Booking) = {} bytes\n", plan_students_count, plan_tutors_count,
             sizeof(Booking));
  fmt::print(
      "counted per booking (element storage only, a lower bound): Booking structs {:.0f} B, their heap strings "
      "{:.0f} B, {:.1f} notifications {:.0f} B, {:.1f} user-index entries {:.0f} B; {} payment records, {} "
      "accounts with a balance\n\n",
      each(b.booking_structs), each(b.booking_strings), each(b.notifications), each(b.notification_bytes),
      each(b.index_entries), each(b.index_bytes), b.payments, b.balances_accounts);
  fmt::print(
      "RESULT {{\"bench\":\"memory\",\"bookings\":{},\"events\":{},\"rss_before_bytes\":{},\"rss_after_bytes\":{},"
      "\"bytes_per_booking\":{:.1f},\"bytes_per_booking_before_trim\":{:.1f},\"sizeof_booking\":{},"
      "\"fill_seconds\":{:.3f},\"booking_struct_bytes_per_booking\":{:.1f},\"booking_string_bytes_per_booking\":{:.1f},"
      "\"notifications_per_booking\":{:.2f},\"notification_bytes_per_booking\":{:.1f},"
      "\"user_index_bytes_per_booking\":{:.1f},\"payments\":{},\"accounts_with_balance\":{},{}}}\n",
      bookings, driver.events(), rss_before, rss_after, per_booking, per_booking_untrimmed, sizeof(Booking), fill_s,
      each(b.booking_structs), each(b.booking_strings), each(b.notifications), each(b.notification_bytes),
      each(b.index_bytes), b.payments, b.balances_accounts, machine_json_fields(m));
  return 0;
}
