// The NATS publisher against a real one-node JetStream server: order, bytes, resuming, outages,
// and refusing a stream that belongs to another ledger.
#include <doctest/doctest.h>

#include <set>

#include <fmt/format.h>

#include "api/nats_publisher.h"
#include "support/api_fixture.h"
#include "support/engine_fixture.h"
#include "support/nats_cluster.h"
#include "support/nats_test_support.h"

using namespace tl;
using namespace tl::test;

namespace {

constexpr int catch_up_ms = 15'000;

std::vector<std::string> values_of(const LogStore& log) {
  std::vector<std::string> values;
  REQUIRE(log.scan_raw(1, [&](uint64_t, std::string_view value) {
    values.emplace_back(value);
    return true;
  }).is_ok());
  return values;
}

NatsPublisherOptions options_for(const NatsCluster& nats) {
  NatsPublisherOptions options;
  options.url = nats.urls();
  options.retry_ms = 100;
  options.ack_wait_ms = 2'000;
  return options;
}

bool published_all(const NatsPublisher& publisher, const LogStore& log) {
  const NatsPublisherStatus status = publisher.status();
  return status.connected && status.published_position == log.head().position;
}

void start_ready(NatsCluster& nats) {
  nats.start_all();
  REQUIRE(nats.wait_until_ready(10'000));
}

}  // namespace

TEST_CASE("EveryEventIsPublishedInOrderAtItsPositionWithItsStoredBytes") {
  NatsCluster nats(1);
  start_ready(nats);
  EngineFixture primary;
  primary.book("bk_1", example_start);
  primary.accept_and_pay("bk_1");
  primary.advance_to(example_start);
  REQUIRE(primary.run(student(), StartSession{"bk_1"}).status == 200);
  REQUIRE(primary.run(tutor(), EndSession{"bk_1", "ok"}).status == 200);
  primary.advance_by(25 * ms_per_hour);  // the escrow release fires

  NatsPublisher publisher(primary.engine->log(), options_for(nats));
  publisher.start();
  REQUIRE(eventually([&] { return published_all(publisher, primary.engine->log()); }, catch_up_ms));
  // The tail: what is written while it runs follows.
  primary.book("bk_2", example_start + 7 * ms_per_day);
  primary.book("bk_3", example_start + 7 * ms_per_day, student("s2"), "t2");
  REQUIRE(eventually([&] { return published_all(publisher, primary.engine->log()); }, catch_up_ms));
  CHECK(publisher.status().lag_events() == 0);

  const std::vector<std::string> values = values_of(primary.engine->log());
  REQUIRE(values.size() > 10);
  check_stream_equals_log(nats.url(0), values);
  std::set<std::string> subjects;
  for (const StreamMessage& message : read_stream(nats.url(0))) subjects.insert(message.subject);
  CHECK(subjects.count("tl.events.booking") == 1);
  for (const std::string& subject : subjects) CHECK((subject == "tl.events.booking" || subject == "tl.events.tutor"));
}

TEST_CASE("WhileNatsIsDownTheLedgerKeepsWritingAndThePublisherCatchesUpAfterwards") {
  NatsCluster nats(1);  // not started: the server starts before NATS
  ApiFixture api;
  const NatsPublisher* shown = nullptr;
  api.config.health_members = [&shown](std::string& json, uint64_t position) {
    if (shown != nullptr) shown->append_health(json, position);
  };
  api.restart();
  NatsPublisher publisher(api.engine->log(), options_for(nats));
  shown = &publisher;
  MetricsRegistry registry;
  publisher.register_metrics(registry);
  publisher.start();

  for (int i = 0; i < 3; ++i) api.create_booking(student(), "t1", example_start);
  const uint64_t head = api.engine->log().head().position;
  REQUIRE(head >= 3);
  auto health = api.call("GET", "/healthz");
  CHECK(health.status == 200);
  // Where the stream stands is not known before NATS has answered once (it may hold this log's
  // events from before a restart): unknown, not 0.
  CHECK(health.body.find(R"("nats":{"connected":false,"published":null,"lag":null})") != std::string::npos);
  CHECK(registry.render().find(fmt::format("tl_nats_publish_lag_events {}\n", head)) != std::string::npos);
  CHECK(registry.render().find("tl_nats_connected 0\n") != std::string::npos);

  start_ready(nats);
  REQUIRE(eventually([&] { return published_all(publisher, api.engine->log()); }, catch_up_ms));
  health = api.call("GET", "/healthz");
  CHECK(health.body.find(fmt::format(R"("nats":{{"connected":true,"published":{},"lag":0}})", head)) != std::string::npos);
  CHECK(registry.render().find("tl_nats_publish_lag_events 0\n") != std::string::npos);
  CHECK(registry.render().find(fmt::format("tl_nats_published_position {}\n", head)) != std::string::npos);
  // /healthz is one snapshot at the position it shows, though the log and the publisher move while
  // it is written: published never beyond that position, published + lag == position.
  std::string snapshot;
  publisher.append_health(snapshot, head - 1);
  CHECK(snapshot == fmt::format(R"("nats":{{"connected":true,"published":{},"lag":0}})", head - 1));
  snapshot.clear();
  publisher.append_health(snapshot, head + 5);
  CHECK(snapshot == fmt::format(R"("nats":{{"connected":true,"published":{},"lag":5}})", head));

  // A second outage in the middle of writing: nothing lost, nothing twice.
  nats.stop(0);
  for (int i = 0; i < 3; ++i) api.create_booking(student(), "t1", example_start);
  REQUIRE(eventually([&] { return !publisher.status().connected; }, catch_up_ms));
  CHECK(publisher.status().lag_events() > 0);
  start_ready(nats);
  REQUIRE(eventually([&] { return published_all(publisher, api.engine->log()); }, catch_up_ms));
  check_stream_equals_log(nats.url(0), values_of(api.engine->log()));
  shown = nullptr;
}

TEST_CASE("ARestartedPublisherResumesAfterTheStreamsLastMessage") {
  NatsCluster nats(1);
  start_ready(nats);
  EngineFixture primary;
  for (int i = 0; i < 3; ++i) primary.book("bk_" + std::to_string(i), example_start);
  {
    NatsPublisher publisher(primary.engine->log(), options_for(nats));
    publisher.start();
    REQUIRE(eventually([&] { return published_all(publisher, primary.engine->log()); }, catch_up_ms));
  }
  for (int i = 3; i < 5; ++i) primary.book("bk_" + std::to_string(i), example_start);
  primary.restart();  // a new process: the publisher learns where to resume from the stream alone
  NatsPublisher publisher(primary.engine->log(), options_for(nats));
  publisher.start();
  REQUIRE(eventually([&] { return published_all(publisher, primary.engine->log()); }, catch_up_ms));
  CHECK(publisher.status().published_position == 5);
  check_stream_equals_log(nats.url(0), values_of(primary.engine->log()));
}

TEST_CASE("APublisherRefusesAStreamThatIsAheadOfItsLog") {
  NatsCluster nats(1);
  start_ready(nats);
  EngineFixture ledger_a;
  for (int i = 0; i < 4; ++i) ledger_a.book("bk_a" + std::to_string(i), example_start);
  {
    NatsPublisher publisher(ledger_a.engine->log(), options_for(nats));
    publisher.start();
    REQUIRE(eventually([&] { return published_all(publisher, ledger_a.engine->log()); }, catch_up_ms));
  }
  EngineFixture ledger_b;
  ledger_b.book("bk_b0", example_start);
  NatsPublisher publisher(ledger_b.engine->log(), options_for(nats));
  publisher.start();
  REQUIRE(eventually([&] { return publisher.status().refused; }, catch_up_ms));
  CHECK(publisher.status().problem.find("ahead of the local log (stream at 4, log at 1)") != std::string::npos);
  std::string health;
  publisher.append_health(health, ledger_b.engine->log().head().position);
  CHECK(health.find("\"refused\":\"stream TUTORLEDGER_EVENTS is ahead") != std::string::npos);
  CHECK(stream_last_sequence(nats.url(0)) == 4);
  check_stream_equals_log(nats.url(0), values_of(ledger_a.engine->log()));
}

TEST_CASE("APublisherRefusesAStreamWhoseLastMessageIsAnotherLedgersEvent") {
  NatsCluster nats(1);
  start_ready(nats);
  EngineFixture ledger_a;
  for (int i = 0; i < 2; ++i) ledger_a.book("bk_a" + std::to_string(i), example_start);
  {
    NatsPublisher publisher(ledger_a.engine->log(), options_for(nats));
    publisher.start();
    REQUIRE(eventually([&] { return published_all(publisher, ledger_a.engine->log()); }, catch_up_ms));
  }
  EngineFixture ledger_b;  // longer, and different from the first event on
  for (int i = 0; i < 3; ++i) ledger_b.book("bk_b" + std::to_string(i), example_start);
  NatsPublisher publisher(ledger_b.engine->log(), options_for(nats));
  publisher.start();
  REQUIRE(eventually([&] { return publisher.status().refused; }, catch_up_ms));
  CHECK(publisher.status().problem.find("position 2: stream TUTORLEDGER_EVENTS holds another event") != std::string::npos);
  CHECK(publisher.status().published_position == 0);
  CHECK(stream_last_sequence(nats.url(0)) == 2);
}

TEST_CASE("TwoPublishersWithTheSameHistoryCannotForkTheStream") {
  // A copy of the primary's data folder started as a second primary: the two logs agree up to
  // where they part. Whichever publishes second at a position is refused, and the stream stays
  // one ledger's log (with ids of positions alone, the second was dropped as a duplicate and
  // counted as published, and its next event appended after the other's).
  NatsCluster nats(1);
  start_ready(nats);
  EngineFixture ledger_a;
  EngineFixture ledger_b;
  for (int i = 0; i < 3; ++i) {
    ledger_a.book("bk_" + std::to_string(i), example_start);
    ledger_b.book("bk_" + std::to_string(i), example_start);
  }
  REQUIRE(values_of(ledger_a.engine->log()) == values_of(ledger_b.engine->log()));
  NatsPublisher publisher_a(ledger_a.engine->log(), options_for(nats));
  NatsPublisher publisher_b(ledger_b.engine->log(), options_for(nats));
  publisher_a.start();
  publisher_b.start();
  REQUIRE(eventually([&] { return published_all(publisher_a, ledger_a.engine->log()); }, catch_up_ms));
  REQUIRE(eventually([&] { return published_all(publisher_b, ledger_b.engine->log()); }, catch_up_ms));
  ledger_a.book("bk_from_a_1", example_start);
  REQUIRE(eventually([&] { return published_all(publisher_a, ledger_a.engine->log()); }, catch_up_ms));
  ledger_b.book("bk_from_b_1", example_start);
  ledger_b.book("bk_from_b_2", example_start);
  REQUIRE(eventually([&] { return publisher_b.status().refused; }, catch_up_ms));
  CHECK(publisher_b.status().problem.find("position 4: stream TUTORLEDGER_EVENTS holds another event") != std::string::npos);
  ledger_a.book("bk_from_a_2", example_start);
  REQUIRE(eventually([&] { return published_all(publisher_a, ledger_a.engine->log()); }, catch_up_ms));
  CHECK_FALSE(publisher_a.status().refused);
  check_stream_equals_log(nats.url(0), values_of(ledger_a.engine->log()));
}

TEST_CASE("AStreamWhoseSubjectsAnotherStreamTakesIsRefusedNotRetriedForever") {
  NatsCluster nats(1);
  start_ready(nats);
  EngineFixture ledger;
  ledger.book("bk_0", example_start);
  {
    NatsPublisher publisher(ledger.engine->log(), options_for(nats));  // creates TUTORLEDGER_EVENTS
    publisher.start();
    REQUIRE(eventually([&] { return published_all(publisher, ledger.engine->log()); }, catch_up_ms));
  }
  NatsPublisherOptions options = options_for(nats);
  options.stream = "OTHER_NAME";
  NatsPublisher publisher(ledger.engine->log(), options);
  publisher.start();
  REQUIRE(eventually([&] { return publisher.status().refused; }, catch_up_ms));
  CHECK(publisher.status().problem.find("stream OTHER_NAME cannot be created: another stream on this NATS already "
                                        "takes the subjects tl.events.>") != std::string::npos);
}

TEST_CASE("ServeRefusesNatsOptionsWithoutAUrl") {
  logtest::TempFolder folder;
  ChildProcess child = ChildProcess::spawn(tutorledger_binary(),
                                           {"serve", "--data", folder.sub("data"), "--nats-replicas", "3"},
                                           {"TL_NATS_URL="}, folder.sub("serve.log"));
  CHECK(child.wait(10'000) == 2);
  CHECK(child.log().find("need --nats URL") != std::string::npos);
  ChildProcess bad = ChildProcess::spawn(tutorledger_binary(),
                                         {"serve", "--data", folder.sub("data"), "--nats", "nats://127.0.0.1:1",
                                          "--nats-replicas", "9"},
                                         {}, folder.sub("serve2.log"));
  CHECK(bad.wait(10'000) == 2);
}
