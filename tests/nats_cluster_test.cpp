// The primary (`tutorledger serve --nats`, a real child process) publishing to a three-node
// JetStream cluster (stream replicas 3) through failures: a NATS node killed, the primary killed,
// every NATS node down. After each, the stream is exactly the log (message N at sequence N,
// Msg-Id "N-<hash>", the stored bytes of position N) and a replica that followed reaches the same state.
#include <doctest/doctest.h>

#include "api/nats_follower.h"
#include "engine/state_hash.h"
#include "support/nats_cluster.h"
#include "support/nats_test_support.h"

using namespace tl;
using namespace tl::test;

namespace {

constexpr int cluster_ready_ms = 20'000;
constexpr int catch_up_ms = 30'000;
constexpr uint64_t load_step_events = 60;  // bookings written between two steps of a scenario

void start_cluster(NatsCluster& nats) {
  nats.start_all();
  REQUIRE_MESSAGE(nats.wait_until_ready(cluster_ready_ms), nats.log(0));
}

// Waits until the load has booked `more` sessions beyond `from`.
void wait_booked(const BookingLoad& load, const PrimaryProcess& primary, uint64_t from, uint64_t more) {
  REQUIRE_MESSAGE(eventually([&] { return load.created() >= from + more; }, catch_up_ms),
                  "bookings stalled at " << load.created() << "; last answer " << load.last_status()
                                         << "; the primary's log:\n" << primary.log());
}

// A replica engine with a follower, in this process.
struct Replica {
  Replica(const std::string& data_dir, const std::string& url) {
    EngineOptions options;
    options.data_dir = data_dir;
    options.replica = true;
    const Status opened = Engine::open(options, std::make_unique<SystemClock>(), &engine);
    REQUIRE_MESSAGE(opened.is_ok(), opened.to_string());
    NatsFollowerOptions follower_options;
    follower_options.url = url;
    follower_options.retry_ms = 100;
    follower_options.fetch_wait_ms = 200;
    follower = std::make_unique<NatsFollower>(*engine, follower_options);
    follower->start();
  }
  uint64_t position() const { return engine->log().head().position; }
  Digest hash() const {
    return engine->read([](const State& state) { return state_hash(state); });
  }
  std::unique_ptr<Engine> engine;
  std::unique_ptr<NatsFollower> follower;
};

}  // namespace

TEST_CASE("KillingANatsNodeWhilePublishingLeavesNoGapNoDuplicateAndTheReplicaConverges") {
  NatsCluster nats(3);
  start_cluster(nats);
  logtest::TempFolder folder;
  PrimaryProcess primary(folder.sub("primary"), folder.sub("primary.log"), {"--nats", nats.urls(), "--nats-replicas", "3"});
  primary.start();
  Replica replica(folder.sub("replica"), nats.urls());
  BookingLoad load(primary.port());
  wait_booked(load, primary, 0, load_step_events);

  // Publishing is under way (a new R3 stream takes a moment to elect its first leader)...
  REQUIRE_MESSAGE(eventually([&] { return primary.health().published >= load_step_events; }, catch_up_ms),
                  primary.health().body << "\n" << primary.log());
  // ...when the node that leads the stream is killed: the other two elect a new leader and go on.
  std::string leader;
  REQUIRE(eventually([&] { return !(leader = stream_leader(nats.urls())).empty(); }, catch_up_ms));
  const size_t killed = static_cast<size_t>(leader.back() - '1');
  REQUIRE(killed < nats.size());
  const uint64_t published_before_kill = primary.health().published;
  nats.kill(killed);
  wait_booked(load, primary, load.created(), load_step_events);
  REQUIRE_MESSAGE(
      eventually([&] { return primary.health().published > published_before_kill + load_step_events; }, catch_up_ms),
      primary.health().body << "\n" << primary.log());
  nats.start(killed);  // it rejoins and catches up from its peers
  wait_booked(load, primary, load.created(), load_step_events / 2);
  load.stop();

  REQUIRE_MESSAGE(primary.wait_published(catch_up_ms), primary.health().body << "\n" << primary.log());
  const std::vector<std::string> values = stored_values_of(primary.data_dir());
  CHECK(values.size() == primary.health().position);
  CHECK(values.size() >= 2 * load_step_events);
  check_stream_equals_log(nats.urls(), values);
  REQUIRE_MESSAGE(eventually([&] { return replica.position() == values.size(); }, catch_up_ms),
                  replica.follower->status().problem);
  CHECK(replica.hash() == state_hash_of(primary.data_dir()));
  CHECK(primary.stop() == 0);
}

TEST_CASE("KillingThePrimaryMidPublishAndRestartingItKeepsTheStreamEqualToTheLog") {
  NatsCluster nats(3);
  start_cluster(nats);
  logtest::TempFolder folder;
  PrimaryProcess primary(folder.sub("primary"), folder.sub("primary.log"), {"--nats", nats.urls(), "--nats-replicas", "3"});
  primary.start();
  BookingLoad load(primary.port());
  wait_booked(load, primary, 0, load_step_events);
  primary.kill();  // SIGKILL while bookings are written and published
  const uint64_t before_restart = load.created();
  primary.start();  // the same folder; it resumes after the stream's last message
  load.set_port(primary.port());
  wait_booked(load, primary, before_restart, load_step_events);
  load.stop();

  REQUIRE_MESSAGE(primary.wait_published(catch_up_ms), primary.health().body << "\n" << primary.log());
  const std::vector<std::string> values = stored_values_of(primary.data_dir());
  CHECK(values.size() >= before_restart + load_step_events);
  check_stream_equals_log(nats.urls(), values);
  CHECK(primary.stop() == 0);
}

TEST_CASE("WithEveryNatsNodeDownTheServerKeepsWritingAndCatchesUpLater") {
  NatsCluster nats(3);
  start_cluster(nats);
  logtest::TempFolder folder;
  PrimaryProcess primary(folder.sub("primary"), folder.sub("primary.log"), {"--nats", nats.urls(), "--nats-replicas", "3"});
  primary.start();
  BookingLoad load(primary.port());
  wait_booked(load, primary, 0, load_step_events);
  // The outage comes once publishing is under way. Seen once (sanitizer build, loaded machine):
  // stopping every node 0.3 s after the new R3 stream was created left a stream that answered
  // stream info but timed out every publish, also after the cluster came back. That is a stream
  // whose Raft group never settled, not the outage this test is about.
  REQUIRE_MESSAGE(eventually([&] { return primary.health().published >= load_step_events; }, catch_up_ms),
                  primary.health().body << "\n" << primary.log());
  nats.stop_all();
  REQUIRE(eventually([&] { return !primary.health().nats_connected; }, catch_up_ms));
  wait_booked(load, primary, load.created(), load_step_events);  // the ledger does not wait for NATS
  const PrimaryProcess::Health down = primary.health();
  CHECK(down.ok);  // /healthz stays 200 while the ledger works
  CHECK(down.lag >= load_step_events);
  CHECK(down.position - down.published == down.lag);

  start_cluster(nats);
  // The stream can take messages again once its Raft group has a leader. Seen once (CI, Release
  // build, tests running two at a time): after the restart the stream's replicas, stopped at 431
  // and 438 messages, stayed without a leader for the whole 30 s (every message read answered
  // "JetStream system temporarily unavailable", while the primary retried as it should). That
  // is NATS not recovering, not the ledger failing to catch up; restarting the cluster once
  // more, as an operator would, gives the stream its election again.
  if (!eventually([&] { return !stream_leader(nats.urls()).empty(); }, catch_up_ms)) {
    MESSAGE("the stream had no leader ", catch_up_ms, " ms after the cluster restarted; restarting it once more");
    nats.stop_all();
    start_cluster(nats);
    REQUIRE_MESSAGE(eventually([&] { return !stream_leader(nats.urls()).empty(); }, catch_up_ms), nats.log(0));
  }
  wait_booked(load, primary, load.created(), load_step_events / 2);
  load.stop();
  REQUIRE_MESSAGE(primary.wait_published(catch_up_ms), primary.health().body << "\n" << primary.log());
  const std::vector<std::string> values = stored_values_of(primary.data_dir());
  CHECK(values.size() >= 2 * load_step_events);
  check_stream_equals_log(nats.urls(), values);
  CHECK(primary.stop() == 0);
}
