// Read replicas following a real one-node JetStream server: the `tutorledger replica` binary from
// an empty folder and after a restart, and the follower's handling of resumption, stale durables,
// damage, oversized messages and lag.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <csignal>
#include <future>

#include "api/nats_connection.h"
#include "api/nats_follower.h"
#include "api/nats_publisher.h"
#include "engine/state_hash.h"
#include "support/api_fixture.h"
#include "support/engine_fixture.h"
#include "support/nats_cluster.h"
#include "support/nats_test_support.h"

using namespace tl;
using namespace tl::test;

namespace {

constexpr int catch_up_ms = 15'000;

Digest hash_of(const Engine& engine) {
  return engine.read([](const State& state) { return state_hash(state); });
}

std::vector<std::string> values_of(const LogStore& log) {
  std::vector<std::string> values;
  REQUIRE(log.scan_raw(1, [&](uint64_t, std::string_view value) {
    values.emplace_back(value);
    return true;
  }).is_ok());
  return values;
}

NatsPublisherOptions publisher_options(const NatsCluster& nats) {
  NatsPublisherOptions options;
  options.url = nats.urls();
  options.retry_ms = 100;
  options.ack_wait_ms = 2'000;
  return options;
}

NatsFollowerOptions follower_options(const NatsCluster& nats) {
  NatsFollowerOptions options;
  options.url = nats.urls();
  options.retry_ms = 100;
  options.fetch_wait_ms = 200;
  return options;
}

void start_ready(NatsCluster& nats) {
  nats.start_all();
  REQUIRE(nats.wait_until_ready(10'000));
}

// A replica engine over its own folder.
struct ReplicaEngine {
  explicit ReplicaEngine(std::string data_dir) {
    EngineOptions options;
    options.data_dir = std::move(data_dir);
    options.replica = true;
    const Status opened = Engine::open(options, std::make_unique<SystemClock>(), &engine);
    REQUIRE_MESSAGE(opened.is_ok(), opened.to_string());
  }
  std::unique_ptr<Engine> engine;
};

// A primary with a publisher that has published everything it holds.
struct PublishedPrimary {
  explicit PublishedPrimary(const NatsCluster& nats) : publisher(primary.engine->log(), publisher_options(nats)) {
    publisher.start();
  }
  void wait_published() {
    REQUIRE(eventually([&] { return publisher.status().published_position == primary.engine->log().head().position; },
                       catch_up_ms));
  }
  EngineFixture primary;
  NatsPublisher publisher;
};

std::string health_of(uint16_t port) {
  auto client = HttpClient::connect(port);
  if (!client) return "";
  const auto response = client->request("GET", "/healthz");
  return response && response->status == 200 ? response->body : "";
}

}  // namespace

TEST_CASE("AReplicaFromAnEmptyFolderCatchesUpMatchesThePrimaryAndResumesAfterARestart") {
  NatsCluster nats(1);
  start_ready(nats);
  ApiFixture api;
  NatsPublisher publisher(api.engine->log(), publisher_options(nats));
  publisher.start();
  const std::string booking = api.create_booking(student(), "t1", example_start);
  api.accept_and_pay(booking, tutor(), student());
  api.create_booking(student("s2"), "t2", example_start + ms_per_day);
  const uint64_t head = api.engine->log().head().position;
  REQUIRE(eventually([&] { return publisher.status().published_position == head; }, catch_up_ms));

  logtest::TempFolder folder;
  const std::string replica_data = folder.sub("replica");
  ChildProcess replica;
  uint16_t port = 0;
  int runs = 0;
  auto start_replica = [&] {
    replica = ChildProcess::spawn(
        tutorledger_binary(),
        {"replica", "--nats", nats.urls(), "--data", replica_data, "--listen", "127.0.0.1:0", "--primary",
         "http://primary.example:8080", "--io-threads", "2"},
        {"TL_JWT_SECRET=" + std::string(test_jwt_secret)}, folder.sub(fmt::format("replica-{}.log", ++runs)));
    std::string text;
    const auto listening = replica.wait_for_log(std::regex(R"(replica listening on .* \(port (\d+)\))"), 20'000, &text);
    REQUIRE_MESSAGE(listening.has_value(), text);
    port = static_cast<uint16_t>(std::stoi((*listening)[1].str()));
  };
  start_replica();
  auto applied = [&port](uint64_t position) {
    return health_of(port).find(fmt::format(R"("applied":{},"lag":0)", position)) != std::string::npos;
  };
  REQUIRE_MESSAGE(eventually([&] { return applied(head); }, catch_up_ms), health_of(port) << replica.log());

  // Every read route answers from the replica's own projections, the same as the primary's.
  auto replica_call = [&port](std::string_view method, std::string_view target, const Actor& as) {
    auto client = HttpClient::connect(port);
    REQUIRE(client);
    const auto response = client->request(method, target, method == "POST" ? "{}" : "",
                                          {{"Authorization", "Bearer " + ApiFixture::token_for(as)}});
    REQUIRE(response);
    return *response;
  };
  const auto primary_digest = api.call("GET", "/api/ledger/digest", "", admin());
  CHECK(replica_call("GET", "/api/ledger/digest", admin()).body == primary_digest.body);
  CHECK(primary_digest.body.find(fmt::format(R"("position":{})", head)) != std::string::npos);
  CHECK(replica_call("GET", "/api/bookings/" + booking, student()).body ==
        api.call("GET", "/api/bookings/" + booking, "", student()).body);
  CHECK(replica_call("GET", "/api/events?from=1", admin()).body == api.call("GET", "/api/events?from=1", "", admin()).body);
  const auto write = replica_call("POST", "/api/bookings/" + booking + "/cancel", student());
  CHECK(write.status == 405);
  CHECK(write.header("Location") == "http://primary.example:8080");
  auto metrics = HttpClient::connect(port)->request("GET", "/metrics");
  REQUIRE(metrics);
  CHECK(metrics->body.find(fmt::format("tl_replica_applied_position {}\n", head)) != std::string::npos);
  CHECK(metrics->body.find("tl_replica_lag_events 0\n") != std::string::npos);
  CHECK(metrics->body.find("tl_replica_lag_seconds 0.000\n") != std::string::npos);
  CHECK(metrics->body.find("tl_replica_connected 1\n") != std::string::npos);

  // Restarted, it resumes after what it holds: the primary moved on meanwhile.
  replica.signal(SIGTERM);
  REQUIRE(replica.wait(20'000) == 0);
  CHECK(state_hash_of(replica_data) == hash_of(*api.engine));
  api.advance_seconds(2 * 24 * 3600 + 600);  // bookings expire or start their windows: timers fire on the primary
  api.create_booking(student(), "t1", example_start + 3 * ms_per_day);
  const uint64_t later = api.engine->log().head().position;
  REQUIRE(later > head);
  REQUIRE(eventually([&] { return publisher.status().published_position == later; }, catch_up_ms));
  start_replica();
  REQUIRE_MESSAGE(eventually([&] { return applied(later); }, catch_up_ms), replica.log());
  CHECK(replica.log().find(fmt::format("with consumer replica from position {}\n", head + 1)) != std::string::npos);
  CHECK(replica_call("GET", "/api/ledger/digest", admin()).body == api.call("GET", "/api/ledger/digest", "", admin()).body);
  replica.signal(SIGTERM);
  REQUIRE(replica.wait(20'000) == 0);
  CHECK(state_hash_of(replica_data) == hash_of(*api.engine));
  CHECK(values_of(*logtest::open_log(replica_data)) == values_of(api.engine->log()));  // byte for byte
}

TEST_CASE("ARestartedFollowerAppliesOnlyWhatIsNew") {
  NatsCluster nats(1);
  start_ready(nats);
  PublishedPrimary source(nats);
  for (int i = 0; i < 4; ++i) source.primary.book("bk_" + std::to_string(i), example_start);
  source.wait_published();
  logtest::TempFolder folder;
  ReplicaEngine replica(folder.sub("replica"));
  std::vector<TimeMs> applied_ats;
  NatsFollowerOptions options = follower_options(nats);
  options.on_applied = [&applied_ats](const std::vector<TimeMs>& ats) {
    applied_ats.insert(applied_ats.end(), ats.begin(), ats.end());
  };
  {
    NatsFollower follower(*replica.engine, options);
    follower.start();
    // The follower counts a batch (and calls on_applied) just after the engine applied it.
    REQUIRE(eventually([&] { return follower.status().applied_events_total == 4; }, catch_up_ms));
    CHECK(replica.engine->log().head().position == 4);
  }
  CHECK(applied_ats.size() == 4);
  for (int i = 4; i < 7; ++i) source.primary.book("bk_" + std::to_string(i), example_start);
  source.wait_published();
  NatsFollower follower(*replica.engine, options);
  follower.start();
  REQUIRE(eventually([&] { return follower.status().applied_events_total >= 3; }, catch_up_ms));
  follower.stop();  // joins: every on_applied call has returned
  CHECK(replica.engine->log().head().position == 7);
  const NatsFollowerStatus status = follower.status();
  CHECK(status.applied_events_total == 3);
  CHECK(status.redeliveries_skipped_total == 0);
  CHECK(status.consumer_resets_total == 0);  // the durable was where the local log is
  CHECK(applied_ats.size() == 7);
  CHECK(hash_of(*replica.engine) == hash_of(*source.primary.engine));
}

TEST_CASE("ADurableThatWouldDeliverSomethingElseIsCreatedAgainAtTheLocalHead") {
  NatsCluster nats(1);
  start_ready(nats);
  PublishedPrimary source(nats);
  for (int i = 0; i < 3; ++i) source.primary.book("bk_" + std::to_string(i), example_start);
  source.wait_published();
  logtest::TempFolder folder;
  ReplicaEngine replica(folder.sub("replica"));
  // The replica already holds positions 1 and 2 (say, restored from a copy).
  const std::vector<std::string> values = values_of(source.primary.engine->log());
  std::promise<Status> done;
  REQUIRE(replica.engine->replicate({values[0], values[1]}, [&done](Status s) { done.set_value(s); }) ==
          SubmitResult::queued);
  REQUIRE(done.get_future().get().is_ok());
  {  // A durable of that name delivering from the start: the local log must win.
    tl::nats::ConnectOptions connect;
    connect.url = nats.url(0);
    std::unique_ptr<tl::nats::Session> session;
    REQUIRE(tl::nats::Session::connect(connect, &session).is_ok());
    jsConsumerConfig config;
    jsConsumerConfig_Init(&config);
    config.Durable = "replica";
    config.AckPolicy = js_AckExplicit;
    config.FilterSubject = "tl.events.>";
    jsConsumerInfo* info = nullptr;
    REQUIRE(js_AddConsumer(&info, session->jetstream(), "TUTORLEDGER_EVENTS", &config, nullptr, nullptr) == NATS_OK);
    jsConsumerInfo_Destroy(info);
  }
  NatsFollower follower(*replica.engine, follower_options(nats));
  follower.start();
  REQUIRE(eventually([&] { return follower.status().applied_events_total >= 1; }, catch_up_ms));
  CHECK(replica.engine->log().head().position == 3);
  const NatsFollowerStatus status = follower.status();
  CHECK(status.consumer_resets_total == 1);
  CHECK(status.applied_events_total == 1);
  CHECK(status.redeliveries_skipped_total == 0);
  CHECK(hash_of(*replica.engine) == hash_of(*source.primary.engine));
}

TEST_CASE("AFollowerStopsAtADamagedMessageNamingItsPositionAndSkipsNothing") {
  NatsCluster nats(1);
  start_ready(nats);
  EngineFixture primary;
  for (int i = 0; i < 3; ++i) primary.book("bk_" + std::to_string(i), example_start);
  const std::vector<std::string> values = values_of(primary.engine->log());
  create_stream(nats.url(0));  // filled by hand here, the third event damaged on the way
  REQUIRE(publish_raw(nats.url(0), 1, values[0]) == "ok");
  logtest::TempFolder folder;
  ReplicaEngine replica(folder.sub("replica"));
  std::atomic<bool> stopped_called{false};
  NatsFollowerOptions options = follower_options(nats);
  options.on_stopped = [&stopped_called](const Status& why) { stopped_called = why.is_corruption(); };
  std::string damaged = values[2];
  damaged[damaged.find("Mathematics") + 1] = 'A';
  REQUIRE(publish_raw(nats.url(0), 2, values[1]) == "ok");
  REQUIRE(publish_raw(nats.url(0), 3, damaged) == "ok");
  REQUIRE(publish_raw(nats.url(0), 4, values[0]) == "ok");  // never reached
  NatsFollower follower(*replica.engine, options);
  follower.start();
  REQUIRE(eventually([&] { return follower.status().stopped; }, catch_up_ms));
  CHECK(stopped_called);
  CHECK(follower.status().problem.find("STOPPED at position 2: corruption: position 3: hash mismatch") != std::string::npos);
  CHECK(replica.engine->log().head().position == 2);
  std::string health;
  follower.append_health(health);
  CHECK(health.find("\"stopped\":\"STOPPED at position 2") != std::string::npos);
}

TEST_CASE("AMessageOverTheFetchByteLimitIsFetchedAloneNotWaitedForever") {
  NatsCluster nats(1);
  start_ready(nats);
  const std::string big(100 * 1024, 'x');  // over fetch_bytes_max; not a record either
  create_stream(nats.url(0));
  REQUIRE(publish_raw(nats.url(0), 1, big) == "ok");
  logtest::TempFolder folder;
  ReplicaEngine replica(folder.sub("replica"));
  NatsFollowerOptions options = follower_options(nats);
  options.fetch_bytes_max = 64 * 1024;
  NatsFollower follower(*replica.engine, options);
  follower.start();
  REQUIRE(eventually([&] { return follower.status().stopped; }, catch_up_ms));
  CHECK(follower.status().problem.find("corruption: position 1: ") != std::string::npos);
  CHECK(replica.engine->log().head().position == 0);
}

TEST_CASE("ABehindReplicaReportsItsLagInEventsAndSeconds") {
  NatsCluster nats(1);
  start_ready(nats);
  PublishedPrimary source(nats);
  for (int i = 0; i < 30; ++i) source.primary.book("bk_" + std::to_string(i), example_start);
  source.wait_published();
  logtest::TempFolder folder;
  ReplicaEngine replica(folder.sub("replica"));
  NatsFollowerOptions options = follower_options(nats);
  options.fetch_messages_max = 10;
  std::promise<void> first_batch;
  std::promise<void> go_on;
  std::shared_future<void> released = go_on.get_future().share();
  int batches = 0;
  options.on_applied = [&](const std::vector<TimeMs>&) {
    if (++batches == 1) {
      first_batch.set_value();
      released.wait();  // hold the follower behind the stream
    }
  };
  NatsFollower follower(*replica.engine, options);
  MetricsRegistry registry;
  TimeMs newest_at = 0;
  follower.register_metrics(registry, [&newest_at] { return newest_at + 1'500; });
  follower.start();
  first_batch.get_future().wait();
  newest_at = follower.status().newest_applied_at;
  CHECK(newest_at > 0);
  const std::string behind = registry.render();
  CHECK(behind.find("tl_replica_applied_position 10\n") != std::string::npos);
  CHECK(behind.find("tl_replica_lag_events 20\n") != std::string::npos);
  CHECK(behind.find("tl_replica_lag_seconds 1.500\n") != std::string::npos);
  go_on.set_value();
  REQUIRE(eventually([&] { return replica.engine->log().head().position == 30; }, catch_up_ms));
  REQUIRE(eventually([&] { return follower.status().lag_events == 0; }, catch_up_ms));
  const std::string caught_up = registry.render();
  CHECK(caught_up.find("tl_replica_lag_events 0\n") != std::string::npos);
  CHECK(caught_up.find("tl_replica_lag_seconds 0.000\n") != std::string::npos);
}

TEST_CASE("AReplicaAwayFromNatsShowsItsLagAsUnknownNotZero") {
  // While it cannot ask the stream, the stream may have grown by any number of events.
  NatsCluster nats(1);  // not started yet
  logtest::TempFolder folder;
  ReplicaEngine replica(folder.sub("replica"));
  NatsFollower follower(*replica.engine, follower_options(nats));
  follower.start();
  std::string health;
  follower.append_health(health);
  CHECK(health == R"("replica":{"connected":false,"applied":0,"lag":null})");
  start_ready(nats);
  PublishedPrimary source(nats);
  source.primary.book("bk_1", example_start);
  source.wait_published();
  REQUIRE(eventually([&] { return replica.engine->log().head().position == 1 && follower.status().lag_known; }, catch_up_ms));
  health.clear();
  follower.append_health(health);
  CHECK(health == R"("replica":{"connected":true,"applied":1,"lag":0})");
}
