#include "support/nats_test_support.h"

#include <chrono>
#include <csignal>
#include <fstream>
#include <regex>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "api/nats_connection.h"
#include "engine/record_codec.h"
#include "engine/recovery.h"
#include "engine/sha256.h"
#include "engine/state_hash.h"
#include "support/api_fixture.h"
#include "support/http_client.h"

namespace tl::test {
namespace {

std::unique_ptr<nats::Session> connect_for_test(const std::string& url) {
  nats::ConnectOptions options;
  options.url = url;
  options.name = "tutorledger-test";
  std::unique_ptr<nats::Session> session;
  const Status status = nats::Session::connect(options, &session);
  REQUIRE_MESSAGE(status.is_ok(), status.to_string());
  return session;
}

std::unique_ptr<LogStore> open_secondary(const std::string& data_dir) {
  LogOptions options;
  options.read_only_secondary = true;
  std::unique_ptr<LogStore> log;
  const Status status = LogStore::open(data_dir, options, &log);
  REQUIRE_MESSAGE(status.is_ok(), status.to_string());
  return log;
}

uint64_t json_number(const std::string& body, const std::string& key) {
  std::smatch match;
  if (!std::regex_search(body, match, std::regex("\"" + key + "\":(\\d+)"))) return 0;
  return std::stoull(match[1].str());
}

}  // namespace

void create_stream(const std::string& url, int replicas, std::string_view stream) {
  auto session = connect_for_test(url);
  const std::string name(stream);
  const char* subjects[] = {"tl.events.>"};
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  config.Name = name.c_str();
  config.Subjects = subjects;
  config.SubjectsLen = 1;
  config.Storage = js_FileStorage;
  config.Replicas = replicas;
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  const natsStatus s = js_AddStream(&info, session->jetstream(), &config, nullptr, &code);
  jsStreamInfo_Destroy(info);
  REQUIRE_MESSAGE(s == NATS_OK, nats::describe("create stream", s, code));
}

std::string stream_leader(const std::string& url, std::string_view stream) {
  auto session = connect_for_test(url);
  const std::string name(stream);
  jsStreamInfo* info = nullptr;
  const natsStatus s = js_GetStreamInfo(&info, session->jetstream(), name.c_str(), nullptr, nullptr);
  std::string leader;
  if (s == NATS_OK && info->Cluster != nullptr && info->Cluster->Leader != nullptr) leader = info->Cluster->Leader;
  jsStreamInfo_Destroy(info);
  return leader;
}

uint64_t stream_last_sequence(const std::string& url, std::string_view stream) {
  auto session = connect_for_test(url);
  nats::StreamState state;
  const Status status = nats::stream_state(session->jetstream(), std::string(stream), &state);
  REQUIRE_MESSAGE(status.is_ok(), status.to_string());
  return state.last_sequence;
}

std::vector<StreamMessage> read_stream(const std::string& url, std::string_view stream) {
  auto session = connect_for_test(url);
  const std::string name(stream);
  nats::StreamState state;
  const Status status = nats::stream_state(session->jetstream(), name, &state);
  REQUIRE_MESSAGE(status.is_ok(), status.to_string());
  std::vector<StreamMessage> messages;
  for (uint64_t sequence = 1; sequence <= state.last_sequence; ++sequence) {
    natsMsg* message = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    const natsStatus s = js_GetMsg(&message, session->jetstream(), name.c_str(), sequence, nullptr, &code);
    REQUIRE_MESSAGE(s == NATS_OK, nats::describe(fmt::format("message {}", sequence), s, code));
    StreamMessage& read = messages.emplace_back();
    read.sequence = sequence;
    read.subject = natsMsg_GetSubject(message);
    const char* id = nullptr;
    if (natsMsgHeader_Get(message, "Nats-Msg-Id", &id) == NATS_OK && id != nullptr) read.msg_id = id;
    read.data.assign(natsMsg_GetData(message), static_cast<size_t>(natsMsg_GetDataLength(message)));
    natsMsg_Destroy(message);
  }
  return messages;
}

std::string publish_raw(const std::string& url, uint64_t position, std::string_view data, std::string_view subject,
                        std::string_view) {
  auto session = connect_for_test(url);
  jsPubOptions options;
  jsPubOptions_Init(&options);
  const std::string id = std::to_string(position);
  options.MsgId = id.c_str();
  options.ExpectLastSeq = position - 1;
  jsPubAck* ack = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  const std::string subject_text(subject);
  const natsStatus s = js_Publish(&ack, session->jetstream(), subject_text.c_str(), data.data(),
                                  static_cast<int>(data.size()), &options, &code);
  jsPubAck_Destroy(ack);
  return s == NATS_OK ? "ok" : nats::describe("publish", s, code);
}

std::vector<std::string> stored_values_of(const std::string& data_dir) {
  auto log = open_secondary(data_dir);
  std::vector<std::string> values;
  const Status status = log->scan_raw(1, [&](uint64_t, std::string_view value) {
    values.emplace_back(value);
    return true;
  });
  REQUIRE_MESSAGE(status.is_ok(), status.to_string());
  return values;
}

Digest state_hash_of(const std::string& data_dir) {
  auto log = open_secondary(data_dir);
  State state;
  RecoveryReport report;
  const Status status = restore_state(*log, false, &state, &report);
  REQUIRE_MESSAGE(status.is_ok(), status.to_string());
  return state_hash(state);
}

void check_stream_equals_log(const std::string& url, const std::vector<std::string>& stored_values,
                             std::string_view stream) {
  const std::vector<StreamMessage> messages = read_stream(url, stream);
  CHECK(messages.size() == stored_values.size());
  size_t mismatches = 0;
  for (size_t i = 0; i < std::min(messages.size(), stored_values.size()); ++i) {
    const StreamMessage& message = messages[i];
    // The id names the position and the event: "<position>-<hash>".
    const std::optional<Digest> hash = stored_hash_field(stored_values[i]);
    const std::string id = hash ? std::to_string(i + 1) + "-" + to_hex(*hash) : std::string();
    const bool same = message.sequence == i + 1 && message.msg_id == id &&
                      message.data == stored_values[i] && message.subject.starts_with("tl.events.");
    if (!same && mismatches++ < 3) {
      FAIL_CHECK("stream message " << message.sequence << " (Msg-Id " << message.msg_id << ", subject "
                                   << message.subject << ") is not the log's event " << i + 1);
    }
  }
  CHECK(mismatches == 0);
}

PrimaryProcess::PrimaryProcess(std::string data_dir, std::string log_path, std::vector<std::string> extra_args)
    : data_dir_(std::move(data_dir)), log_path_(std::move(log_path)), extra_args_(std::move(extra_args)) {}

void PrimaryProcess::start() {
  earlier_runs_log_ = log();
  std::ofstream(log_path_, std::ios::trunc).flush();
  std::vector<std::string> args = {"serve", "--data", data_dir_, "--listen", "127.0.0.1:0", "--io-threads", "2"};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  process_ = ChildProcess::spawn(tutorledger_binary(), args,
                                 {"TL_JWT_SECRET=" + std::string(test_jwt_secret),
                                  "TL_WEBHOOK_SECRET=" + std::string(test_webhook_secret)},
                                 log_path_);
  std::string text;
  const auto listening = process_.wait_for_log(std::regex(R"(listening on .* \(port (\d+)\))"), 20'000, &text);
  REQUIRE_MESSAGE(listening.has_value(), "tutorledger serve did not start:\n" << text);
  port_ = static_cast<uint16_t>(std::stoi((*listening)[1].str()));
}

int PrimaryProcess::stop() {
  process_.signal(SIGTERM);
  const auto code = process_.wait(30'000);
  REQUIRE_MESSAGE(code.has_value(), "tutorledger serve did not stop:\n" << process_.log());
  return *code;
}

void PrimaryProcess::kill() { process_.kill_and_wait(); }

PrimaryProcess::Health PrimaryProcess::health() const {
  Health health;
  auto client = HttpClient::connect(port_);
  if (!client) return health;
  const auto response = client->request("GET", "/healthz");
  if (!response || response->status != 200) return health;
  health.ok = true;
  health.body = response->body;
  health.position = json_number(response->body, "position");
  health.nats_connected = response->body.find("\"connected\":true") != std::string::npos;
  health.published = json_number(response->body, "published");
  health.lag = json_number(response->body, "lag");
  return health;
}

bool PrimaryProcess::wait_published(int timeout_ms) const {
  return eventually(
      [&] {
        const Health now = health();
        return now.ok && now.nats_connected && now.published == now.position && now.lag == 0;
      },
      timeout_ms);
}

BookingLoad::BookingLoad(uint16_t port) : port_(port) {
  thread_ = std::thread([this] {
    const std::string token = "Bearer " + ApiFixture::token_for(student("s1"));
    const std::string start = format_rfc3339(SystemClock().now() + 30 * ms_per_day);
    const std::string body = fmt::format(
        R"({{"tutor_id":"t1","subject":"Physics","scheduled_start":"{}","duration_minutes":60,"price":{{"amount":35000,"currency":"ETB"}}}})",
        start);
    const HeaderList headers = {{"Authorization", token}, {"Content-Type", "application/json"}};
    std::optional<HttpClient> client;
    while (!stopping_.load()) {
      if (!client) client = HttpClient::connect(port_.load(), "127.0.0.1", 1000);
      if (!client) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      client->set_timeout_ms(5000);
      const auto response = client->request("POST", "/api/bookings", body, headers);
      if (!response) {
        last_status_.store(-1);
        client.reset();
        continue;
      }
      last_status_.store(response->status);
      if (response->status == 201) created_.fetch_add(1);
    }
  });
}

BookingLoad::~BookingLoad() { stop(); }

void BookingLoad::stop() {
  stopping_.store(true);
  if (thread_.joinable()) thread_.join();
}

}  // namespace tl::test
