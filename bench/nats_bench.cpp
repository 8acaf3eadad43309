// NATS publishing and replica lag (issue 9): the real `tutorledger serve` under the HTTP load of
// the API benchmark (POST /api/bookings, 64 keep-alive connections, loopback), first without NATS,
// then publishing to a 1-node JetStream (stream replicas 1), then to a 3-node JetStream cluster
// (stream replicas 3), with a read replica following the stream (an Engine opened with
// replica = true and a NatsFollower in this process, as tests/nats_cluster_test.cpp does).
//
// Measured per configuration: HTTP POST throughput and latency (and the ratio to the run without
// NATS), events written per second, events acknowledged by JetStream per second (the primary's
// /healthz "published" before and after the load), the publish lag at the end of the load and the
// time to catch up, and the replica lag of every event: the wall-clock time from the event's `at`
// (stamped by the primary's writer when it starts the event's batch, before the batch is synced)
// to the moment the replica's follower reports it applied and acknowledged (1 ms resolution; the
// same machine, so the same clock).
//   nats_bench --binary build/bench/tutorledger [--seconds 10] [--quick] [--connections 64] [--dir /tmp]
//              [--fetch-wait-ms N]  (the replica's fetch wait; default NatsFollowerOptions', as `replica` uses)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "api/jwt.h"
#include "api/nats_follower.h"
#include "bench/bench_common.h"
#include "engine/clock.h"
#include "engine/engine.h"
#include "projections/time.h"
#include "support/http_client.h"
#include "support/nats_nodes.h"
#include "support/server_process.h"

using namespace tl;
using namespace tl::bench;
using namespace tl::test;
using Steady = std::chrono::steady_clock;

namespace {

constexpr std::string_view jwt_secret = "nats-bench-secret-nats-bench-secret-0";
constexpr int cluster_ready_ms = 30'000;
constexpr int warmup_ms = 30'000;           // the stream created, its leader elected, the replica following
constexpr double catch_up_ms_max = 120'000;  // after the load: give up waiting for publisher or replica
constexpr int catch_up_poll_ms = 5;
constexpr uint64_t warmup_bookings = 50;
constexpr int request_timeout_ms = 10'000;
constexpr int lag_sample_ms = 50;          // how often the lag in events is sampled during the load

struct Settings {
  std::string binary = "build/bench/tutorledger";
  double seconds = 10;
  uint64_t connections = 64;
  std::string dir = "/tmp";
  int64_t fetch_wait_ms = NatsFollowerOptions{}.fetch_wait_ms;  // the replica's, as `tutorledger replica` uses
};

struct Configuration {
  std::string name;   // "none", "jetstream_1", "jetstream_3"
  size_t nodes = 0;   // 0: no NATS at all
  int replicas = 0;
};

struct Run {
  Configuration configuration;
  double seconds = 0;
  uint64_t created = 0;         // 201 answers during the load
  uint64_t failed = 0;          // other answers or no answer
  Percentiles http;
  uint64_t events = 0;          // log positions written during the load
  uint64_t published = 0;       // positions JetStream acknowledged during the load
  uint64_t lag_at_end = 0;      // log head - published when the load stopped
  // Sampled every lag_sample_ms during the load: log head - published, log head - replica head.
  uint64_t lag_samples = 0;
  double publish_lag_mean = 0;
  uint64_t publish_lag_max = 0;
  double replica_lag_events_mean = 0;
  uint64_t replica_lag_events_max = 0;
  double publish_catch_up_ms = 0;
  double replica_catch_up_ms = 0;
  bool caught_up = true;        // false: publisher or replica did not catch up within catch_up_ms_max
  std::vector<int64_t> replica_lag_ns;  // per event applied after the load began (1 ms resolution)
  Percentiles replica;
  uint64_t replica_applied = 0;
  std::string problem;          // why this configuration could not run
};

std::string bearer_token() {
  const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  return "Bearer " + sign_jwt(JwtClaims{"s1", JwtRole::student, now_s + 24 * 3600}, jwt_secret);
}

// A booking body that no other request of this run repeats: its own tutor per connection and a
// start time a week ahead that moves by a minute per request.
std::string booking_body(uint64_t connection, uint64_t counter, TimeMs start_base) {
  return fmt::format(
      R"({{"tutor_id":"t{}_{}","subject":"Mathematics","scheduled_start":"{}","duration_minutes":60,"price":{{"amount":35000,"currency":"ETB"}}}})",
      connection, counter % 10'000, format_rfc3339(start_base + static_cast<TimeMs>(counter % 50'000) * ms_per_minute));
}

struct Health {
  bool ok = false;
  uint64_t position = 0;
  uint64_t published = 0;
  bool connected = false;
};

uint64_t json_number(const std::string& body, const std::string& key) {
  std::smatch match;
  if (!std::regex_search(body, match, std::regex("\"" + key + "\":(\\d+)"))) return 0;
  return std::stoull(match[1].str());
}

Health health_of(uint16_t port) {
  Health health;
  auto client = HttpClient::connect(port);
  if (!client) return health;
  const auto response = client->request("GET", "/healthz");
  if (!response || response->status != 200) return health;
  health.ok = true;
  health.position = json_number(response->body, "position");
  health.published = json_number(response->body, "published");
  health.connected = response->body.find("\"connected\":true") != std::string::npos;
  return health;
}

// Polls every catch_up_poll_ms; the milliseconds it took, or nullopt after timeout_ms.
template <typename Condition>
std::optional<double> time_until(Condition condition, double timeout_ms) {
  const auto start = Steady::now();
  while (!condition()) {
    if (seconds_since(start) * 1e3 > timeout_ms) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(catch_up_poll_ms));
  }
  return seconds_since(start) * 1e3;
}

// The read replica: an engine over its own folder, fed by a NatsFollower; records each applied
// event's lag while `measuring` is set.
class Replica {
 public:
  Status open(const std::string& data_dir, const std::string& urls, int64_t fetch_wait_ms) {
    EngineOptions options;
    options.data_dir = data_dir;
    options.replica = true;
    if (Status opened = Engine::open(options, std::make_unique<SystemClock>(), &engine_); !opened.is_ok()) return opened;
    NatsFollowerOptions follower_options;
    follower_options.url = urls;
    follower_options.retry_ms = 100;
    follower_options.consumer = "bench";
    follower_options.fetch_wait_ms = fetch_wait_ms;
    follower_options.on_applied = [this](const std::vector<TimeMs>& ats) {
      if (!measuring_.load(std::memory_order_relaxed)) return;
      const TimeMs now = SystemClock().now();
      std::lock_guard lock(mutex_);
      for (const TimeMs at : ats) lag_ns_.push_back((now - at) * 1'000'000);
    };
    follower_ = std::make_unique<NatsFollower>(*engine_, follower_options);
    follower_->start();
    return Status::ok();
  }
  ~Replica() {
    if (follower_) follower_->stop();
    follower_.reset();
    if (engine_) engine_->stop();
  }
  uint64_t position() const { return engine_->log().head().position; }
  std::string problem() const { return follower_->status().problem; }
  void measure(bool on) { measuring_.store(on); }
  std::vector<int64_t> take_lags() {
    std::lock_guard lock(mutex_);
    return std::move(lag_ns_);
  }

 private:
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<NatsFollower> follower_;
  std::atomic<bool> measuring_{false};
  std::mutex mutex_;
  std::vector<int64_t> lag_ns_;
};

// `connections` keep-alive connections, one thread each, booking until `seconds` have passed.
void run_load(uint16_t port, const Settings& settings, Run* run) {
  const std::string token = bearer_token();
  const TimeMs start_base = SystemClock().now() + 7 * ms_per_day;
  std::atomic<uint64_t> created{0};
  std::atomic<uint64_t> failed{0};
  std::vector<std::vector<int64_t>> latencies(settings.connections);
  std::atomic<uint64_t> ready{0};
  std::atomic<bool> go{false};
  const auto duration = std::chrono::milliseconds(static_cast<int64_t>(settings.seconds * 1000));
  Steady::time_point end;
  std::vector<std::thread> threads;
  for (uint64_t c = 0; c < settings.connections; ++c) {
    threads.emplace_back([&, c] {
      const HeaderList headers = {{"Authorization", token}, {"Content-Type", "application/json"}};
      std::optional<HttpClient> client = HttpClient::connect(port);
      ready.fetch_add(1);
      while (!go.load()) std::this_thread::yield();
      for (uint64_t counter = 0; Steady::now() < end; ++counter) {
        if (!client) client = HttpClient::connect(port);
        if (!client) {
          failed.fetch_add(1);
          continue;
        }
        client->set_timeout_ms(request_timeout_ms);
        const auto sent = Steady::now();
        const auto response = client->request("POST", "/api/bookings", booking_body(c, counter, start_base), headers);
        latencies[c].push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(Steady::now() - sent).count());
        if (response && response->status == 201) {
          created.fetch_add(1, std::memory_order_relaxed);
        } else {
          failed.fetch_add(1, std::memory_order_relaxed);
          if (!response) client.reset();
        }
      }
    });
  }
  while (ready.load() < settings.connections) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const auto started = Steady::now();
  end = started + duration;
  go.store(true);
  for (std::thread& thread : threads) thread.join();
  run->seconds = seconds_since(started);
  run->created = created.load();
  run->failed = failed.load();
  std::vector<int64_t> all;
  for (auto& mine : latencies) all.insert(all.end(), mine.begin(), mine.end());
  run->http = percentiles(all);
}

Run run_configuration(const Configuration& configuration, const Settings& settings, const ScratchFolder& scratch) {
  Run run;
  run.configuration = configuration;
  const std::string folder = scratch.sub(configuration.name);
  std::filesystem::create_directories(folder + "/nats");

  std::optional<NatsNodes> nats;
  std::vector<std::string> args = {"--io-threads", "2"};
  if (configuration.nodes > 0) {
    nats.emplace(configuration.nodes, folder + "/nats");
    if (std::string problem = nats->start_all(); !problem.empty()) {
      run.problem = problem;
      return run;
    }
    if (!nats->wait_until_ready(cluster_ready_ms)) {
      run.problem = "JetStream did not become ready:\n" + nats->log(0);
      return run;
    }
    args.insert(args.end(), {"--nats", nats->urls(), "--nats-replicas", std::to_string(configuration.replicas)});
  }
  ServerProcess primary(folder + "/primary", free_loopback_port(), args,
                        {fmt::format("TL_JWT_SECRET={}", jwt_secret), "TL_WEBHOOK_SECRET=nats-bench"});
  if (!primary.start()) {
    run.problem = "tutorledger serve did not start:\n" + primary.log();
    return run;
  }
  std::optional<Replica> replica;
  if (nats) {
    replica.emplace();
    if (Status opened = replica->open(folder + "/replica", nats->urls(), settings.fetch_wait_ms); !opened.is_ok()) {
      run.problem = "the replica engine did not open: " + opened.to_string();
      return run;
    }
  }

  // Warm-up: a few bookings, then wait until they are published and applied on the replica, so
  // that stream creation and the first leader election are not measured.
  {
    auto client = HttpClient::connect(primary.port());
    const std::string token = bearer_token();
    const TimeMs start_base = SystemClock().now() + 14 * ms_per_day;
    for (uint64_t i = 0; client && i < warmup_bookings; ++i) {
      client->request("POST", "/api/bookings", booking_body(999, i, start_base),
                      {{"Authorization", token}, {"Content-Type", "application/json"}});
    }
    const Health after_warmup = health_of(primary.port());
    if (after_warmup.position < warmup_bookings) {
      run.problem = fmt::format("warm-up bookings failed (log head {}):\n{}", after_warmup.position, primary.log());
      return run;
    }
    if (replica) {
      const auto warm = time_until([&] { return replica->position() >= after_warmup.position; }, warmup_ms);
      if (!warm) {
        run.problem = fmt::format("the replica did not follow the warm-up ({} of {}): {}\n{}", replica->position(),
                                  after_warmup.position, replica->problem(), primary.log());
        return run;
      }
    }
  }

  const Health before = health_of(primary.port());
  if (replica) replica->measure(true);
  std::atomic<bool> load_running{true};
  std::thread sampler;
  if (replica) {
    sampler = std::thread([&] {
      uint64_t publish_sum = 0;
      uint64_t replica_sum = 0;
      while (load_running.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(lag_sample_ms));
        const Health now = health_of(primary.port());
        if (!now.ok) continue;
        const uint64_t replica_head = replica->position();
        const uint64_t publish_lag = now.position > now.published ? now.position - now.published : 0;
        const uint64_t replica_lag = now.position > replica_head ? now.position - replica_head : 0;
        ++run.lag_samples;
        publish_sum += publish_lag;
        replica_sum += replica_lag;
        run.publish_lag_max = std::max(run.publish_lag_max, publish_lag);
        run.replica_lag_events_max = std::max(run.replica_lag_events_max, replica_lag);
      }
      if (run.lag_samples > 0) {
        run.publish_lag_mean = static_cast<double>(publish_sum) / static_cast<double>(run.lag_samples);
        run.replica_lag_events_mean = static_cast<double>(replica_sum) / static_cast<double>(run.lag_samples);
      }
    });
  }
  run_load(primary.port(), settings, &run);
  const auto load_ended = Steady::now();
  const Health after = health_of(primary.port());  // before the sampler's join, which may take a sample's sleep
  load_running.store(false);
  if (sampler.joinable()) sampler.join();
  run.events = after.position - before.position;
  if (nats) {
    run.published = after.published - before.published;
    run.lag_at_end = after.position > after.published ? after.position - after.published : 0;
    // Both measured from the end of the load, polled together.
    std::optional<double> published_ms;
    std::optional<double> applied_ms;
    while (!(published_ms && applied_ms) && seconds_since(load_ended) * 1e3 < catch_up_ms_max) {
      if (!published_ms && run.lag_at_end == 0) published_ms = 0.0;  // published everything already
      if (!published_ms) {
        const Health now = health_of(primary.port());
        if (now.ok && now.published >= after.position) published_ms = seconds_since(load_ended) * 1e3;
      }
      if (!applied_ms && replica->position() >= after.position) applied_ms = seconds_since(load_ended) * 1e3;
      std::this_thread::sleep_for(std::chrono::milliseconds(catch_up_poll_ms));
    }
    run.caught_up = published_ms.has_value() && applied_ms.has_value();
    run.publish_catch_up_ms = published_ms.value_or(-1);
    run.replica_catch_up_ms = applied_ms.value_or(-1);
    replica->measure(false);
    run.replica_lag_ns = replica->take_lags();
    run.replica_applied = run.replica_lag_ns.size();
    run.replica = percentiles(run.replica_lag_ns);
    if (!run.caught_up) run.problem = "did not catch up: " + replica->problem();
  }
  replica.reset();
  primary.stop();
  return run;
}

double per_second(uint64_t count, double seconds) { return seconds > 0 ? static_cast<double>(count) / seconds : 0; }

std::string result_json(const Machine& m, const Run& run, double baseline_posts_per_s, const Settings& settings) {
  const double posts = per_second(run.created, run.seconds);
  const bool nats = run.configuration.nodes > 0;
  std::string out = fmt::format(
      R"({{"bench":"nats","configuration":"{}","nats_nodes":{},"stream_replicas":{},"connections":{},"seconds":{:.3f},)"
      R"("posts":{},"failed":{},"posts_per_s":{:.0f},"post_ratio_to_no_nats":{:.3f},"http_p50_ms":{:.3f},"http_p99_ms":{:.3f},)"
      R"("events":{},"events_per_s":{:.0f})",
      run.configuration.name, run.configuration.nodes, run.configuration.replicas, settings.connections, run.seconds,
      run.created, run.failed, posts, baseline_posts_per_s > 0 ? posts / baseline_posts_per_s : 0,
      run.http.p50_us / 1e3, run.http.p99_us / 1e3, run.events, per_second(run.events, run.seconds));
  if (nats) {
    out += fmt::format(
        R"(,"published":{},"published_per_s":{:.0f},"publish_lag_events_at_end":{},"publish_catch_up_ms":{:.0f},)"
        R"("replica_catch_up_ms":{:.0f},"caught_up":{},"replica_events_measured":{},"replica_lag_p50_ms":{:.1f},)"
        R"("replica_lag_p99_ms":{:.1f},"replica_lag_max_ms":{:.1f},"replica_fetch_wait_ms":{},)"
        R"("lag_samples":{},"publish_lag_events_mean":{:.1f},"publish_lag_events_max":{},)"
        R"("replica_lag_events_mean":{:.1f},"replica_lag_events_max":{},)"
        R"("replica_lag_definition":"wall clock from the event's at (primary writer, batch start, before its sync) to the in-process replica's follower callback after apply and ack; 1 ms resolution")",
        run.published, per_second(run.published, run.seconds), run.lag_at_end, run.publish_catch_up_ms,
        run.replica_catch_up_ms, run.caught_up ? "true" : "false", run.replica_applied, run.replica.p50_us / 1e3,
        run.replica.p99_us / 1e3, run.replica.max_us / 1e3, settings.fetch_wait_ms, run.lag_samples,
        run.publish_lag_mean, run.publish_lag_max, run.replica_lag_events_mean, run.replica_lag_events_max);
  }
  return out + "," + machine_json_fields(m) + "}";
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags(argc, argv);
  Settings settings;
  const bool quick = flags.has("--quick");
  settings.binary = flags.text("--binary", settings.binary);
  settings.seconds = flags.number("--seconds", quick ? 3 : settings.seconds);
  settings.connections = static_cast<uint64_t>(flags.number("--connections", 64));
  settings.dir = flags.text("--dir", settings.dir);
  settings.fetch_wait_ms = static_cast<int64_t>(flags.number("--fetch-wait-ms", static_cast<double>(settings.fetch_wait_ms)));
  if (const std::string unknown = flags.unknown(); !unknown.empty()) {
    fmt::print(stderr, "nats_bench: unknown argument {}\nusage: nats_bench --binary PATH [--seconds N] [--quick] "
                       "[--connections N] [--dir PARENT] [--fetch-wait-ms N]\n", unknown);
    return 2;
  }
  if (settings.seconds <= 0 || settings.connections == 0 || settings.fetch_wait_ms <= 0) {
    fmt::print(stderr, "nats_bench: --seconds, --connections and --fetch-wait-ms must be positive\n");
    return 2;
  }
  if (find_nats_server().empty()) {
    fmt::print(stderr, "nats_bench: nats-server is not installed (apt-get install nats-server, or TL_NATS_SERVER)\n");
    return 3;
  }
  setenv("TL_TUTORLEDGER_BIN", settings.binary.c_str(), 1);
  const Machine m = machine();
  ScratchFolder scratch(settings.dir, "nats-bench");
  fmt::print("NATS publishing and replica lag: {}\n", describe(m));
  fmt::print("POST /api/bookings, {} keep-alive connections on loopback, {:.0f} s per configuration; "
             "tutorledger serve --io-threads 2; nats-server {}; replica fetches of up to {} messages / {} KiB, "
             "waiting up to {} ms\n", settings.connections, settings.seconds, find_nats_server(),
             NatsFollowerOptions{}.fetch_messages_max, NatsFollowerOptions{}.fetch_bytes_max / 1024, settings.fetch_wait_ms);
  std::fflush(stdout);

  const std::vector<Configuration> configurations = {
      {"none", 0, 0}, {"jetstream_1", 1, 1}, {"jetstream_3", 3, 3}};
  std::vector<Run> runs;
  int exit_code = 0;
  for (const Configuration& configuration : configurations) {
    fmt::print("  running {}...\n", configuration.name);
    std::fflush(stdout);
    runs.push_back(run_configuration(configuration, settings, scratch));
    if (!runs.back().problem.empty()) {
      fmt::print(stderr, "nats_bench: {}: {}\n", configuration.name, runs.back().problem);
      exit_code = 1;
    }
  }
  const double baseline = per_second(runs[0].created, runs[0].seconds);

  fmt::print("\n{:<12} {:>8} {:>6} {:>7} {:>7} {:>7} {:>9} {:>8} {:>13} {:>8} {:>9} {:>13} {:>8} {:>8} {:>8} {:>9}\n",
             "config", "POST/s", "ratio", "p50 ms", "p99 ms", "failed", "events/s", "pub/s", "pub lag avg/max",
             "lag@end", "pub c-up", "rep lag avg/max", "rep p50", "rep p99", "rep max", "rep c-up");
  for (const Run& run : runs) {
    const double posts = per_second(run.created, run.seconds);
    const bool nats = run.configuration.nodes > 0;
    auto or_dash = [&](double value, int digits) { return nats ? fmt::format("{:.{}f}", value, digits) : std::string("-"); };
    const std::string publish_lag = nats ? fmt::format("{:.0f}/{}", run.publish_lag_mean, run.publish_lag_max) : "-";
    const std::string replica_lag = nats ? fmt::format("{:.0f}/{}", run.replica_lag_events_mean, run.replica_lag_events_max) : "-";
    fmt::print("{:<12} {:>8.0f} {:>6.2f} {:>7.2f} {:>7.2f} {:>7} {:>9.0f} {:>8} {:>13} {:>8} {:>9} {:>13} {:>8} {:>8} {:>8} {:>9}\n",
               run.configuration.name, posts, baseline > 0 ? posts / baseline : 0, run.http.p50_us / 1e3,
               run.http.p99_us / 1e3, run.failed, per_second(run.events, run.seconds),
               or_dash(per_second(run.published, run.seconds), 0), publish_lag, or_dash(static_cast<double>(run.lag_at_end), 0),
               or_dash(run.publish_catch_up_ms, 0), replica_lag, or_dash(run.replica.p50_us / 1e3, 1),
               or_dash(run.replica.p99_us / 1e3, 1), or_dash(run.replica.max_us / 1e3, 1),
               or_dash(run.replica_catch_up_ms, 0));
  }
  fmt::print(
      "\nratio: POST/s over the run without NATS; pub/s: events acknowledged by JetStream per second during the load;\n"
      "pub lag / rep lag avg/max: log head - published / - the replica's head, in events, sampled every 50 ms during\n"
      "the load; lag@end: log head - published when the load stopped (events); pub c-up / rep c-up: ms after the load\n"
      "until the "
      "stream / the replica held every event; rep p50/p99/max: replica lag in ms per event, from the event's `at`\n"
      "(stamped by the primary's writer at the start of its batch, before the sync) to its application (and ack) on\n"
      "the replica, wall clock, 1 ms resolution. jetstream_3: three nats-server nodes, stream replicas 3.\n\n");
  for (const Run& run : runs) {
    if (run.problem.empty()) fmt::print("RESULT {}\n", result_json(m, run, baseline, settings));
  }
  return exit_code;
}
