// Throughput and latency of the HTTP plumbing alone: a trivial GET /healthz route on tl::Server,
// driven by wrk over loopback. Prints the machine, one table, and one `RESULT {json}` line.
//
//   http_server_bench [--seconds 10] [--connections 64] [--wrk-threads 2] [--io-threads N] [--no-log]
//
// The request log goes to stderr as in production (run with 2>/dev/null); --no-log drops it to
// see what the log costs. The server's own request counter is compared with wrk's count.
#include <charconv>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include <fmt/format.h>

#include "api/router.h"
#include "api/server.h"

namespace {

struct Options {
  int seconds = 10;
  int connections = 64;
  int wrk_threads = 2;
  size_t io_threads = 0;  // server default: hardware concurrency
  bool log = true;
};

struct WrkResult {
  double requests_per_second = 0;
  uint64_t requests = 0;
  uint64_t non_2xx = 0;
  uint64_t socket_errors = 0;
  double p50_micros = 0;
  double p90_micros = 0;
  double p99_micros = 0;
};

std::string cpu_model() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.starts_with("model name")) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

// "812.00us", "1.20ms", "2.00s" -> microseconds.
double to_micros(std::string_view text) {
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc()) return -1;
  const std::string_view unit(end, text.data() + text.size() - end);
  if (unit == "us") return value;
  if (unit == "ms") return value * 1e3;
  if (unit == "s") return value * 1e6;
  return -1;
}

// Numbers at the start of a wrk line, e.g. "  50%  812.00us" or "Requests/sec:  51234.56".
std::string_view word_after(std::string_view line, std::string_view prefix) {
  line.remove_prefix(line.find(prefix) + prefix.size());
  while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
  return line.substr(0, line.find_first_of(" \n"));
}

std::optional<WrkResult> run_wrk(const Options& options, uint16_t port) {
  const std::string command = fmt::format("wrk -t{} -c{} -d{}s --latency http://127.0.0.1:{}/healthz 2>&1",
                                          options.wrk_threads, options.connections, options.seconds, port);
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return std::nullopt;
  WrkResult result;
  char buffer[512];
  std::string output;
  while (fgets(buffer, sizeof buffer, pipe)) {
    const std::string_view line(buffer);
    output += buffer;
    if (line.find("Requests/sec:") != std::string_view::npos) {
      result.requests_per_second = std::stod(std::string(word_after(line, "Requests/sec:")));
    } else if (line.find("requests in") != std::string_view::npos) {
      result.requests = std::stoull(std::string(line.substr(line.find_first_not_of(' '))));
    } else if (line.find("Non-2xx or 3xx responses:") != std::string_view::npos) {
      result.non_2xx = std::stoull(std::string(word_after(line, "responses:")));
    } else if (line.find("Socket errors:") != std::string_view::npos) {
      result.socket_errors = 1;  // any: reported as a flag, the line itself is printed below
      std::fputs(buffer, stderr);
    } else if (line.find(" 50% ") != std::string_view::npos) {
      result.p50_micros = to_micros(word_after(line, "50%"));
    } else if (line.find(" 90% ") != std::string_view::npos) {
      result.p90_micros = to_micros(word_after(line, "90%"));
    } else if (line.find(" 99% ") != std::string_view::npos) {
      result.p99_micros = to_micros(word_after(line, "99%"));
    }
  }
  const int status = pclose(pipe);
  if (status != 0 || result.requests == 0) {
    std::fprintf(stderr, "wrk failed (status %d):\n%s", status, output.c_str());
    return std::nullopt;
  }
  return result;
}

uint64_t healthz_count(const std::string& metrics) {
  const std::string key = "tl_http_requests_total{route=\"GET /healthz\",status=\"200\"} ";
  const size_t at = metrics.find(key);
  return at == std::string::npos ? 0 : std::stoull(metrics.substr(at + key.size()));
}

bool parse_options(int argc, char** argv, Options& options) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--no-log") options.log = false;
    else if (arg == "--seconds" && has_value) options.seconds = std::stoi(argv[++i]);
    else if (arg == "--connections" && has_value) options.connections = std::stoi(argv[++i]);
    else if (arg == "--wrk-threads" && has_value) options.wrk_threads = std::stoi(argv[++i]);
    else if (arg == "--io-threads" && has_value) options.io_threads = std::stoul(argv[++i]);
    else return false;
  }
  return options.seconds > 0 && options.connections > 0 && options.wrk_threads > 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse_options(argc, argv, options)) {
    std::fprintf(stderr,
                 "usage: http_server_bench [--seconds 10] [--connections 64] [--wrk-threads 2] [--io-threads N] [--no-log]\n");
    return 2;
  }
  tl::Router router;
  router.add("GET", "/healthz", [](tl::HttpRequest&&, tl::RouteParams, tl::Respond respond) {
    tl::HttpResponse response;
    response.body = R"({"status":"ok"})";
    respond(std::move(response));
  });
  tl::ServerOptions server_options;
  server_options.listen = "127.0.0.1:0";
  server_options.io_threads = options.io_threads;
  if (!options.log) server_options.log_sink = [](std::string_view) {};
  tl::Server server(server_options, router.handler());
  if (const tl::Status status = server.start(); !status.is_ok()) {
    std::fprintf(stderr, "cannot start: %s\n", status.to_string().c_str());
    return 1;
  }
  const size_t io_threads = options.io_threads ? options.io_threads : std::thread::hardware_concurrency();
  const auto wrk = run_wrk(options, server.port());
  const uint64_t served = healthz_count(server.metrics().render());
  server.stop();
  if (!wrk) return 1;

  const unsigned cores = std::thread::hardware_concurrency();
  const std::string cpu = cpu_model();
  std::printf("machine: %u cores, %s (wrk runs on the same cores)\n", cores, cpu.c_str());
  std::printf("GET /healthz on tl::Server, %zu I/O threads, request log %s; wrk -t%d -c%d -d%ds\n\n", io_threads,
              options.log ? "to stderr" : "off", options.wrk_threads, options.connections, options.seconds);
  std::printf("| requests/s | p50 | p90 | p99 | requests (wrk) | answered 200 (server) | non-2xx | socket errors |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  std::printf("| %.0f | %.0f us | %.0f us | %.0f us | %llu | %llu | %llu | %s |\n", wrk->requests_per_second,
              wrk->p50_micros, wrk->p90_micros, wrk->p99_micros, static_cast<unsigned long long>(wrk->requests),
              static_cast<unsigned long long>(served), static_cast<unsigned long long>(wrk->non_2xx),
              wrk->socket_errors ? "yes" : "none");
  std::printf(
      "RESULT {\"bench\":\"http_server\",\"route\":\"GET /healthz\",\"cores\":%u,\"cpu\":\"%s\",\"io_threads\":%zu,"
      "\"log\":%s,\"connections\":%d,\"wrk_threads\":%d,\"seconds\":%d,\"requests_per_second\":%.0f,"
      "\"p50_us\":%.0f,\"p90_us\":%.0f,\"p99_us\":%.0f,\"requests\":%llu,\"server_answered\":%llu,\"non_2xx\":%llu,"
      "\"socket_errors\":%s}\n",
      cores, cpu.c_str(), io_threads, options.log ? "true" : "false", options.connections, options.wrk_threads,
      options.seconds, wrk->requests_per_second, wrk->p50_micros, wrk->p90_micros, wrk->p99_micros,
      static_cast<unsigned long long>(wrk->requests), static_cast<unsigned long long>(served),
      static_cast<unsigned long long>(wrk->non_2xx), wrk->socket_errors ? "true" : "false");
  return 0;
}
