// `tutorledger serve`: the HTTP server over the engine (API.md CLI table).
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include <fmt/format.h>
#include <openssl/rand.h>

#include "api/app.h"
#include "api/cli.h"
#include "api/cli_args.h"
#include "api/nats_connection.h"
#include "api/nats_publisher.h"
#include "api/openapi_document.h"
#include "api/server.h"
#include "engine/engine.h"
#include "projections/time.h"

namespace tl::cli {
namespace {

constexpr std::string_view serve_usage =
    "usage: tutorledger serve [--data DIR] [--listen HOST:PORT] [--test-clock] [--production] [--io-threads N]\n"
    "                         [--idempotency-keep-hours N] [--nats URL [--nats-stream NAME] [--nats-replicas N]]\n"
    "\n"
    "  --data DIR          the ledger's RocksDB folder (default ./data; created if missing)\n"
    "  --listen HOST:PORT  where to listen (default 127.0.0.1:8080)\n"
    "  --test-clock        the clock stands still until POST /api/test/clock moves it\n"
    "  --production        refuse to start without TL_JWT_SECRET and TL_WEBHOOK_SECRET (also TL_ENV=production)\n"
    "  --io-threads N      HTTP I/O threads (default: the number of cores)\n"
    "  --idempotency-keep-hours N\n"
    "                      how long a request's Idempotency-Key answers retries (24 to 87840; default 168)\n"
    "  --nats URL          publish the log to NATS JetStream (nats://host:port, comma-separated for a\n"
    "                      cluster; also TL_NATS_URL); off when neither is given\n"
    "  --nats-stream NAME  the JetStream stream (default TUTORLEDGER_EVENTS; created if missing, taking the\n"
    "                      subjects tl.events.>, which no other stream on that NATS may hold)\n"
    "  --nats-replicas N   replicas of a stream this server creates (default 1)\n"
    "\n"
    "environment: TL_JWT_SECRET, TL_WEBHOOK_SECRET, TL_AGORA_APP_ID, TL_AGORA_APP_CERTIFICATE, TL_NATS_URL\n";

constexpr size_t production_secret_bytes_min = 32;
// "aaaa…" or "abababab…" has the length and none of the strength: a made-up or generated secret
// (hex, base64) uses far more distinct characters than this.
constexpr size_t production_secret_distinct_min = 10;
constexpr int nats_replicas_max = 5;  // JetStream's own limit
// API.md: "Keys are kept at least 24 h". At most ten years.
constexpr int64_t idempotency_keep_hours_min = 24;
constexpr int64_t idempotency_keep_hours_max = 10 * 366 * 24;
constexpr int64_t seconds_per_hour = 3600;

std::string env_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

std::string made_up_secret() {
  unsigned char bytes[24];
  if (RAND_bytes(bytes, sizeof bytes) != 1) std::abort();
  return to_hex(bytes, sizeof bytes);
}

// Production refuses to start without a strong secret; development makes one up and says so.
bool resolve_secret(const char* name, bool production, std::string* secret) {
  *secret = env_or_empty(name);
  if (production) {
    const std::set<char> distinct(secret->begin(), secret->end());
    if (secret->size() < production_secret_bytes_min || distinct.size() < production_secret_distinct_min) {
      std::fprintf(stderr,
                   "tutorledger: production mode needs %s (at least %zu characters, of at least %zu different ones: "
                   "e.g. openssl rand -hex 32)\n",
                   name, production_secret_bytes_min, production_secret_distinct_min);
      return false;
    }
    return true;
  }
  if (secret->empty()) {
    *secret = made_up_secret();
    std::fprintf(stderr, "tutorledger: development mode: %s=%s (made up for this run)\n", name, secret->c_str());
  }
  return true;
}

}  // namespace

int serve(Args args) {
  static constexpr OptionSpec specs[] = {{"data", true},        {"listen", true},     {"test-clock", false},
                                         {"production", false}, {"io-threads", true}, {"help", false},
                                         {"nats", true},        {"nats-stream", true}, {"nats-replicas", true},
                                         {"idempotency-keep-hours", true}};
  const ArgsResult parsed = parse_args(args, specs);
  if (!parsed.ok()) {
    std::fprintf(stderr, "tutorledger serve: %s\n\n%s", parsed.error.c_str(), serve_usage.data());
    return 2;
  }
  if (parsed.args.has("help")) {
    std::fputs(serve_usage.data(), stdout);
    return 0;
  }
  if (!parsed.args.positionals().empty()) {
    std::fprintf(stderr, "tutorledger serve: unexpected argument '%.*s'\n", static_cast<int>(parsed.args.positionals()[0].size()),
                 parsed.args.positionals()[0].data());
    return 2;
  }
  const std::string environment = env_or_empty("TL_ENV");
  if (!environment.empty() && environment != "production" && environment != "development") {
    std::fprintf(stderr, "tutorledger serve: TL_ENV must be production or development, not '%s'\n", environment.c_str());
    return 2;
  }
  const bool production = parsed.args.has("production") || environment == "production";
  const bool test_clock = parsed.args.has("test-clock");
  if (production && test_clock) {
    // An admin could move a production ledger's clock forward for good, firing every release.
    std::fprintf(stderr, "tutorledger serve: --test-clock is for development, not production mode\n");
    return 2;
  }
  api::AppConfig config;
  config.test_clock = test_clock;
  config.openapi_yaml = std::string(api::openapi_document());

  ServerOptions server_options;
  server_options.listen = std::string(parsed.args.value("listen").value_or("127.0.0.1:8080"));
  if (const Status listen = check_listen_address(server_options.listen); !listen.is_ok()) {
    std::fprintf(stderr, "tutorledger serve: --listen: %s\n", listen.message().c_str());
    return 2;
  }
  if (auto threads = parsed.args.value("io-threads")) {
    const auto count = parse_whole_number(*threads, 1, static_cast<int64_t>(io_threads_max));
    if (!count) {
      std::fprintf(stderr, "tutorledger serve: --io-threads must be 1 to %zu\n", io_threads_max);
      return 2;
    }
    server_options.io_threads = static_cast<size_t>(*count);
  }
  int64_t idempotency_keep_hours = EngineOptions{}.idempotency_keep_seconds / seconds_per_hour;
  if (auto hours = parsed.args.value("idempotency-keep-hours")) {
    const auto count = parse_whole_number(*hours, idempotency_keep_hours_min, idempotency_keep_hours_max);
    if (!count) {
      std::fprintf(stderr, "tutorledger serve: --idempotency-keep-hours must be %lld to %lld\n",
                   static_cast<long long>(idempotency_keep_hours_min), static_cast<long long>(idempotency_keep_hours_max));
      return 2;
    }
    idempotency_keep_hours = *count;
  }
  server_options.metrics = std::make_shared<MetricsRegistry>();
  // The secrets last: a made-up one is printed only when the command line was good.
  // Both are checked before refusing, so that one start names every secret that is missing.
  const bool jwt_secret_ok = resolve_secret("TL_JWT_SECRET", production, &config.jwt_secret);
  const bool webhook_secret_ok = resolve_secret("TL_WEBHOOK_SECRET", production, &config.webhook_secret);
  if (!jwt_secret_ok || !webhook_secret_ok) return 2;
  config.agora = agora::agora_credentials_from_env();
  if (config.agora && !agora::credentials_are_valid(*config.agora)) {
    std::fprintf(stderr, "tutorledger: TL_AGORA_APP_ID and TL_AGORA_APP_CERTIFICATE must be 32 hex digits each\n");
    return 2;
  }

  std::optional<NatsPublisherOptions> nats_options;
  std::string nats_url(parsed.args.value("nats").value_or(""));
  if (nats_url.empty()) nats_url = env_or_empty("TL_NATS_URL");
  if (!nats_url.empty()) {
    if (const std::string problem = nats::nats_urls_problem(nats_url); !problem.empty()) {
      std::fprintf(stderr, "tutorledger serve: --nats (or TL_NATS_URL): %s\n", problem.c_str());
      return 2;
    }
    nats_options.emplace();
    nats_options->url = nats_url;
    if (auto stream = parsed.args.value("nats-stream")) nats_options->stream = std::string(*stream);
    if (auto replicas = parsed.args.value("nats-replicas")) {
      const auto count = parse_whole_number(*replicas, 1, nats_replicas_max);
      if (!count) {
        std::fprintf(stderr, "tutorledger serve: --nats-replicas must be 1 to %d\n", nats_replicas_max);
        return 2;
      }
      nats_options->replicas = static_cast<int>(*count);
    }
  } else if (parsed.args.has("nats-stream") || parsed.args.has("nats-replicas")) {
    std::fprintf(stderr, "tutorledger serve: --nats-stream and --nats-replicas need --nats URL (or TL_NATS_URL)\n");
    return 2;
  }

  // The address before the ledger: a port already taken fails the start before anything is
  // opened or created (opening the ledger fires the timers that fell due while it was down).
  // Connections wait in the kernel's queue until start(); the routes are added once the ledger is open.
  Router router;
  server_options.route_of = router.route_namer();
  Server server(server_options, router.handler());
  if (const Status bound = server.bind(); !bound.is_ok()) {
    std::fprintf(stderr, "tutorledger: cannot listen on %s: %s\n", server_options.listen.c_str(), bound.to_string().c_str());
    return 1;
  }

  EngineOptions engine_options;
  engine_options.data_dir = std::string(parsed.args.value("data").value_or("./data"));
  engine_options.idempotency_keep_seconds = idempotency_keep_hours * seconds_per_hour;
  std::unique_ptr<Clock> clock = std::make_unique<SystemClock>();
  if (test_clock) clock = std::make_unique<ManualClock>(ceil_to_second(SystemClock().now()));
  std::unique_ptr<Engine> engine;
  const Status opened = Engine::open(engine_options, std::move(clock), &engine);
  if (!opened.is_ok()) {
    std::fprintf(stderr, "tutorledger: cannot open the ledger at %s: %s\n", engine_options.data_dir.c_str(),
                 opened.to_string().c_str());
    return 1;
  }
  const RecoveryReport& recovery = engine->recovery();
  std::fprintf(stderr,
               "tutorledger: ledger %s at position %llu (%s, %llu events replayed, %llu timers, %lld ms)\n",
               engine_options.data_dir.c_str(), static_cast<unsigned long long>(engine->log().head().position),
               recovery.checkpoint_used ? "from checkpoint" : "rebuilt from the log",
               static_cast<unsigned long long>(recovery.events_replayed),
               static_cast<unsigned long long>(recovery.timers_scheduled), static_cast<long long>(recovery.elapsed_ms));
  if (!recovery.checkpoint_discarded.empty()) {
    std::fprintf(stderr, "tutorledger: checkpoint discarded: %s\n", recovery.checkpoint_discarded.c_str());
    if (recovery.checkpoint_rewrite_failed.empty()) {
      std::fprintf(stderr, "tutorledger: a new checkpoint of the restored state was written\n");
    } else {
      std::fprintf(stderr, "tutorledger: new checkpoint failed: %s\n", recovery.checkpoint_rewrite_failed.c_str());
    }
  }

  // Declared before the server, so it stops after the server (and before the engine closes the log).
  std::unique_ptr<NatsPublisher> publisher;
  if (nats_options) {
    publisher = std::make_unique<NatsPublisher>(engine->log(), *nats_options);
    publisher->register_metrics(*server_options.metrics);
    config.health_members = [publisher = publisher.get()](std::string& json, uint64_t position) {
      publisher->append_health(json, position);
    };
    std::fprintf(stderr, "tutorledger: publishing to NATS %s, stream %s\n", nats_options->url.c_str(),
                 nats_options->stream.c_str());
    publisher->start();
  }

  api::App app(*engine, std::move(config), server_options.metrics);
  app.add_routes(router);
  const Status started = server.start();
  if (!started.is_ok()) {
    std::fprintf(stderr, "tutorledger: cannot listen on %s: %s\n", server_options.listen.c_str(), started.to_string().c_str());
    return 1;
  }
  // Said once SIGTERM and SIGINT are handled: whoever waits for this line may stop us cleanly.
  server.run_until_signal([&] {
    std::fprintf(stderr, "tutorledger: listening on %s (port %u)%s%s\n", server_options.listen.c_str(), server.port(),
                 test_clock ? ", test clock" : "", production ? ", production" : ", development");
  });
  // In-flight requests have been answered; publish what is left (bounded), then drain the engine
  // and write a checkpoint. The publisher reads the log, so it stops first.
  if (publisher) publisher->stop();
  engine->stop();
  std::fprintf(stderr, "tutorledger: stopped at position %llu\n", static_cast<unsigned long long>(engine->log().head().position));
  return 0;
}

}  // namespace tl::cli
