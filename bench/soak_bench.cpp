// Soak (issue 8): the real server at a steady request rate for a long time, with its resident
// memory and the latency sampled per window. Healthy means: latency percentiles steady, and
// resident memory growing only with the data (bytes per booking steady), not with time.
//   soak_bench --binary build/release/tutorledger [--minutes 10] [--rate 500] [--window-seconds 30]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>

#include "api/jwt.h"
#include "projections/time.h"
#include "support/http_client.h"
#include "support/server_process.h"

using namespace tl;
using namespace tl::test;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::string_view secret = "soak-secret-soak-secret-soak-secret-0";

std::string bearer(std::string_view sub, JwtRole role) {
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  return "Bearer " + sign_jwt(JwtClaims{std::string(sub), role, now + 24 * 3600}, secret);
}

uint64_t resident_bytes(pid_t pid) {
  std::ifstream status(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;
  }
  return 0;
}

struct Window {
  std::mutex mutex;
  std::vector<uint32_t> latencies_us;
  uint64_t errors = 0;
};

uint32_t percentile(std::vector<uint32_t>& values, double p) {
  if (values.empty()) return 0;
  const size_t index = static_cast<size_t>(p * static_cast<double>(values.size() - 1));
  std::nth_element(values.begin(), values.begin() + static_cast<long>(index), values.end());
  return values[index];
}

}  // namespace

int main(int argc, char** argv) {
  std::string binary = "build/release/tutorledger";
  double minutes = 10;
  int rate = 500;  // requests per second, all threads together
  int window_seconds = 30;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--binary") binary = argv[i + 1];
    if (flag == "--minutes") minutes = std::atof(argv[i + 1]);
    if (flag == "--rate") rate = std::atoi(argv[i + 1]);
    if (flag == "--window-seconds") window_seconds = std::atoi(argv[i + 1]);
  }
  setenv("TL_TUTORLEDGER_BIN", binary.c_str(), 1);
  char folder_template[] = "/tmp/tl-soak-XXXXXX";
  const std::string folder = mkdtemp(folder_template);
  ServerProcess server(folder + "/data", free_loopback_port(), {},
                       {fmt::format("TL_JWT_SECRET={}", secret), "TL_WEBHOOK_SECRET=soak"});
  if (!server.start()) {
    std::fprintf(stderr, "soak: the server did not start:\n%s\n", server.log().c_str());
    return 1;
  }
  const pid_t pid = [&] {
    // The server's pid: the newest child of ours named tutorledger (ServerProcess keeps it private).
    std::string pids;
    FILE* pipe = popen(fmt::format("pgrep -n -P {} tutorledger", getpid()).c_str(), "r");
    char buffer[64] = {};
    if (pipe != nullptr && std::fgets(buffer, sizeof buffer, pipe) != nullptr) pids = buffer;
    if (pipe != nullptr) pclose(pipe);
    return static_cast<pid_t>(std::atoi(pids.c_str()));
  }();

  const int threads = 8;
  const auto interval = std::chrono::microseconds(1'000'000LL * threads / rate);
  const auto end = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(minutes * 60'000));
  std::atomic<uint64_t> bookings{0};
  Window window;
  std::vector<std::thread> workers;
  const TimeMs start_base = (std::chrono::duration_cast<std::chrono::minutes>(std::chrono::system_clock::now().time_since_epoch()).count() + 7 * 24 * 60) * ms_per_minute;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      const std::string student = bearer(fmt::format("s{}", t), JwtRole::student);
      std::vector<std::string> mine;
      auto next = Clock::now();
      for (uint64_t i = 0; Clock::now() < end; ++i) {
        next += interval;
        std::this_thread::sleep_until(next);  // steady rate: an open loop paced by the clock
        auto client = HttpClient::connect(server.port());
        const auto sent = Clock::now();
        std::optional<ClientResponse> response;
        if (client) {
          if (i % 10 < 3 || mine.empty()) {  // 30% writes: a new booking
            response = client->request("POST", "/api/bookings",
                                       fmt::format(R"({{"tutor_id":"t{}","subject":"Soak","scheduled_start":"{}","duration_minutes":60,"price":{{"amount":35000,"currency":"ETB"}}}})",
                                                   t, format_rfc3339(start_base + static_cast<TimeMs>(i % 1000) * ms_per_minute)),
                                       {{"Authorization", student}});
            if (response && response->status == 201) {
              const auto at = response->body.find("\"id\":\"");
              mine.push_back(response->body.substr(at + 6, response->body.find('"', at + 6) - at - 6));
              ++bookings;
            }
          } else if (i % 10 < 7) {
            response = client->request("GET", "/api/bookings/" + mine[i % mine.size()], "", {{"Authorization", student}});
          } else if (i % 10 < 9) {
            response = client->request("GET", "/api/sessions/" + mine[i % mine.size()] + "/status", "", {{"Authorization", student}});
          } else {
            response = client->request("GET", "/api/bookings?limit=20", "", {{"Authorization", student}});
          }
        }
        const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - sent).count();
        std::lock_guard lock(window.mutex);
        window.latencies_us.push_back(static_cast<uint32_t>(micros));
        if (!response || response->status >= 400) ++window.errors;
      }
    });
  }
  std::printf("%8s %10s %10s %9s %9s %9s %8s %12s %14s\n", "t (s)", "bookings", "requests", "p50 (ms)", "p99 (ms)",
              "max (ms)", "errors", "RSS (MiB)", "RSS/booking");
  const auto started = Clock::now();
  for (auto sample_at = started + std::chrono::seconds(window_seconds); sample_at <= end + std::chrono::seconds(1);
       sample_at += std::chrono::seconds(window_seconds)) {
    std::this_thread::sleep_until(sample_at);
    std::vector<uint32_t> latencies;
    uint64_t errors = 0;
    {
      std::lock_guard lock(window.mutex);
      latencies.swap(window.latencies_us);
      errors = std::exchange(window.errors, 0);
    }
    const size_t requests = latencies.size();
    const uint32_t p50 = percentile(latencies, 0.50);
    const uint32_t p99 = percentile(latencies, 0.99);
    const uint32_t max = latencies.empty() ? 0 : *std::max_element(latencies.begin(), latencies.end());
    const uint64_t rss = resident_bytes(pid);
    const uint64_t count = bookings.load();
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - started).count();
    std::printf("%8lld %10llu %10zu %9.2f %9.2f %9.2f %8llu %12.1f %14.0f\n", static_cast<long long>(seconds),
                static_cast<unsigned long long>(count), requests, p50 / 1000.0, p99 / 1000.0, max / 1000.0,
                static_cast<unsigned long long>(errors), static_cast<double>(rss) / (1 << 20),
                count == 0 ? 0.0 : static_cast<double>(rss) / static_cast<double>(count));
    std::fflush(stdout);
    std::printf("RESULT {\"bench\":\"soak\",\"t_s\":%lld,\"bookings\":%llu,\"requests\":%zu,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"errors\":%llu,\"rss_bytes\":%llu}\n",
                static_cast<long long>(seconds), static_cast<unsigned long long>(count), requests, p50 / 1000.0, p99 / 1000.0,
                static_cast<unsigned long long>(errors), static_cast<unsigned long long>(rss));
  }
  for (auto& worker : workers) worker.join();
  const int exit_code = server.stop();
  std::system(("rm -rf " + folder).c_str());
  return exit_code == 0 ? 0 : 1;
}
