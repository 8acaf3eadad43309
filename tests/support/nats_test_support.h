#pragma once
// Checks and drivers shared by the NATS tests: read a whole JetStream stream back, compare it with
// a log folder, publish raw messages (to plant damage), drive a `tutorledger serve --nats` child
// with HTTP load.
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/sha256.h"
#include "support/child_process.h"
#include "support/eventually.h"

namespace tl::test {

constexpr std::string_view test_stream = "TUTORLEDGER_EVENTS";

struct StreamMessage {
  uint64_t sequence = 0;
  std::string subject;
  std::string msg_id;  // the Nats-Msg-Id header
  std::string data;
};
// Every message of the stream, 1 to its last sequence, read one by one.
std::vector<StreamMessage> read_stream(const std::string& url, std::string_view stream = test_stream);
// Creates the stream the way the publisher does (subjects tl.events.>, file storage).
void create_stream(const std::string& url, int replicas = 1, std::string_view stream = test_stream);
// The server name ("n1", "n2", ...) of the stream's current leader, "" when there is none.
std::string stream_leader(const std::string& url, std::string_view stream = test_stream);
uint64_t stream_last_sequence(const std::string& url, std::string_view stream = test_stream);
// Publishes one message as the publisher would (Msg-Id, expected last sequence); the NATS status text.
std::string publish_raw(const std::string& url, uint64_t position, std::string_view data,
                        std::string_view subject = "tl.events.booking", std::string_view stream = test_stream);

// The stored values of a log folder, opened as a RocksDB secondary (its owner may be running).
std::vector<std::string> stored_values_of(const std::string& data_dir);
// The state hash of the projections rebuilt from a log folder (opened as a secondary).
Digest state_hash_of(const std::string& data_dir);

// CHECKs that the stream is exactly the log: as many messages as events, message N at sequence N
// with Nats-Msg-Id N and the stored value of position N as its data.
void check_stream_equals_log(const std::string& url, const std::vector<std::string>& stored_values,
                             std::string_view stream = test_stream);

// `tutorledger serve --nats URL` as a child process on a free port.
class PrimaryProcess {
 public:
  PrimaryProcess(std::string data_dir, std::string log_path, std::vector<std::string> extra_args);
  void start();         // waits until it listens
  int stop();           // SIGTERM, returns the exit code
  void kill();          // SIGKILL
  uint16_t port() const { return port_; }
  const std::string& data_dir() const { return data_dir_; }
  std::string log() const { return earlier_runs_log_ + process_.log(); }  // every run's output

  struct Health {
    bool ok = false;  // answered 200
    uint64_t position = 0;
    bool nats_connected = false;
    uint64_t published = 0;
    uint64_t lag = 0;
    std::string body;
  };
  Health health() const;
  // Waits until everything in the log is published (connected, published == position).
  bool wait_published(int timeout_ms) const;

 private:
  std::string data_dir_;
  std::string log_path_;
  std::vector<std::string> extra_args_;
  ChildProcess process_;
  uint16_t port_ = 0;
  // What earlier runs wrote: each run starts on an empty log file, so that waiting for its
  // "listening on" line cannot find an earlier run's port.
  std::string earlier_runs_log_;
};

// Books sessions through POST /api/bookings on one keep-alive connection from its own thread
// until stop(); counts 201 answers. Failed requests (a killed server) reconnect and go on.
class BookingLoad {
 public:
  explicit BookingLoad(uint16_t port);
  ~BookingLoad();
  void stop();
  uint64_t created() const { return created_.load(); }
  void set_port(uint16_t port) { port_.store(port); }
  int last_status() const { return last_status_.load(); }  // 0 before any answer, -1 after no answer


 private:
  std::atomic<uint16_t> port_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> created_{0};
  std::atomic<int> last_status_{0};
  std::thread thread_;
};

}  // namespace tl::test
