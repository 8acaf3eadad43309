// Throughput of the API's crypto on this machine: JWT sign/verify, webhook signature check,
// Agora token build. Each case runs for about `case_duration_ms`, on one thread.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include "api/agora_token.h"
#include "api/jwt.h"
#include "api/webhook_signature.h"
#include "projections/json_text.h"

namespace {

constexpr int64_t case_duration_ms = 400;
constexpr int64_t batch_ops = 256;

struct Measurement {
  std::string name;
  int64_t ops = 0;
  double seconds = 0;
  size_t bytes_per_op = 0;  // 0 when throughput in bytes does not apply
};

// Runs `op` in batches until case_duration_ms has passed; returns ops and wall time.
Measurement measure(std::string name, size_t bytes_per_op, const std::function<bool()>& op) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  int64_t ops = 0;
  int64_t failures = 0;
  for (;;) {
    for (int64_t i = 0; i < batch_ops; ++i) failures += op() ? 0 : 1;
    ops += batch_ops;
    if (Clock::now() - start >= std::chrono::milliseconds(case_duration_ms)) break;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (failures != 0)
    std::fprintf(stderr, "%s: %lld unexpected results\n", name.c_str(), static_cast<long long>(failures));
  return {std::move(name), ops, seconds, bytes_per_op};
}

std::string cpu_model() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.starts_with("model name")) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

}  // namespace

int main() {
  const std::string secret = "bench-secret-0123456789abcdef";
  const int64_t now = 1'800'000'000;
  const tl::JwtClaims claims{.sub = "student_0123456789", .role = tl::JwtRole::student, .exp = now + 3600};
  const std::string token = tl::sign_jwt(claims, secret);
  std::string forged = token;
  forged.back() = forged.back() == 'A' ? 'E' : 'A';

  const std::string small_body =
      R"({"event":"charge.success","tx_ref":"bk_000123","amount":"350.00","currency":"ETB","status":"success","reference":"APx1234567890"})";
  const std::string large_body(64 * 1024, 'x');  // the request body limit
  const std::string small_signature = tl::sign_webhook(small_body, secret);
  const std::string large_signature = tl::sign_webhook(large_body, secret);

  const tl::agora::RtcTokenRequest rtc{.app_id = "970CA35de60c44645bbae8a215061b33",
                                       .app_certificate = "5CFd2fd1755d40ecb72977518be15d3b",
                                       .channel = "bk_000123",
                                       .account = "student_0123456789",
                                       .role = tl::agora::RtcRole::publisher,
                                       .privilege_expire_s = 3600,
                                       .token_expire_s = 3600};
  uint32_t salt = 1;

  std::vector<Measurement> results;
  results.push_back(measure("jwt_sign", 0, [&] { return !tl::sign_jwt(claims, secret).empty(); }));
  results.push_back(measure("jwt_verify_ok", 0, [&] { return tl::verify_jwt(token, secret, now).ok(); }));
  results.push_back(measure("jwt_verify_forged", 0, [&] { return !tl::verify_jwt(forged, secret, now).ok(); }));
  results.push_back(measure("webhook_verify_" + std::to_string(small_body.size()) + "B", small_body.size(),
                            [&] { return tl::verify_webhook_signature(small_body, small_signature, secret); }));
  results.push_back(measure("webhook_verify_64KiB", large_body.size(),
                            [&] { return tl::verify_webhook_signature(large_body, large_signature, secret); }));
  results.push_back(measure("agora_build_token", 0,
                            [&] { return tl::agora::build_rtc_token(rtc, 1'800'000'000, salt++).has_value(); }));

  const std::string cpu = cpu_model();
  const unsigned cores = std::thread::hardware_concurrency();
  fmt::print("crypto_bench: one thread; machine: {} cores, {}\n\n", cores, cpu);
  fmt::print("{:<24} {:>10} {:>12} {:>10} {:>10}\n", "case", "ops", "ops/s", "us/op", "MB/s");
  std::string json = fmt::format(R"({{"bench":"crypto","cores":{},"cpu":)", cores);
  tl::json::append_string(json, cpu);
  json += R"(,"cases":[)";
  for (size_t i = 0; i < results.size(); ++i) {
    const Measurement& m = results[i];
    const double ops_per_s = static_cast<double>(m.ops) / m.seconds;
    const double us_per_op = m.seconds * 1e6 / static_cast<double>(m.ops);
    const double mb_per_s = m.bytes_per_op == 0 ? 0 : ops_per_s * static_cast<double>(m.bytes_per_op) / 1e6;
    fmt::print("{:<24} {:>10} {:>12.0f} {:>10.2f} {:>10}\n", m.name, m.ops, ops_per_s, us_per_op,
               m.bytes_per_op == 0 ? std::string("-") : fmt::format("{:.0f}", mb_per_s));
    json += fmt::format(R"({}{{"name":"{}","ops":{},"seconds":{:.4f},"ops_per_s":{:.0f},"us_per_op":{:.3f}}})",
                        i == 0 ? "" : ",", m.name, m.ops, m.seconds, ops_per_s, us_per_op);
  }
  json += "]}";
  fmt::print("\nRESULT {}\n", json);
  return 0;
}
