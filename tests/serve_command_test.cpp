// The real `tutorledger serve` binary: modes, secrets, a request, and a clean stop on SIGTERM.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <regex>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "api/jwt.h"
#include "support/api_fixture.h"
#include "support/http_client.h"
#include "support/log_test_support.h"

using namespace tl;
using namespace tl::test;

namespace {

struct Child {
  pid_t pid = -1;
  int stderr_fd = -1;
  std::string stderr_text;

  // Reads what the child wrote until `pattern` appears or `timeout_ms` passes. Returns the match
  // and its groups as copies (empty when none): a std::smatch would point into stderr_text,
  // which the next read reallocates.
  std::vector<std::string> wait_for(const std::regex& pattern, int timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    std::smatch match;
    auto copied = [&match] {
      std::vector<std::string> groups;
      for (const auto& group : match) groups.push_back(group.str());
      return groups;
    };
    while (std::chrono::steady_clock::now() < deadline) {
      if (std::regex_search(stderr_text, match, pattern)) return copied();
      pollfd fd{stderr_fd, POLLIN, 0};
      if (poll(&fd, 1, 50) > 0) {
        char buffer[4096];
        const ssize_t n = read(stderr_fd, buffer, sizeof buffer);
        if (n <= 0) break;
        stderr_text.append(buffer, static_cast<size_t>(n));
      }
    }
    std::regex_search(stderr_text, match, pattern);
    return copied();
  }

  // Reads stderr to its end first: a child that still writes (a server's request log) would
  // otherwise block on the full pipe and never exit.
  int wait_exit() {
    char buffer[4096];
    for (ssize_t n; (n = read(stderr_fd, buffer, sizeof buffer)) > 0;) stderr_text.append(buffer, static_cast<size_t>(n));
    close(stderr_fd);
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
};

Child spawn(std::vector<std::string> args, std::vector<std::string> env) {
  const char* binary = std::getenv("TL_TUTORLEDGER_BIN");
  REQUIRE_MESSAGE(binary != nullptr, "run through CTest, which sets TL_TUTORLEDGER_BIN");
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // A test that dies must not leave a server behind holding CTest's output pipe open (CTest
    // would wait for it until its timeout).
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    std::vector<char*> argv{const_cast<char*>(binary)};
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (auto& entry : env) envp.push_back(entry.data());
    envp.push_back(nullptr);
    execve(binary, argv.data(), envp.data());
    _exit(127);
  }
  close(fds[1]);
  return Child{pid, fds[0], {}};
}

}  // namespace

TEST_CASE("ProductionModeRefusesToStartWithoutSecrets") {
  logtest::TempFolder folder;
  Child child = spawn({"serve", "--production", "--data", folder.sub("data"), "--listen", "127.0.0.1:0"}, {});
  CHECK(child.wait_exit() == 2);
  CHECK(child.stderr_text.find("production mode needs TL_JWT_SECRET") != std::string::npos);
  CHECK(child.stderr_text.find("production mode needs TL_WEBHOOK_SECRET") != std::string::npos);  // both, at once
  Child weak = spawn({"serve", "--data", folder.sub("data"), "--listen", "127.0.0.1:0"},
                     {"TL_ENV=production", "TL_JWT_SECRET=short", "TL_WEBHOOK_SECRET=also-short"});
  CHECK(weak.wait_exit() == 2);
  // Long enough but a repetition of a few characters.
  const std::string repeated = "TL_JWT_SECRET=" + std::string(40, 'a');
  Child repetitive = spawn({"serve", "--production", "--data", folder.sub("data"), "--listen", "127.0.0.1:0"},
                           {repeated, "TL_WEBHOOK_SECRET=" + std::string(20, 'a') + std::string(20, 'b')});
  CHECK(repetitive.wait_exit() == 2);
  CHECK(repetitive.stderr_text.find("of at least 10 different ones") != std::string::npos);
  // A production ledger's clock is the real one.
  const std::vector<std::string> strong = {"TL_JWT_SECRET=0123456789abcdef0123456789abcdef",
                                           "TL_WEBHOOK_SECRET=fedcba9876543210fedcba9876543210"};
  Child clocked = spawn({"serve", "--production", "--test-clock", "--data", folder.sub("data"), "--listen", "127.0.0.1:0"},
                        strong);
  CHECK(clocked.wait_exit() == 2);
  CHECK(clocked.stderr_text.find("--test-clock is for development") != std::string::npos);
  // A TL_ENV it does not know is not quietly development.
  Child unknown = spawn({"serve", "--data", folder.sub("data"), "--listen", "127.0.0.1:0"}, {"TL_ENV=Production"});
  CHECK(unknown.wait_exit() == 2);
  CHECK(unknown.stderr_text.find("TL_ENV must be production or development") != std::string::npos);
  CHECK(unknown.stderr_text.find("made up for this run") == std::string::npos);  // no secret printed
  CHECK_FALSE(std::filesystem::exists(folder.sub("data")));
}

TEST_CASE("DevelopmentModePrintsItsSecretServesAndStopsCleanlyOnSigterm") {
  logtest::TempFolder folder;
  Child child = spawn({"serve", "--data", folder.sub("data"), "--listen", "127.0.0.1:0"}, {});
  const auto secret = child.wait_for(std::regex("TL_JWT_SECRET=([0-9a-f]{48})"), 10'000);
  REQUIRE(secret.size() == 2);
  const auto listening = child.wait_for(std::regex(R"(listening on .* \(port (\d+)\))"), 10'000);
  REQUIRE_MESSAGE(listening.size() == 2, child.stderr_text);
  const auto port = static_cast<uint16_t>(std::stoi(listening[1]));
  auto client = HttpClient::connect(port);
  REQUIRE(client);
  const auto health = client->request("GET", "/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  // The printed secret signs tokens; without --test-clock the clock route does not exist.
  const std::string admin_token = sign_jwt(JwtClaims{"a1", JwtRole::admin, std::time(nullptr) + 600}, secret[1]);
  CHECK(client->request("POST", "/api/test/clock", "{}", {{"Authorization", "Bearer " + admin_token}})->status == 404);
  CHECK(client->request("POST", "/api/test/clock", "{}")->status == 401);  // no token: 401 before 404
  kill(child.pid, SIGTERM);
  CHECK(child.wait_exit() == 0);
  CHECK(child.stderr_text.find("stopped at position 0") != std::string::npos);
}

// A port already taken fails the start before the ledger is opened: nothing is created, and no
// timer that fell due while the server was down fires for a start that cannot serve.
TEST_CASE("APortAlreadyTakenFailsTheStartBeforeTheLedgerIsOpened") {
  logtest::TempFolder folder;
  const int taken = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(taken >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(taken, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  REQUIRE(listen(taken, 1) == 0);
  socklen_t length = sizeof address;
  REQUIRE(getsockname(taken, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  const std::string listen_at = "127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  Child child = spawn({"serve", "--data", folder.sub("data"), "--listen", listen_at}, {});
  CHECK(child.wait_exit() == 1);
  CHECK(child.stderr_text.find("cannot listen on " + listen_at) != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(folder.sub("data")));
  // A replica too, before it opens its log or looks for NATS.
  Child replica = spawn({"replica", "--nats", "nats://127.0.0.1:1", "--data", folder.sub("replica"), "--listen", listen_at},
                        {"TL_JWT_SECRET=test-secret-test-secret-test-secret-0123"});
  CHECK(replica.wait_exit() == 1);
  CHECK(replica.stderr_text.find("cannot listen on " + listen_at) != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(folder.sub("replica")));
  close(taken);
}

// Whoever reads the server's stderr (a log shipper, `| tee`) may go away: its request log and
// messages then go nowhere, and the server goes on. SIGHUP (a closed terminal) stops it cleanly.
TEST_CASE("AClosedStderrDoesNotStopTheServerAndSighupStopsItCleanly") {
  logtest::TempFolder folder;
  Child child = spawn({"serve", "--data", folder.sub("data"), "--listen", "127.0.0.1:0"}, {});
  const auto listening = child.wait_for(std::regex(R"(listening on .* \(port (\d+)\))"), 10'000);
  REQUIRE_MESSAGE(listening.size() == 2, child.stderr_text);
  const auto port = static_cast<uint16_t>(std::stoi(listening[1]));
  close(child.stderr_fd);
  child.stderr_fd = -1;
  for (int round = 0; round < 3; ++round) {
    auto client = HttpClient::connect(port);
    REQUIRE(client);
    const auto health = client->request("GET", "/healthz");
    REQUIRE_MESSAGE(health, "round ", round);
    CHECK(health->status == 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(250));  // the request log is written every 100 ms
  }
  kill(child.pid, SIGHUP);
  int status = 0;
  REQUIRE(waitpid(child.pid, &status, 0) == child.pid);
  CHECK_MESSAGE(WIFEXITED(status), "ended by signal ", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  CHECK(WEXITSTATUS(status) == 0);
  // It stopped as on SIGTERM: a final checkpoint, and the folder opens again.
  Child again = spawn({"serve", "--data", folder.sub("data"), "--listen", "127.0.0.1:0"}, {});
  CHECK(again.wait_for(std::regex("from checkpoint"), 10'000).size() == 1);
  REQUIRE(again.wait_for(std::regex("listening on"), 10'000).size() == 1);  // signals are handled from here on
  kill(again.pid, SIGTERM);
  CHECK(again.wait_exit() == 0);
}

// Keep-alive clients send their next request as soon as they read an answer, so at a SIGTERM
// some request is always on its way. Each must get its answer (with Connection: close), not a
// closed connection: the server gives idle connections a grace (100 ms) before it closes them.
TEST_CASE("SigtermUnderKeepAliveLoadAnswersEveryRequestAlreadySent") {
  logtest::TempFolder folder;
  Child child = spawn({"serve", "--data", folder.sub("data"), "--listen", "127.0.0.1:0"},
                      {"TL_JWT_SECRET=" + std::string(test_jwt_secret)});
  const auto listening = child.wait_for(std::regex(R"(listening on .* \(port (\d+)\))"), 10'000);
  REQUIRE_MESSAGE(listening.size() == 2, child.stderr_text);
  const auto port = static_cast<uint16_t>(std::stoi(listening[1]));

  constexpr int clients_count = 8;
  // A request sent after its connection sat idle longer than the grace may meet a closed
  // connection, which HTTP allows; a slow test machine can pause a client that long.
  constexpr auto idle_gap_counted_max = std::chrono::milliseconds(50);
  std::atomic<int> answered{0};
  std::atomic<int> closed_after_answer{0};
  std::atomic<int> unanswered{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < clients_count; ++i) {
    clients.emplace_back([&] {
      auto client = HttpClient::connect(port);
      if (!client) return;
      for (auto last_answer = std::chrono::steady_clock::now();;) {
        const auto idle_gap = std::chrono::steady_clock::now() - last_answer;
        if (!client->send_request("GET", "/healthz")) return;  // closed while idle too long
        const auto response = client->read_response();
        if (!response) {
          if (idle_gap < idle_gap_counted_max) ++unanswered;
          return;
        }
        ++answered;
        if (response->header("Connection") == "close") {
          ++closed_after_answer;
          return;
        }
        last_answer = std::chrono::steady_clock::now();
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  kill(child.pid, SIGTERM);
  for (auto& client : clients) client.join();
  CHECK(child.wait_exit() == 0);
  CHECK(answered.load() > clients_count);
  CHECK(unanswered.load() == 0);
  CHECK(closed_after_answer.load() + unanswered.load() <= clients_count);
  MESSAGE(answered.load(), " answered; ", closed_after_answer.load(), " connections ended by Connection: close");
}

// The test clock starts at the real time, which has milliseconds; HTTP shows whole seconds. A
// client that sets the clock to the `now` it was shown must not be told "time never moves back".
TEST_CASE("TheTestClockStartsOnAWholeSecondSoTheShownNowCanBeSet") {
  logtest::TempFolder folder;
  Child child = spawn({"serve", "--test-clock", "--data", folder.sub("data"), "--listen", "127.0.0.1:0"},
                      {"TL_JWT_SECRET=" + std::string(test_jwt_secret)});
  const auto listening = child.wait_for(std::regex(R"(listening on .* \(port (\d+)\))"), 10'000);
  REQUIRE_MESSAGE(listening.size() == 2, child.stderr_text);
  auto client = HttpClient::connect(static_cast<uint16_t>(std::stoi(listening[1])));
  REQUIRE(client);
  const HeaderList admin_token = {{"Authorization", "Bearer " + ApiFixture::token_for(admin())},
                                  {"Content-Type", "application/json"}};
  const auto shown = client->request("POST", "/api/test/clock", R"({"advance_seconds":0})", admin_token);
  REQUIRE(shown);
  REQUIRE_MESSAGE(shown->status == 200, shown->body);
  const std::string now_field = shown->body.substr(0, shown->body.size() - 1);  // {"now":"...Z"
  const auto set = client->request("POST", "/api/test/clock", R"({"set":)" + now_field.substr(7) + "}", admin_token);
  REQUIRE(set);
  CHECK_MESSAGE(set->status == 200, set->body);
  CHECK(set->body == shown->body);
  kill(child.pid, SIGTERM);
  CHECK(child.wait_exit() == 0);
}

TEST_CASE("AFolderThatIsNotALedgerIsRefusedWithAClearMessage") {
  logtest::TempFolder folder;
  REQUIRE(std::system(("mkdir -p " + folder.sub("junk") + " && echo hello > " + folder.sub("junk/CURRENT")).c_str()) == 0);
  Child child = spawn({"serve", "--data", folder.sub("junk"), "--listen", "127.0.0.1:0"}, {});
  CHECK(child.wait_exit() == 1);
  CHECK(child.stderr_text.find("cannot open the ledger") != std::string::npos);
}

TEST_CASE("UsageErrorsExitTwo") {
  Child child = spawn({"serve", "--bogus"}, {});
  CHECK(child.wait_exit() == 2);
  Child extra = spawn({"serve", "positional"}, {});
  CHECK(extra.wait_exit() == 2);
  // A bad --listen is found before the ledger folder is created or opened.
  logtest::TempFolder folder;
  for (const std::string listen : {"nonsense", "127.0.0.1:99999", "example.com:80"}) {
    CAPTURE(listen);
    Child bad_listen = spawn({"serve", "--data", folder.sub("ledger"), "--listen", listen}, {});
    CHECK(bad_listen.wait_exit() == 2);
    CHECK(bad_listen.stderr_text.find("--listen: listen address '" + listen + "'") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(folder.sub("ledger")));
  }
  // Numbers are whole and in range; API.md keeps keys at least 24 h, so fewer hours are refused.
  const std::vector<std::pair<std::string, std::string>> bad_numbers = {
      {"--io-threads", "3x"}, {"--io-threads", "0"}, {"--idempotency-keep-hours", "23"},
      {"--idempotency-keep-hours", "24h"}, {"--idempotency-keep-hours", "87841"}, {"--idempotency-keep-hours", "-1"}};
  for (const auto& [option, value] : bad_numbers) {
    CAPTURE(option);
    CAPTURE(value);
    Child bad = spawn({"serve", "--data", folder.sub("ledger"), option, value}, {});
    CHECK(bad.wait_exit() == 2);
    CHECK(bad.stderr_text.find(option + " must be") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(folder.sub("ledger")));
  }
}

namespace {

std::string environment_of(pid_t pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  std::replace(text.begin(), text.end(), '\0', '\n');
  return text;
}

bool transparent_huge_pages_usable() {
  std::ifstream setting("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  return std::getline(setting, line) && line.find("[never]") == std::string::npos;
}

// Starts serve with `env`, waits until it listens, returns its environment, stops it.
std::string serving_environment(std::vector<std::string> env) {
  logtest::TempFolder folder;
  Child child = spawn({"serve", "--data", folder.sub("data"), "--listen", "127.0.0.1:0"}, std::move(env));
  REQUIRE_MESSAGE(child.wait_for(std::regex("listening on"), 10'000).size() == 1, child.stderr_text);
  const std::string environment = environment_of(child.pid);  // the same pid after the re-exec
  kill(child.pid, SIGTERM);
  CHECK(child.wait_exit() == 0);
  return environment;
}

}  // namespace

TEST_CASE("TheServerRunsWithItsHeapTunablesAndKeepsTheUsersOwn") {
  // glibc turns the ':' between tunables into NUL in the process's own copy of its environment,
  // which /proc shows: each tunable after the first ends a line of its own.
  const std::string plain = serving_environment({});
  CAPTURE(plain);
  CHECK(plain.find("glibc.malloc.tcache_count=256\n") != std::string::npos);
  if (transparent_huge_pages_usable()) {
    CHECK(plain.find("GLIBC_TUNABLES=glibc.malloc.hugetlb=1\n") != std::string::npos);
  } else {
    MESSAGE("transparent huge pages are off on this machine: only the cache's setting is checked");
    CHECK(plain.find("glibc.malloc.hugetlb") == std::string::npos);
  }
  // Other tunables the user set are kept, and ours are added.
  const std::string kept = serving_environment({"GLIBC_TUNABLES=glibc.malloc.arena_max=2"});
  CAPTURE(kept);
  CHECK(kept.find("GLIBC_TUNABLES=glibc.malloc.arena_max=2") != std::string::npos);
  CHECK(kept.find("glibc.malloc.tcache_count=256\n") != std::string::npos);
  CHECK((kept.find("glibc.malloc.hugetlb=1") != std::string::npos) == transparent_huge_pages_usable());
  // A setting of the user's own is never replaced.
  const std::string own = serving_environment({"GLIBC_TUNABLES=glibc.malloc.tcache_count=7"});
  CAPTURE(own);
  CHECK(own.find("glibc.malloc.tcache_count=7") != std::string::npos);
  CHECK(own.find("glibc.malloc.tcache_count=256") == std::string::npos);
  // TL_HUGEPAGES=0 keeps the heap on 4 KiB pages; the cache's setting still comes.
  const std::string small_pages = serving_environment({"TL_HUGEPAGES=0"});
  CAPTURE(small_pages);
  CHECK(small_pages.find("glibc.malloc.hugetlb") == std::string::npos);
  CHECK(small_pages.find("GLIBC_TUNABLES=glibc.malloc.tcache_count=256") != std::string::npos);
}
