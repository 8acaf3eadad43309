// A read replica follows the primary's stored records: verified, applied, same state hash.
#include <doctest/doctest.h>

#include <future>

#include "engine/state_hash.h"
#include "support/api_fixture.h"
#include "support/engine_fixture.h"

using namespace tl;
using namespace tl::test;

namespace {

std::vector<std::string> stored_values(const LogStore& log, uint64_t from = 1) {
  std::vector<std::string> values;
  REQUIRE(log.scan_raw(from, [&](uint64_t, std::string_view value) {
    values.emplace_back(value);
    return true;
  }).is_ok());
  return values;
}

Status replicate(Engine& replica, std::vector<std::string> values) {
  std::promise<Status> done;
  REQUIRE(replica.replicate(std::move(values), [&](Status s) { done.set_value(s); }) == SubmitResult::queued);
  return done.get_future().get();
}

Digest hash_of(const Engine& engine) {
  return engine.read([](const State& state) { return state_hash(state); });
}

struct Replica {
  logtest::TempFolder folder;
  std::unique_ptr<Engine> engine;
  Replica() {
    EngineOptions options;
    options.data_dir = folder.sub("replica");
    options.replica = true;
    REQUIRE(Engine::open(options, std::make_unique<SystemClock>(), &engine).is_ok());
  }
};

}  // namespace

TEST_CASE("AReplicaFedThePrimarysRecordsReachesTheSameStateHashAndLog") {
  EngineFixture primary;
  primary.book("bk_1", example_start);
  primary.accept_and_pay("bk_1");
  primary.advance_to(example_start);
  REQUIRE(primary.run(student(), StartSession{"bk_1"}).status == 200);
  REQUIRE(primary.run(tutor(), EndSession{"bk_1", "ok"}).status == 200);
  primary.advance_by(25 * ms_per_hour);  // the release fires on the primary
  const auto values = stored_values(primary.engine->log());
  REQUIRE(values.size() > 8);

  Replica replica;
  // In two batches, as a consumer would fetch them.
  REQUIRE(replicate(*replica.engine, {values.begin(), values.begin() + 5}).is_ok());
  REQUIRE(replicate(*replica.engine, {values.begin() + 5, values.end()}).is_ok());
  CHECK(hash_of(*replica.engine) == hash_of(*primary.engine));
  CHECK(replica.engine->log().head().hash == primary.engine->log().head().hash);
  CHECK(stored_values(replica.engine->log()) == values);  // byte for byte
  CHECK(replica.engine->stats().timers_pending == 0);     // replicas fire no timers
  // A replica takes no commands.
  Submission submission;
  submission.command.actor = student();
  submission.command.body = RequestBooking{"bk_2", "t1", "Maths", example_start, 60, etb_amount(100)};
  CHECK(replica.engine->submit(std::move(submission)) == SubmitResult::read_only);
}

TEST_CASE("AReplicaRefusesAGapAReplayOrADamagedRecordAndWritesNothing") {
  EngineFixture primary;
  for (int i = 0; i < 4; ++i) primary.book("bk_" + std::to_string(i), example_start);
  const auto values = stored_values(primary.engine->log());
  Replica replica;
  // A gap: position 2 first.
  Status status = replicate(*replica.engine, {values[1]});
  CHECK(status.is_corruption());
  CHECK(status.message().find("position 1") != std::string::npos);
  // A damaged byte inside the data.
  std::string damaged = values[0];
  damaged[damaged.find("Mathematics") + 1] = 'A';
  status = replicate(*replica.engine, {damaged});
  CHECK(status.is_corruption());
  CHECK(replica.engine->log().head().position == 0);
  // A good prefix, then the same record again (a redelivery must not be appended twice).
  REQUIRE(replicate(*replica.engine, {values[0], values[1]}).is_ok());
  CHECK(replicate(*replica.engine, {values[1]}).is_corruption());
  CHECK(replica.engine->log().head().position == 2);
  // A batch with a bad record in the middle writes none of it.
  std::vector<std::string> batch = {values[2], damaged, values[3]};
  CHECK(replicate(*replica.engine, batch).is_corruption());
  CHECK(replica.engine->log().head().position == 2);
}

TEST_CASE("OnAReplicaEveryWriteRouteAnswers405NamingThePrimary") {
  ApiFixture api;
  api.stop();
  api.engine_options.replica = true;
  api.config.read_only_replica = true;
  api.config.primary_url = "http://primary.example:8080";
  api.config.test_clock = false;
  api.start();
  auto r = api.call("POST", "/api/bookings", "{}", student());
  CHECK(r.status == 405);
  CHECK(r.header("Location") == "http://primary.example:8080");
  CHECK(r.body.find("read_only_replica") != std::string::npos);
  CHECK(api.call("POST", "/api/payments/webhook", "{}").status == 405);
  CHECK(api.call("GET", "/api/bookings", "", student()).status == 200);
  CHECK(api.call("GET", "/healthz").status == 200);
}
