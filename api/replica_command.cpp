// `tutorledger replica`: a read replica that follows the primary's log through NATS JetStream and
// serves every GET route of the contract; writes answer 405 naming the primary (DESIGN section 7).
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "api/app.h"
#include "api/cli.h"
#include "api/cli_args.h"
#include "api/nats_connection.h"
#include "api/nats_follower.h"
#include "api/openapi_document.h"
#include "api/server.h"
#include "engine/engine.h"

namespace tl::cli {
namespace {

constexpr std::string_view replica_usage =
    "usage: tutorledger replica --nats URL --data DIR [--listen HOST:PORT] [--primary URL]\n"
    "                           [--consumer NAME] [--nats-stream NAME] [--io-threads N]\n"
    "\n"
    "  --nats URL          the NATS servers (nats://host:port, comma-separated for a cluster)\n"
    "  --data DIR          this replica's own copy of the log (created if missing)\n"
    "  --listen HOST:PORT  where to serve the read routes (default 127.0.0.1:8081)\n"
    "  --primary URL       where writes go, e.g. http://10.0.0.5:8080 (named in 405 answers)\n"
    "  --consumer NAME     the durable JetStream consumer of this replica (default replica)\n"
    "  --nats-stream NAME  the stream the primary publishes to (default TUTORLEDGER_EVENTS)\n"
    "  --io-threads N      HTTP I/O threads (default: the number of cores)\n"
    "\n"
    "environment: TL_JWT_SECRET (required: the primary's, so its tokens are valid here)\n";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "tutorledger replica: %s\n\n%s", message.c_str(), replica_usage.data());
  return 2;
}

}  // namespace

int replica(Args args) {
  static constexpr OptionSpec specs[] = {{"nats", true},     {"data", true},        {"listen", true},
                                         {"primary", true},  {"consumer", true},    {"nats-stream", true},
                                         {"io-threads", true}, {"help", false}};
  const ArgsResult parsed = parse_args(args, specs);
  if (!parsed.ok()) return usage_error(parsed.error);
  if (parsed.args.has("help")) {
    std::fputs(replica_usage.data(), stdout);
    return 0;
  }
  if (!parsed.args.positionals().empty()) return usage_error("unexpected argument '" + std::string(parsed.args.positionals()[0]) + "'");
  if (!parsed.args.has("nats")) return usage_error("--nats URL is required");
  if (!parsed.args.has("data")) return usage_error("--data DIR is required");
  const char* secret = std::getenv("TL_JWT_SECRET");
  if (secret == nullptr || *secret == '\0') {
    std::fprintf(stderr, "tutorledger replica: set TL_JWT_SECRET to the primary's secret\n");
    return 2;
  }

  NatsFollowerOptions follower_options;
  follower_options.url = std::string(*parsed.args.value("nats"));
  if (const std::string problem = nats::nats_urls_problem(follower_options.url); !problem.empty()) {
    return usage_error("--nats: " + problem);
  }
  if (auto stream = parsed.args.value("nats-stream")) follower_options.stream = std::string(*stream);
  if (auto consumer = parsed.args.value("consumer")) follower_options.consumer = std::string(*consumer);
  if (follower_options.consumer.empty() || follower_options.consumer.find_first_of(".*> \t") != std::string::npos) {
    return usage_error("--consumer must be a name without '.', '*', '>' or spaces");
  }

  ServerOptions server_options;
  server_options.listen = std::string(parsed.args.value("listen").value_or("127.0.0.1:8081"));
  if (const Status listen = check_listen_address(server_options.listen); !listen.is_ok()) {
    return usage_error("--listen: " + listen.message());
  }
  if (auto threads = parsed.args.value("io-threads")) {
    const auto count = parse_whole_number(*threads, 1, static_cast<int64_t>(io_threads_max));
    if (!count) return usage_error(fmt::format("--io-threads must be 1 to {}", io_threads_max));
    server_options.io_threads = static_cast<size_t>(*count);
  }
  server_options.metrics = std::make_shared<MetricsRegistry>();

  // The address before the log, as serve does: a port already taken changes nothing on disk.
  Router router;
  server_options.route_of = router.route_namer();
  Server server(server_options, router.handler());
  if (const Status bound = server.bind(); !bound.is_ok()) {
    std::fprintf(stderr, "tutorledger replica: cannot listen on %s: %s\n", server_options.listen.c_str(),
                 bound.to_string().c_str());
    return 1;
  }

  EngineOptions engine_options;
  engine_options.data_dir = std::string(*parsed.args.value("data"));
  engine_options.replica = true;
  std::unique_ptr<Engine> engine;
  if (Status opened = Engine::open(engine_options, std::make_unique<SystemClock>(), &engine); !opened.is_ok()) {
    std::fprintf(stderr, "tutorledger replica: cannot open the replica's log at %s: %s\n", engine_options.data_dir.c_str(),
                 opened.to_string().c_str());
    return 1;
  }
  std::fprintf(stderr, "tutorledger: replica log %s at position %llu\n", engine_options.data_dir.c_str(),
               static_cast<unsigned long long>(engine->log().head().position));

  api::AppConfig config;
  config.jwt_secret = secret;
  config.read_only_replica = true;
  config.primary_url = std::string(parsed.args.value("primary").value_or(""));
  config.openapi_yaml = std::string(api::openapi_document());

  // Stops the server when the follower stops for good (corruption), so the process exits 1.
  Server* server_to_stop = nullptr;
  std::atomic<bool> follower_failed{false};
  follower_options.on_stopped = [&](const Status&) {
    follower_failed = true;
    if (server_to_stop != nullptr) server_to_stop->stop();
  };
  NatsFollower follower(*engine, follower_options);
  follower.register_metrics(*server_options.metrics, [] { return SystemClock().now(); });
  config.health_members = [&follower](std::string& json, uint64_t) { follower.append_health(json); };

  api::App app(*engine, std::move(config), server_options.metrics);
  app.add_routes(router);
  if (Status started = server.start(); !started.is_ok()) {
    std::fprintf(stderr, "tutorledger replica: cannot listen on %s: %s\n", server_options.listen.c_str(),
                 started.to_string().c_str());
    return 1;
  }
  server_to_stop = &server;
  follower.start();
  // Said once SIGTERM and SIGINT are handled: whoever waits for this line may stop us cleanly.
  server.run_until_signal([&] {
    std::fprintf(stderr, "tutorledger: replica listening on %s (port %u), following %s stream %s as %s\n",
                 server_options.listen.c_str(), server.port(), follower_options.url.c_str(),
                 follower_options.stream.c_str(), follower_options.consumer.c_str());
  });
  follower.stop();
  engine->stop();
  std::fprintf(stderr, "tutorledger: replica stopped at position %llu\n",
               static_cast<unsigned long long>(engine->log().head().position));
  return follower_failed ? 1 : 0;
}

}  // namespace tl::cli
