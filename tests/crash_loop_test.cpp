// Crash loop (issue 8): the real server, concurrent clients walking whole journeys with the test
// clock, SIGKILL at random moments, restarts. Afterwards: every acknowledged answer is given again
// byte for byte (so it was durable), no escrow was released twice or lost, balances add up, the
// log verifies and the invariants (trial balance 0) hold.
//   CI runs a short form; the long form: TL_CRASH_KILLS=100 TL_CRASH_SEED=7 ./crash_loop_test
#include <doctest/doctest.h>

#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <shared_mutex>
#include <thread>

#include <fmt/format.h>
#include <simdjson.h>

#include "api/jwt.h"
#include "api/webhook_signature.h"
#include "engine/recovery.h"
#include "projections/invariants.h"
#include "support/domain_harness.h"
#include "support/http_client.h"
#include "support/log_test_support.h"
#include "support/server_process.h"

using namespace tl;
using namespace tl::test;

namespace {

constexpr std::string_view jwt_secret = "crash-loop-secret-0123456789abcdef";
constexpr std::string_view webhook_secret = "crash-loop-webhook-secret";
constexpr int clients = 3;
constexpr int journeys_per_client = 3;  // journey 1 of each client is disputed and split

uint64_t env_or(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  return value == nullptr ? fallback : std::strtoull(value, nullptr, 10);
}

struct Acknowledged {
  std::string method;
  std::string target;
  std::string body;
  std::string authorization;
  HeaderList headers;
  int status;
  std::string response;
};

class CrashLoop {
 public:
  CrashLoop(std::string data_dir, uint64_t seed)
      : random_(seed),
        // Every answer is asked for again at the end, when the test clock has run 3 days a round
        // past it: the keys must outlive the default week (the most: ten years, 1,200 rounds).
        server_(std::move(data_dir), free_loopback_port(), {"--test-clock", "--idempotency-keep-hours", "87840"},
                {fmt::format("TL_JWT_SECRET={}", jwt_secret), fmt::format("TL_WEBHOOK_SECRET={}", webhook_secret)}) {}

  ServerProcess& server() { return server_; }
  std::atomic<int> kills{0};
  std::vector<Acknowledged> acknowledged;

  static std::string token(const Actor& who) {
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    const JwtRole role = who.role == Role::tutor ? JwtRole::tutor : who.role == Role::admin ? JwtRole::admin : JwtRole::student;
    return "Bearer " + sign_jwt(JwtClaims{who.id, role, now + 3600}, jwt_secret);
  }

  // Sends until an answer arrives (the server may be down or restarting). A POST carries its
  // Idempotency-Key every time, so a retry can never act twice. Every 2xx/409 answer is kept.
  ClientResponse call(std::string method, std::string target, std::string body, const Actor& who, std::string key = {},
                      HeaderList headers = {}) {
    if (!key.empty()) headers.emplace_back("Idempotency-Key", key);
    const std::string authorization = who.role == Role::system ? std::string() : token(who);
    if (!authorization.empty()) headers.emplace_back("Authorization", authorization);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      std::optional<ClientResponse> response;
      {
        std::shared_lock gate(gate_);  // the killer restarts the server under the exclusive lock
        if (auto client = HttpClient::connect(server_.port())) {
          client->set_timeout_ms(10'000);
          response = client->request(method, target, body, headers);
        }
      }
      if (response && response->status != 503) {
        if (!key.empty() && (response->status / 100 == 2 || response->status == 409)) {
          std::lock_guard lock(acknowledged_mutex_);
          acknowledged.push_back({method, target, body, authorization, headers, response->status, response->body});
        }
        return *response;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
    }
    FAIL("no answer for ", method, " ", target, " within 60 s; server log tail:\n", server_.log().substr(server_.log().size() > 3000 ? server_.log().size() - 3000 : 0));
    return {};
  }

  // The coordinator moves the clock; after a restart the killer moves it back to this target.
  void set_clock(TimeMs to) {
    clock_target_ = to;
    const auto r = call("POST", "/api/test/clock", fmt::format(R"({{"set":"{}"}})", format_rfc3339(to)), admin());
    REQUIRE_MESSAGE(r.status == 200, r.body);
  }

  void kill_now_and_then(std::atomic<bool>& done) {
    while (!done) {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(20, 300)(random_)));
      if (done) break;
      server_.kill_hard();  // at a random moment: requests in flight fail and are retried
      ++kills;
      std::unique_lock gate(gate_);
      REQUIRE_MESSAGE(server_.start(), server_.log());
      if (clock_target_ != 0) {
        // The test clock restarts at the last event's time; put it back where the scenario is.
        auto client = HttpClient::connect(server_.port());
        REQUIRE(client);
        const auto r = client->request("POST", "/api/test/clock", fmt::format(R"({{"set":"{}"}})", format_rfc3339(clock_target_)),
                                       {{"Authorization", token(admin())}});
        REQUIRE(r);
        REQUIRE_MESSAGE(r->status == 200, r->body);
      }
    }
  }

 private:
  std::mt19937 random_;
  ServerProcess server_;
  std::shared_mutex gate_;
  std::mutex acknowledged_mutex_;
  std::atomic<TimeMs> clock_target_{0};
};

simdjson::dom::element parse(simdjson::dom::parser& parser, const std::string& text) {
  simdjson::dom::element element;
  REQUIRE_MESSAGE(parser.parse(text).get(element) == simdjson::SUCCESS, text);
  return element;
}

}  // namespace

TEST_CASE("SigkillAtRandomMomentsLosesNoAcknowledgedAnswerAndNoMoney") {
  const uint64_t kills_wanted = env_or("TL_CRASH_KILLS", 4);
  const uint64_t seed = env_or("TL_CRASH_SEED", 20261125);
  INFO("reproduce with TL_CRASH_SEED=", seed, " TL_CRASH_KILLS=", kills_wanted);
  logtest::TempFolder folder;
  CrashLoop loop(folder.sub("data"), seed);
  REQUIRE_MESSAGE(loop.server().start(), loop.server().log());
  const TimeMs base = (std::chrono::duration_cast<std::chrono::minutes>(std::chrono::system_clock::now().time_since_epoch()).count() + 2 * 24 * 60) * ms_per_minute;

  std::vector<std::vector<std::string>> bookings(clients);  // per client, over all rounds
  std::atomic<bool> done{false};
  std::thread killer([&] { loop.kill_now_and_then(done); });
  int rounds = 0;
  for (; rounds == 0 || static_cast<uint64_t>(loop.kills.load()) < kills_wanted; ++rounds) {
    const TimeMs start = base + rounds * 3 * ms_per_day;
    std::barrier phase(clients, [] {});
    std::vector<std::thread> workers;
    for (int c = 0; c < clients; ++c) {
      workers.emplace_back([&, c] {
        simdjson::dom::parser parser;
        const Actor s = student(fmt::format("s{}", c));
        const Actor t = tutor(fmt::format("t{}", c));
        std::vector<std::string> mine;
        // Phase 1: book, accept, pay.
        for (int j = 0; j < journeys_per_client; ++j) {
          const std::string k = fmt::format("r{}c{}j{}", rounds, c, j);
          auto r = loop.call("POST", "/api/bookings",
                             fmt::format(R"({{"tutor_id":"{}","subject":"Maths","scheduled_start":"{}","duration_minutes":60,"price":{{"amount":35000,"currency":"ETB"}}}})",
                                         t.id, format_rfc3339(start)),
                             s, k + "-book");
          REQUIRE_MESSAGE(r.status == 201, r.body);
          const std::string id{std::string_view(parse(parser, r.body)["id"])};
          mine.push_back(id);
          REQUIRE(loop.call("POST", "/api/bookings/" + id + "/accept", "", t, k + "-accept").status == 200);
          REQUIRE(loop.call("POST", "/api/bookings/" + id + "/checkout", "", s, k + "-checkout").status == 200);
          const std::string payment = fmt::format(
              R"({{"event":"charge.success","tx_ref":"tx-{}","amount":"350.00","currency":"ETB","status":"success","reference":"ch-{}"}})", id, id);
          r = loop.call("POST", "/api/payments/webhook", payment, system_actor(), k + "-pay",
                        {{"x-chapa-signature", sign_webhook(payment, webhook_secret)}});
          REQUIRE_MESSAGE(r.body == R"({"accepted":true})", r.body);
        }
        phase.arrive_and_wait();
        if (c == 0) loop.set_clock(start);
        phase.arrive_and_wait();
        // Phase 2: the sessions; the second journey is disputed.
        for (int j = 0; j < journeys_per_client; ++j) {
          const std::string k = fmt::format("r{}c{}j{}", rounds, c, j);
          REQUIRE(loop.call("POST", "/api/sessions/" + mine[j] + "/start", "", s, k + "-start").status == 200);
          REQUIRE(loop.call("POST", "/api/sessions/" + mine[j] + "/end", R"({"notes":"done"})", t, k + "-end").status == 200);
          if (j == 1) REQUIRE(loop.call("POST", "/api/bookings/" + mine[j] + "/dispute", R"({"reason":"left early"})", s, k + "-dispute").status == 200);
        }
        REQUIRE(loop.call("POST", "/api/admin/bookings/" + mine[1] + "/resolve", R"({"refund_amount":10000})", admin(),
                          fmt::format("r{}c{}-resolve", rounds, c)).status == 200);
        phase.arrive_and_wait();
        if (c == 0) loop.set_clock(start + 26 * ms_per_hour);  // the undisputed escrows are released
        phase.arrive_and_wait();
        // Phase 4: the tutor withdraws part of it; an admin pays it out.
        auto r = loop.call("POST", "/api/me/withdrawals", R"({"amount":{"amount":10000,"currency":"ETB"},"destination":"cbe:1"})", t,
                           fmt::format("r{}c{}-withdraw", rounds, c));
        REQUIRE_MESSAGE(r.status == 201, r.body);
        const std::string withdrawal{std::string_view(parse(parser, r.body)["id"])};
        REQUIRE(loop.call("POST", "/api/admin/withdrawals/" + withdrawal + "/complete", "", admin(),
                          fmt::format("r{}c{}-complete", rounds, c)).status == 200);
        bookings[c].insert(bookings[c].end(), mine.begin(), mine.end());
      });
    }
    for (auto& worker : workers) worker.join();
  }
  done = true;
  killer.join();
  MESSAGE(rounds, " rounds, ", loop.kills.load(), " kills, ", loop.acknowledged.size(), " acknowledged answers");
  CHECK(static_cast<uint64_t>(loop.kills.load()) >= kills_wanted);

  // One more crash, then: every acknowledged answer is given again, byte for byte.
  loop.server().kill_hard();
  REQUIRE_MESSAGE(loop.server().start(), loop.server().log());
  for (const auto& ack : loop.acknowledged) {
    auto client = HttpClient::connect(loop.server().port());
    REQUIRE(client);
    HeaderList headers = ack.headers;
    const auto again = client->request(ack.method, ack.target, ack.body, headers);
    REQUIRE_MESSAGE(again, ack.method, " ", ack.target, ": ", client->last_error());
    CHECK_MESSAGE(again->status == ack.status, ack.method, " ", ack.target);
    CHECK_MESSAGE(again->body == ack.response, ack.method, " ", ack.target);
  }

  // Money: each undisputed escrow released exactly once, each disputed one split; balances add up.
  simdjson::dom::parser parser;
  for (int c = 0; c < clients; ++c) {
    for (size_t j = 0; j < bookings[c].size(); ++j) {
      auto client = HttpClient::connect(loop.server().port());
      const auto events = client->request("GET", "/api/bookings/" + bookings[c][j] + "/events?limit=200", "",
                                          {{"Authorization", CrashLoop::token(admin())}});
      REQUIRE(events);
      size_t released = 0;
      size_t resolved = 0;
      for (auto event : parse(parser, events->body)["data"].get_array()) {
        const std::string_view type = event["type"];
        released += type == "EscrowReleased" ? 1 : 0;
        resolved += type == "DisputeResolved" ? 1 : 0;
      }
      const bool disputed = j % journeys_per_client == 1;
      CHECK_MESSAGE(released == (disputed ? 0u : 1u), bookings[c][j]);
      CHECK_MESSAGE(resolved == (disputed ? 1u : 0u), bookings[c][j]);
    }
    auto client = HttpClient::connect(loop.server().port());
    const auto balance = client->request("GET", "/api/me/balance", "", {{"Authorization", CrashLoop::token(tutor(fmt::format("t{}", c)))}});
    REQUIRE(balance);
    // Per round: two releases of 297.50 and a split paying 212.50, less a 100.00 withdrawal.
    const int64_t expected = rounds * (2 * 29750 + 21250 - 10000);
    CHECK(balance->body == fmt::format(R"({{"balances":[{{"currency":"ETB","available":{},"pending_release":0,"withdrawing":0}}]}})", expected));
  }
  CHECK(loop.server().stop() == 0);

  // The log verifies and replays to a state that holds every invariant (trial balance 0).
  std::unique_ptr<LogStore> log;
  REQUIRE(LogStore::open(folder.sub("data"), LogOptions{}, &log).is_ok());
  const VerifyReport report = log->verify();
  CHECK_MESSAGE(report.clean, "position ", report.first_bad_position, ": ", report.problem);
  State state;
  RecoveryReport recovery;
  REQUIRE(restore_state(*log, false, &state, &recovery).is_ok());
  CHECK(check_invariants(state).empty());
}
