// A ledger written before event schema 2 (PaymentRejected without the provider's amount and
// currency) keeps working after the upgrade: the engine opens it, `replay verify` finds it clean,
// its rejections read with the fields empty, and new rejections are written in schema 2 beside
// the old ones in the same log.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include "engine/event_codec.h"
#include "projections/json_text.h"
#include "support/audit_cli_runner.h"
#include "support/engine_fixture.h"
#include "support/log_test_support.h"

using namespace tl;
using namespace tl::test;

namespace {

// The data a schema-1 writer gave a PaymentRejected: its first four fields.
std::string schema_one_rejection(const PaymentRejected& rejected) {
  std::string data;
  for (const auto& [name, value] : {std::pair{"booking_id", &rejected.booking_id}, std::pair{"tx_ref", &rejected.tx_ref},
                                    std::pair{"reference", &rejected.reference}, std::pair{"reason", &rejected.reason}}) {
    data += data.empty() ? '{' : ',';
    json::append_key(data, name);
    json::append_string(data, *value);
  }
  return data + '}';
}

// Writes `events` to a new log at `path` as a schema-1 writer would have: one append per command.
void write_schema_one_log(const std::string& path, const std::vector<Event>& events) {
  LogOptions options;
  options.sync = false;
  std::unique_ptr<LogStore> log = logtest::open_log(path, options);
  for (size_t i = 0; i < events.size();) {
    StreamAppend append{events[i].stream, ExpectedVersion::any(), {}};
    size_t end = i;
    for (; end < events.size() && events[end].stream == events[i].stream && events[end].command_id == events[i].command_id; ++end) {
      NewEvent event = make_new_event(events[end].data, events[end].actor, events[end].at, events[end].command_id);
      event.schema = 1;
      if (const auto* rejected = std::get_if<PaymentRejected>(&events[end].data)) event.data = schema_one_rejection(*rejected);
      append.events.push_back(std::move(event));
    }
    AppendBatch batch;
    batch.streams.push_back(std::move(append));
    const AppendResult result = log->append(batch);
    REQUIRE_MESSAGE(result.status.is_ok(), result.status.to_string());
    i = end;
  }
}

}  // namespace

TEST_CASE("ALedgerOfSchemaOneOpensVerifiesAndTakesSchemaTwoEventsBesideItsOwn") {
  EngineFixture written;
  written.book("bk", example_start);
  const std::string tx_ref = written.accept_and_checkout("bk");
  REQUIRE(written.run(system_actor(), CapturePayment{tx_ref, "ch_short", "349.00", "ETB"}).status == 200);
  REQUIRE(written.run(system_actor(), CapturePayment{tx_ref, "ch_ok", "350.00", "ETB"}).status == 200);
  const std::vector<Event> events = written.events();
  REQUIRE(written.count_events("PaymentRejected") == 1);

  // The same journey in a log of schema 1, and an engine of schema 2 on it.
  EngineFixture upgraded;
  upgraded.close();
  write_schema_one_log(upgraded.options.data_dir, events);
  upgraded.open();
  CHECK(upgraded.booking("bk").status == BookingStatus::confirmed);
  const std::vector<Event> read_back = upgraded.events();
  REQUIRE(read_back.size() == events.size());
  const auto& old_rejection = std::get<PaymentRejected>(read_back[3].data);
  CHECK(old_rejection.reason == "amount_mismatch");
  CHECK(old_rejection.reference == "ch_short");
  CHECK(old_rejection.provider_amount.empty());
  CHECK(old_rejection.provider_currency.empty());

  // A new rejection after the upgrade keeps what the provider reported, in schema 2.
  upgraded.book("bk2", example_start + ms_per_hour);
  const std::string tx_ref2 = upgraded.accept_and_checkout("bk2");
  REQUIRE(upgraded.run(system_actor(), CapturePayment{tx_ref2, "ch_usd", "350.00", "USD"}).status == 200);
  const uint64_t head = upgraded.engine->log().head().position;
  std::vector<EventRecord> tail;
  REQUIRE(upgraded.engine->log().read_all(head, 1, &tail).is_ok());
  REQUIRE(tail.size() == 1);
  const EventRecord& newest = tail[0];
  CHECK(newest.type == "PaymentRejected");
  CHECK(newest.schema == 2);
  CHECK(newest.data.find(R"("provider_amount":"350.00","provider_currency":"USD")") != std::string::npos);
  upgraded.close();

  const CliRun verified = run_replay({"verify", "--data", upgraded.options.data_dir});
  CHECK_MESSAGE(verified.exit_code == 0, verified.out, verified.err);
  const CliRun rebuilt = run_replay({"rebuild", "--data", upgraded.options.data_dir});
  CHECK_MESSAGE(rebuilt.exit_code == 0, rebuilt.out, rebuilt.err);
  const CliRun old_history = run_replay({"history", "--data", upgraded.options.data_dir, "bk"});
  CHECK(old_history.out.find(R"(reason "amount_mismatch")" "\n") != std::string::npos);
  CHECK(old_history.out.find("provider reported") == std::string::npos);
  const CliRun new_history = run_replay({"history", "--data", upgraded.options.data_dir, "bk2"});
  CHECK_MESSAGE(new_history.out.find(R"(reason "currency_mismatch", provider reported "350.00" "USD")") != std::string::npos,
                new_history.out);
}
