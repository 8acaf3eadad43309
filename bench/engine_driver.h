#pragma once
// Driving a real engine from a benchmark: the booking journey's commands, a pipeline that keeps
// many submissions in flight from one thread (to prepare data fast), a closed-loop caller that
// submits one command and waits for its reply (to measure latency), and a caller with a window of
// a few commands in flight (as an HTTP I/O thread serving several connections is). Header-only (see
// bench_common.h for why).
#include <fmt/format.h>

#include <atomic>
#include <cassert>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/commands.h"
#include "engine/decide.h"
#include "engine/engine.h"
#include "projections/actor.h"
#include "projections/money.h"

namespace tl::bench {

inline Money booking_price() { return Money{35000, *Currency::parse("ETB")}; }  // ETB 350.00

// One booking of the benchmarks' journeys: distinct tutors for neighbouring bookings, because
// commands on one tutor's bookings share a conflict key and cut the writer's batch.
struct BookingPlan {
  std::string id;
  std::string student_id;
  std::string tutor_id;
  TimeMs scheduled_start = 0;
};

constexpr uint64_t plan_tutors_count = 10'000;
constexpr uint64_t plan_students_count = 100'000;

inline BookingPlan booking_plan(std::string_view prefix, uint64_t n, TimeMs scheduled_start) {
  return BookingPlan{fmt::format("{}{}", prefix, n), fmt::format("s{}", n % plan_students_count),
                     fmt::format("t{}", n % plan_tutors_count), scheduled_start};
}

inline Actor student_of(const BookingPlan& plan) { return Actor{Role::student, plan.student_id}; }
inline Actor tutor_of(const BookingPlan& plan) { return Actor{Role::tutor, plan.tutor_id}; }

inline RequestBooking request_of(const BookingPlan& plan) {
  return RequestBooking{plan.id, plan.tutor_id, "Mathematics", plan.scheduled_start, 60, booking_price()};
}
// The payment webhook's capture for the booking's checkout (reference unique per booking).
inline CapturePayment capture_of(const BookingPlan& plan) {
  return CapturePayment{checkout_tx_ref(plan.id), "psp-" + plan.id,
                        format_decimal_amount(booking_price().amount, booking_price().currency), "ETB"};
}

inline Submission make_submission(const Actor& actor, CommandBody body, std::string command_id, Completion done) {
  Submission submission;
  submission.command.actor = actor;
  submission.command.command_id = std::move(command_id);
  submission.command.body = std::move(body);
  submission.done = std::move(done);
  return submission;
}

inline bool success(const Reply& reply) { return reply.status >= 200 && reply.status < 300; }

// Many submissions in flight from one thread, at most `in_flight_max`; wait() until all replied.
// Callers submit a booking's commands in journey order: the engine keeps each caller's order.
class Pipeline {
 public:
  static constexpr uint64_t in_flight_max = 32'768;  // below the engine's queue_commands_max

  explicit Pipeline(Engine& engine) : engine_(engine) {}
  ~Pipeline() { (void)wait(); }
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  void submit(const Actor& actor, CommandBody body) {
    {
      std::unique_lock lock(mutex_);
      drained_.wait(lock, [&] { return outstanding_ < in_flight_max; });
      ++outstanding_;
    }
    Submission submission = make_submission(actor, std::move(body), fmt::format("prep-{}", ++submitted_),
                                            [this](Reply reply) { replied(reply); });
    for (;;) {
      const SubmitResult result = engine_.submit(std::move(submission));
      if (result == SubmitResult::queued) return;
      assert(result == SubmitResult::busy);  // a stopped engine here is a bug in the benchmark
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }

  // Waits for every reply; returns how many were not 2xx (first_failure() shows one).
  uint64_t wait() {
    std::unique_lock lock(mutex_);
    drained_.wait(lock, [&] { return outstanding_ == 0; });
    return failures_;
  }
  std::string first_failure() const {
    std::lock_guard lock(mutex_);
    return first_failure_;
  }
  uint64_t submitted() const { return submitted_; }

 private:
  // On the writer thread: keep it short.
  void replied(const Reply& reply) {
    bool notify = false;
    {
      std::lock_guard lock(mutex_);
      if (!success(reply) && failures_++ == 0) first_failure_ = fmt::format("{} {}", reply.status, reply.body);
      --outstanding_;
      notify = outstanding_ == 0 || outstanding_ == in_flight_max / 2;
    }
    if (notify) drained_.notify_all();
  }

  Engine& engine_;
  mutable std::mutex mutex_;
  std::condition_variable drained_;
  uint64_t outstanding_ = 0;   // guarded by mutex_
  uint64_t failures_ = 0;      // guarded by mutex_
  std::string first_failure_;  // guarded by mutex_
  uint64_t submitted_ = 0;     // the submitting thread only
};

// One closed-loop caller: submits a command and sleeps until its reply. One per thread. It waits
// on a condition variable (a futex sleep at once): std::atomic::wait spins through sched_yield
// first, which with 64 callers on 2 cores took more CPU than the engine itself.
class Caller {
 public:
  explicit Caller(Engine& engine) : engine_(engine) {}

  // nullopt when the engine refused to queue it (busy or stopped).
  std::optional<Reply> call(const Actor& actor, CommandBody body, std::string command_id) {
    replied_ = false;
    const SubmitResult result = engine_.submit(make_submission(actor, std::move(body), std::move(command_id),
                                                               [this](Reply reply) { answer(std::move(reply)); }));
    if (result != SubmitResult::queued) return std::nullopt;
    std::unique_lock lock(mutex_);
    replied_cv_.wait(lock, [&] { return replied_; });
    return std::move(reply_);
  }

 private:
  // On the writer thread.
  void answer(Reply reply) {
    {
      std::lock_guard lock(mutex_);
      reply_ = std::move(reply);
      replied_ = true;
    }
    replied_cv_.notify_one();
  }

  Engine& engine_;
  std::mutex mutex_;
  std::condition_variable replied_cv_;
  bool replied_ = false;  // guarded by mutex_
  Reply reply_;           // guarded by mutex_
};

// One caller thread with up to `in_flight_max` commands in flight, as each of the HTTP server's I/O
// threads has: it submits until that many await their replies, then sleeps until one returns.
// Replies are counted and timed (submit to reply) on the writer thread, under a lock.
class WindowCaller {
 public:
  // Keeps at most `latency_samples_max` latencies (the rest are counted, not timed).
  WindowCaller(Engine& engine, uint64_t in_flight_max, uint64_t latency_samples_max)
      : engine_(engine), in_flight_max_(in_flight_max), latency_samples_max_(latency_samples_max) {
    assert(in_flight_max >= 1);
  }
  ~WindowCaller() { drain(); }
  WindowCaller(const WindowCaller&) = delete;
  WindowCaller& operator=(const WindowCaller&) = delete;

  // Blocks while the window is full; false when the engine refused to queue it (busy or stopped).
  // `counted` says whether its reply goes into the figures (the benchmark's measuring flag).
  bool submit(const Actor& actor, CommandBody body, std::string command_id, const std::atomic<bool>& counted) {
    {
      std::unique_lock lock(mutex_);
      waiting_ = true;
      window_open_.wait(lock, [&] { return outstanding_ < in_flight_max_; });
      waiting_ = false;
      ++outstanding_;
    }
    const auto submitted = std::chrono::steady_clock::now();
    const SubmitResult result = engine_.submit(make_submission(
        actor, std::move(body), std::move(command_id),
        [this, submitted, &counted](Reply reply) { replied(reply, submitted, counted.load(std::memory_order_relaxed)); }));
    if (result == SubmitResult::queued) return true;
    std::lock_guard lock(mutex_);
    --outstanding_;
    return false;
  }

  // Waits until every submitted command has its reply.
  void drain() {
    std::unique_lock lock(mutex_);
    waiting_ = true;
    window_open_.wait(lock, [&] { return outstanding_ == 0; });
    waiting_ = false;
  }

  // Figures of the counted replies so far; call after drain().
  uint64_t replies() const { return replies_; }
  uint64_t failures() const { return failures_; }
  const std::string& first_failure() const { return first_failure_; }
  std::vector<int64_t>& latencies_ns() { return latencies_ns_; }

 private:
  // On the writer thread: keep it short, and wake the caller only when it sleeps.
  void replied(const Reply& reply, std::chrono::steady_clock::time_point submitted, bool counted) {
    const int64_t latency_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - submitted).count();
    bool wake = false;
    {
      std::lock_guard lock(mutex_);
      --outstanding_;
      wake = waiting_;
      if (counted) {
        ++replies_;
        if (!success(reply) && failures_++ == 0) first_failure_ = fmt::format("{} {}", reply.status, reply.body);
        if (latencies_ns_.size() < latency_samples_max_) latencies_ns_.push_back(latency_ns);
      }
    }
    if (wake) window_open_.notify_one();
  }

  Engine& engine_;
  const uint64_t in_flight_max_;
  const uint64_t latency_samples_max_;
  std::mutex mutex_;
  std::condition_variable window_open_;
  bool waiting_ = false;               // guarded by mutex_: the caller sleeps on window_open_
  uint64_t outstanding_ = 0;           // guarded by mutex_
  uint64_t replies_ = 0;               // guarded by mutex_
  uint64_t failures_ = 0;              // guarded by mutex_
  std::string first_failure_;          // guarded by mutex_
  std::vector<int64_t> latencies_ns_;  // guarded by mutex_
};

}  // namespace tl::bench
