// The single writer: concurrency, group commit, idempotency, back-pressure, checkpoints.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <latch>
#include <map>
#include <thread>

#include <fmt/format.h>

#include "engine/recovery.h"
#include "engine/state_hash.h"
#include "projections/state_codec.h"
#include "support/engine_fixture.h"
#include "support/eventually.h"

using namespace tl;
using namespace tl::test;

namespace {

RequestBooking request(const std::string& id, TimeMs start = example_start) {
  return RequestBooking{id, "t1", "Mathematics", start, 60, etb_amount(35000)};
}

IdempotencyTag tag(const std::string& key, const std::string& request_text) {
  return IdempotencyTag{key, sha256(request_text)};
}

// A submission whose render waits for `gate`: keeps the writer busy while a test fills the queue.
Submission blocking_submission(std::latch& gate, std::promise<void>& entered) {
  Submission submission;
  submission.command.actor = student();
  submission.command.command_id = "blocker";
  submission.command.body = request("bk_blocker");
  submission.render = [&gate, &entered](const RenderInput&) {
    entered.set_value();
    gate.wait();
    return Reply{200, "{}", false};
  };
  return submission;
}

Digest live_state_hash(const Engine& engine) {
  return engine.read([](const State& state) { return state_hash(state); });
}

}  // namespace

TEST_CASE("ManyThreadsSubmittingAtOnceLoseNothingAndKeepEachCallersOrder") {
  EngineFixture f;
  constexpr int threads = 8;
  constexpr int per_thread = 150;
  std::vector<std::thread> workers;
  std::vector<std::vector<std::string>> acknowledged(threads);
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        const std::string id = fmt::format("bk_{}_{}", t, i);
        const Reply reply = f.run(student(fmt::format("s{}", t)), request(id));
        if (reply.status == 200) acknowledged[t].push_back(id);
      }
    });
  }
  for (auto& worker : workers) worker.join();

  std::map<std::string, uint64_t> position_of;
  for (const auto& event : f.events()) position_of[std::string(booking_id_of(event.data))] = event.position;
  for (int t = 0; t < threads; ++t) {
    CHECK(acknowledged[t].size() == per_thread);
    uint64_t previous = 0;
    for (const auto& id : acknowledged[t]) {
      REQUIRE_MESSAGE(position_of.contains(id), id, " was acknowledged but is not in the log");
      CHECK(position_of[id] > previous);  // decided in the order this caller submitted
      previous = position_of[id];
    }
  }
  CHECK(position_of.size() == threads * per_thread);
  CHECK(f.engine->stats().batches_total < f.engine->stats().commands_total);  // group commit happened
  CHECK(live_state_hash(*f.engine) == state_hash(f.rebuilt_from_log()));
  // Nothing waits any more, and the queue-depth gauge says so (it stayed at the last batch's size).
  CHECK(tl::test::eventually([&] { return f.engine->stats().queue_depth.load() == 0; }, 5000));
}

TEST_CASE("IdempotentRetriesFromSeveralThreadsProduceOneSetOfEvents") {
  EngineFixture f;
  std::vector<std::thread> workers;
  std::vector<Reply> replies(8);
  for (size_t t = 0; t < replies.size(); ++t) {
    workers.emplace_back([&, t] {
      Submission submission;
      submission.command.actor = student();
      submission.command.command_id = fmt::format("retry-{}", t);
      submission.command.body = request("bk_1");
      submission.idempotency = tag("key-1", "POST /api/bookings {same body}");
      submission.render = [](const RenderInput& input) {
        return Reply{201, fmt::format("{{\"created\":\"{}\"}}", std::get<BookingRequested>(input.decision.events.at(0)).booking_id), false};
      };
      std::promise<Reply> promise;
      auto future = promise.get_future();
      submission.done = [&promise](Reply reply) { promise.set_value(std::move(reply)); };
      REQUIRE(f.engine->submit(std::move(submission)) == SubmitResult::queued);
      replies[t] = future.get();
    });
  }
  for (auto& worker : workers) worker.join();
  CHECK(f.count_events("BookingRequested") == 1);
  int first_answers = 0;
  for (const auto& reply : replies) {
    CHECK(reply.status == 201);
    CHECK(reply.body == R"({"created":"bk_1"})");
    first_answers += reply.replayed ? 0 : 1;
  }
  CHECK(first_answers == 1);
  // And after a restart the stored answer is still there.
  f.restart();
  const Reply again = f.run(student(), request("bk_1"), tag("key-1", "POST /api/bookings {same body}"));
  CHECK(again.replayed);
  CHECK(again.body == R"({"created":"bk_1"})");
}

TEST_CASE("AnIdempotencyKeyReusedWithADifferentRequestIsAConflictAndAppendsNothing") {
  EngineFixture f;
  CHECK(f.run(student(), request("bk_1"), tag("k", "request one")).status == 200);
  const uint64_t head = f.engine->log().head().position;
  const Reply conflict = f.run(student(), request("bk_2"), tag("k", "request two"));
  CHECK(conflict.status == 409);
  CHECK(conflict.body.find("idempotency_conflict") != std::string::npos);
  CHECK(f.engine->log().head().position == head);
  // The same key from another user is another key.
  CHECK(f.run(student("s2"), request("bk_3"), tag("k", "request two")).status == 200);
}

TEST_CASE("AStoredAnswerIsKeptForTheKeepTimeAndARetryAfterItIsANewRequest") {
  EngineFixture f;
  const TimeMs keep_ms = f.options.idempotency_keep_seconds * ms_per_second;
  REQUIRE(keep_ms >= ms_per_day);  // API.md: keys are kept at least 24 h
  const TimeMs later = example_start + 30 * ms_per_day;  // still ahead after the keep time
  const TimeMs decided_at = f.engine->now();
  CHECK(f.run(student(), request("bk_1", later), tag("k", "request one")).status == 200);

  // One second before the keep time ends: the same request gets the stored answer, another one
  // a conflict, and neither appends; so across a restart (the keep time counts from the
  // decision, not from the start of the process).
  f.advance_to(decided_at + keep_ms - ms_per_second);  // (the booking's request expiry fires)
  f.restart();
  const uint64_t head = f.engine->log().head().position;
  CHECK(f.run(student(), request("bk_1", later), tag("k", "request one")).replayed);
  CHECK(f.run(student(), request("bk_2", later), tag("k", "request two")).status == 409);
  CHECK(f.engine->log().head().position == head);

  // At the keep time the key is free: a different request with it is decided, and stored anew.
  f.advance_to(decided_at + keep_ms);
  const Reply fresh = f.run(student(), request("bk_2", later), tag("k", "request two"));
  CHECK(fresh.status == 200);
  CHECK_FALSE(fresh.replayed);
  CHECK(f.engine->log().head().position > head);
  CHECK(f.run(student(), request("bk_2", later), tag("k", "request two")).replayed);
  CHECK(f.run(student(), request("bk_1", later), tag("k", "request one")).status == 409);
}

TEST_CASE("ExpiredAnswersLeaveTheDiskAtCompactionAndEverythingElseStays") {
  EngineFixture f;
  for (int i = 0; i < 20; ++i) {
    REQUIRE(f.run(student(), request(fmt::format("bk_{}", i)), tag(fmt::format("k{}", i), fmt::format("r{}", i))).status == 200);
  }
  f.advance_by(f.options.idempotency_keep_seconds * ms_per_second);
  REQUIRE(f.run(student(), request("bk_late", example_start + 30 * ms_per_day), tag("late", "late request")).status == 200);
  const uint64_t head = f.engine->log().head().position;
  f.close();
  {
    // The horizon lives in memory: a store opened afresh finds what compaction has not removed.
    auto log = logtest::open_log(f.options.data_dir);
    REQUIRE(log->find_idempotency("student:s1", "k0").has_value());
    log->expire_idempotency_through(f.start_time - f.options.idempotency_keep_seconds * ms_per_second);
    REQUIRE(log->compact_idempotency_records().is_ok());
  }
  auto log = logtest::open_log(f.options.data_dir);
  for (int i = 0; i < 20; ++i) CHECK_FALSE(log->find_idempotency("student:s1", fmt::format("k{}", i)).has_value());
  CHECK(log->find_idempotency("student:s1", "late").has_value());
  CHECK(log->head().position == head);
  const VerifyReport report = log->verify();
  CHECK(report.clean);
  CHECK(report.events_checked == head);
}

TEST_CASE("ARejectedCommandDoesNotDisturbTheRestOfItsBatch") {
  EngineFixture f;
  std::latch gate(1);
  std::promise<void> entered;
  REQUIRE(f.engine->submit(blocking_submission(gate, entered)) == SubmitResult::queued);
  entered.get_future().wait();  // the writer is inside the first batch now

  std::vector<std::future<Reply>> replies;
  std::vector<std::promise<Reply>> promises(5);
  const std::vector<CommandBody> bodies = {request("bk_a"), request("bk_b"), AcceptBooking{"bk_missing"},
                                           request("bk_c", example_start - 5 * ms_per_day), request("bk_d")};
  for (size_t i = 0; i < bodies.size(); ++i) {
    Submission submission;
    submission.command.actor = student();
    submission.command.command_id = fmt::format("c{}", i);
    submission.command.body = bodies[i];
    replies.push_back(promises[i].get_future());
    submission.done = [&promise = promises[i]](Reply reply) { promise.set_value(std::move(reply)); };
    REQUIRE(f.engine->submit(std::move(submission)) == SubmitResult::queued);
  }
  const uint64_t batches_before = f.engine->stats().batches_total;
  gate.count_down();
  std::vector<int> statuses;
  for (auto& reply : replies) statuses.push_back(reply.get().status);
  CHECK(statuses == std::vector<int>{200, 200, 403, 400, 200});  // a tutor-only command, a past start
  CHECK(f.engine->stats().batches_total - batches_before == 2);   // the blocker's batch, then all five
  CHECK(f.count_events("BookingRequested") == 4);
}

TEST_CASE("AFullQueueAnswersBusyAndNeverBlocks") {
  EngineFixture f;
  f.close();
  f.options.queue_commands_max = 10;
  f.open();
  std::latch gate(1);
  std::promise<void> entered;
  REQUIRE(f.engine->submit(blocking_submission(gate, entered)) == SubmitResult::queued);
  entered.get_future().wait();
  std::vector<std::promise<Reply>> promises(10);
  for (size_t i = 0; i < promises.size(); ++i) {
    Submission submission;
    submission.command.actor = student();
    submission.command.command_id = fmt::format("q{}", i);
    submission.command.body = request(fmt::format("bk_q{}", i));
    submission.done = [&promise = promises[i]](Reply reply) { promise.set_value(std::move(reply)); };
    REQUIRE(f.engine->submit(std::move(submission)) == SubmitResult::queued);
  }
  Submission one_too_many;
  one_too_many.command.actor = student();
  one_too_many.command.body = request("bk_over");
  CHECK(f.engine->submit(std::move(one_too_many)) == SubmitResult::busy);
  gate.count_down();
  for (auto& promise : promises) CHECK(promise.get_future().get().status == 200);
}

TEST_CASE("RecoveryLoadsTheCheckpointAndReplaysOnlyTheTail") {
  EngineFixture f;
  f.close();
  f.options.checkpoint_on_stop = false;
  f.open();
  for (int i = 0; i < 20; ++i) f.book(fmt::format("bk_{}", i), example_start);
  std::promise<Status> checkpointed;
  REQUIRE(f.engine->checkpoint([&](Status s) { checkpointed.set_value(s); }) == SubmitResult::queued);
  REQUIRE(checkpointed.get_future().get().is_ok());
  const uint64_t checkpoint_position = f.engine->log().head().position;
  for (int i = 20; i < 25; ++i) f.book(fmt::format("bk_{}", i), example_start);
  const Digest before = live_state_hash(*f.engine);
  const uint64_t head = f.engine->log().head().position;
  f.close();  // the options say: no checkpoint on stop, so the last five bookings are a tail
  f.open();
  CHECK(live_state_hash(*f.engine) == before);
  CHECK(f.engine->recovery().checkpoint_used);
  CHECK(f.engine->recovery().checkpoint_position == checkpoint_position);
  CHECK(f.engine->recovery().events_replayed == head - checkpoint_position);
  CHECK(live_state_hash(*f.engine) == state_hash(f.rebuilt_from_log()));
}

TEST_CASE("ACheckpointThatDoesNotMatchIsDiscardedAndTheLogRebuilt") {
  EngineFixture f;
  for (int i = 0; i < 5; ++i) f.book(fmt::format("bk_{}", i), example_start);
  const Digest expected = live_state_hash(*f.engine);
  f.close();
  {
    std::unique_ptr<LogStore> log;
    REQUIRE(LogStore::open(f.options.data_dir, f.options.log, &log).is_ok());
    std::optional<Checkpoint> checkpoint;
    REQUIRE(log->read_checkpoint(&checkpoint).is_ok());
    REQUIRE(checkpoint);
    checkpoint->state_hash[0] ^= 1;  // a checkpoint whose state does not hash to what it claims
    REQUIRE(log->write_checkpoint(*checkpoint).is_ok());
  }
  f.open();
  CHECK_FALSE(f.engine->recovery().checkpoint_used);
  CHECK(f.engine->recovery().checkpoint_discarded.find("state hash") != std::string::npos);
  CHECK(f.engine->recovery().events_replayed == 5);
  CHECK(live_state_hash(*f.engine) == expected);
  CHECK(f.engine->recovery().checkpoint_rewrite_failed.empty());

  // Start-up replaced the bad checkpoint at once: a crash now (no checkpoint on stop) still
  // finds a usable one instead of rebuilding from the whole log again.
  f.options.checkpoint_on_stop = false;
  f.restart();
  CHECK(f.engine->recovery().checkpoint_used);
  CHECK(f.engine->recovery().events_replayed == 0);
  CHECK(live_state_hash(*f.engine) == expected);
}

TEST_CASE("ACheckpointOfAnEarlierStateFormatIsReplacedAtStartUp") {
  EngineFixture f;
  for (int i = 0; i < 3; ++i) f.book(fmt::format("bk_{}", i), example_start);
  const Digest expected = live_state_hash(*f.engine);
  f.close();
  const auto read_checkpoint = [&f] {
    std::unique_ptr<LogStore> log;
    REQUIRE(LogStore::open(f.options.data_dir, f.options.log, &log).is_ok());
    std::optional<Checkpoint> checkpoint;
    REQUIRE(log->read_checkpoint(&checkpoint).is_ok());
    REQUIRE(checkpoint);
    return *checkpoint;
  };
  {
    // What the previous version wrote: its format number right after the magic (little-endian).
    Checkpoint older = read_checkpoint();
    const size_t format_offset = Digest{}.size() + 4;
    REQUIRE(older.payload.size() > format_offset + 4);
    older.payload[format_offset] = static_cast<char>(state_format_version - 1);
    std::unique_ptr<LogStore> log;
    REQUIRE(LogStore::open(f.options.data_dir, f.options.log, &log).is_ok());
    REQUIRE(log->write_checkpoint(older).is_ok());
  }
  f.options.checkpoint_on_stop = false;
  f.open();
  CHECK(f.engine->recovery().checkpoint_discarded.find("state dump format") != std::string::npos);
  CHECK(live_state_hash(*f.engine) == expected);
  f.close();
  const Checkpoint rewritten = read_checkpoint();
  CHECK(state_dump_format(std::string_view(rewritten.payload).substr(Digest{}.size())) == state_format_version);
  CHECK(rewritten.state_hash == expected);
}

TEST_CASE("TheWriterThreadIsNamedSoProfilesAndTopShowIt") {
  // `top -H` and `perf report --sort comm` tell the writer from the HTTP threads by this name.
  // The thread names itself when it starts, which may be just after Engine::open returns.
  EngineFixture f;
  const auto writers_named = [] {
    long count = 0;
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
      std::ifstream comm(task.path() / "comm");
      std::string name;
      std::getline(comm, name);
      count += name == "tl-writer" ? 1 : 0;
    }
    return count;
  };
  CHECK(tl::test::eventually([&] { return writers_named() > 0; }, 5000));
  CHECK(writers_named() == 1);
}
