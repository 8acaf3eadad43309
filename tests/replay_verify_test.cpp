// `replay verify`: a clean log exits 0; a changed byte, a deleted event, a reordered pair, a
// wrong digest, broken invariants under an intact hash chain and a damaged write-ahead-log record
// exit 1 with the first bad position; folders that are not logs are usage errors.
#include <doctest/doctest.h>

#include <cstdlib>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include <fmt/format.h>

#include "engine/log_keys.h"
#include "replay/data_folder.h"
#include "replay/verify.h"
#include "support/audit_cli_runner.h"
#include "support/event_log_writer.h"
#include "support/seed_ledger.h"

using namespace tl;
using namespace tl::test;

namespace {

// A fresh seed log in its own folder, closed.
struct SeedLog {
  SeedLog() { run_seed_journeys(fixture); }
  const std::string& dir() const { return fixture.options.data_dir; }
  EngineFixture fixture;
};

CliRun verify(const std::string& dir, std::vector<std::string> more = {}) {
  std::vector<std::string> args{"verify", "--data", dir};
  args.insert(args.end(), more.begin(), more.end());
  return run_replay(std::move(args));
}

// The verdict must be one line naming the position.
void check_damage(const CliRun& run, uint64_t position, std::string_view problem) {
  CHECK(run.exit_code == 1);
  CHECK_MESSAGE(run.out.starts_with(fmt::format("damaged: position {}: ", position)), run.out);
  CHECK_MESSAGE(run.out.find(problem) != std::string::npos, run.out);
  CHECK(std::count(run.out.begin(), run.out.end(), '\n') == 1);
}

Digest stored_hash(const std::string& dir, uint64_t position) {
  std::unique_ptr<LogStore> log;
  REQUIRE(replay::open_data_folder(dir, &log).is_ok());
  std::vector<EventRecord> records;
  REQUIRE(log->read_all(position, 1, &records).is_ok());
  REQUIRE(records.size() == 1);
  return records[0].hash;
}

uint64_t stored_head(const std::string& dir) {
  std::unique_ptr<LogStore> log;
  REQUIRE(replay::open_data_folder(dir, &log).is_ok());
  return log->head().position;
}

const TimeMs t0 = example_start - ms_per_day;
const Money price = Money{35000, *Currency::parse("ETB")};

std::vector<Event> paid_booking(const std::string& escrow_held_command, int64_t captured_amount = 35000) {
  const std::string stream = "booking-bk_1";
  return {
      make_event(stream, BookingRequested{"bk_1", "s1", "t1", "Maths", example_start, 60, price}, student(), t0, "c1"),
      make_event(stream, BookingAccepted{"bk_1"}, tutor(), t0, "c2"),
      make_event(stream, CheckoutOpened{"bk_1", "tx-bk_1", price}, student(), t0, "c3"),
      make_event(stream,
                 PaymentCaptured{"bk_1", "tx-bk_1", "ref-1", price,
                                 {Posting{"external:psp", "escrow:bk_1", captured_amount, price.currency}}},
                 system_actor(), t0, "c4"),
      make_event(stream, EscrowHeld{"bk_1", price}, system_actor(), t0, escrow_held_command),
  };
}

}  // namespace

TEST_CASE("CleanLogExitsZeroAndNamesItsHead") {
  SeedLog seed;
  const CliRun run = verify(seed.dir());
  CHECK_MESSAGE(run.exit_code == 0, run.out, run.err);
  CHECK(run.out.starts_with("clean: "));
  std::unique_ptr<LogStore> log;
  REQUIRE(replay::open_data_folder(seed.dir(), &log).is_ok());
  const LogHead head = log->head();
  CHECK(run.out.find(fmt::format("head: position {} hash {}", head.position, to_hex(head.hash))) != std::string::npos);
  CHECK(run.err.empty());
}

TEST_CASE("ChangedByteIsReportedAtItsPosition") {
  SeedLog seed;
  {
    logtest::RawDb raw(seed.dir());
    std::string value = raw.get(log_keys::event_key(20));
    const size_t at = value.find("35000");
    REQUIRE(at != std::string::npos);
    value[at + 4] = '1';  // ETB 350.00 becomes 350.01: still a well-formed record
    raw.put(log_keys::event_key(20), value);
  }
  check_damage(verify(seed.dir()), 20, "hash mismatch");
}

TEST_CASE("DeletedEventIsReportedAsAGapAtItsPosition") {
  SeedLog seed;
  {
    logtest::RawDb raw(seed.dir());
    raw.erase(log_keys::event_key(30));
  }
  check_damage(verify(seed.dir()), 30, "gap");
}

TEST_CASE("ReorderedPairIsReportedAtTheFirstOfThem") {
  SeedLog seed;
  {
    logtest::RawDb raw(seed.dir());
    const std::string first = raw.get(log_keys::event_key(40));
    const std::string second = raw.get(log_keys::event_key(41));
    raw.put(log_keys::event_key(40), second);
    raw.put(log_keys::event_key(41), first);
  }
  check_damage(verify(seed.dir()), 40, "position 41");
}

namespace {

// Every file's bytes, by name: verify must leave a damaged folder exactly as it found it.
std::map<std::string, std::string> folder_bytes(const std::string& dir) {
  std::map<std::string, std::string> bytes;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    bytes[entry.path().filename().string()] = logtest::file_bytes(entry.path().string());
  }
  return bytes;
}

}  // namespace

// Damage below the log's own records, in RocksDB's write-ahead log: RocksDB refuses to open the
// folder as it is, so verify reads it past the damaged records (a whole 32 KiB block of them) and
// names the first position they took: here a gap, since they held events.
TEST_CASE("DamagedWriteAheadLogRecordIsReportedAtTheFirstPositionItTook") {
  SeedLog seed;
  const uint64_t head = stored_head(seed.dir());
  const std::filesystem::path write_ahead_log = logtest::newest_write_ahead_log(seed.dir());
  REQUIRE_MESSAGE(!write_ahead_log.empty(), "the seed log's events are expected in its write-ahead log");
  REQUIRE(std::filesystem::file_size(write_ahead_log) > 4096);
  logtest::flip_byte(write_ahead_log.string(), 2000);
  const std::map<std::string, std::string> before = folder_bytes(seed.dir());

  const CliRun run = verify(seed.dir());
  CHECK(run.exit_code == 1);
  CHECK_MESSAGE(run.out.starts_with("damaged: position "), run.out);
  const uint64_t named = std::strtoull(run.out.c_str() + std::string_view("damaged: position ").size(), nullptr, 10);
  CHECK(named >= 1);
  CHECK(named <= head);
  CHECK_MESSAGE(run.out.find(": gap: expected position ") != std::string::npos, run.out);
  CHECK_MESSAGE(run.out.find("storage: the write-ahead log holds damaged records (Corruption: ") != std::string::npos,
                run.out);
  CHECK(std::count(run.out.begin(), run.out.end(), '\n') == 1);
  CHECK(folder_bytes(seed.dir()) == before);

  // The other audit commands refuse such a folder rather than work on part of the ledger.
  const CliRun rebuilt = run_replay({"rebuild", "--data", seed.dir()});
  CHECK_MESSAGE(rebuilt.exit_code == 1, rebuilt.out, rebuilt.err);
  CHECK(rebuilt.err.find("Corruption") != std::string::npos);
  const CliRun exported = run_export({"trial-balance", "--data", seed.dir()});
  CHECK_MESSAGE(exported.exit_code == 1, exported.out, exported.err);
}

namespace {

// Verify's verdict on a ledger whose damaged write-ahead-log records took no event the head vouches
// for: exit 1, naming the position after the head.
CliRun verify_names_the_position_after(const std::string& dir, uint64_t head) {
  const CliRun run = verify(dir);
  CHECK(run.exit_code == 1);
  CHECK_MESSAGE(run.out.starts_with(fmt::format("damaged: position {}: storage: the write-ahead log holds damaged "
                                                "records (Corruption: ",
                                                head + 1)),
                run.out);
  CHECK_MESSAGE(run.out.find(fmt::format("the events up to position {} read and verify", head)) != std::string::npos,
                run.out);
  return run;
}

}  // namespace

// Damage inside a record of several MiB (a checkpoint's size) that RocksDB cannot read past: the
// log ends where the damage begins, and verify names the position after the last event it read.
TEST_CASE("DamagedLargeWriteAheadLogRecordThatCannotBeSkippedIsNamed") {
  SeedLog seed;
  const uint64_t head = stored_head(seed.dir());
  {
    logtest::RawDb raw(seed.dir());
    // As a checkpoint is written: one WriteBatch per 4 MiB chunk.
    for (int i = 0; i < 3; ++i) raw.put(fmt::format("chunk-{}", i), std::string(4 << 20, 'c'), /*projections=*/true);
    raw.put("header", std::string(100, 'h'), /*projections=*/true);
  }
  const std::filesystem::path write_ahead_log = logtest::newest_write_ahead_log(seed.dir());
  REQUIRE(!write_ahead_log.empty());
  const auto size = std::filesystem::file_size(write_ahead_log);
  REQUIRE(size > (12u << 20));
  logtest::flip_byte(write_ahead_log.string(), size - (6u << 20));  // inside the second chunk
  const std::map<std::string, std::string> before = folder_bytes(seed.dir());

  const CliRun run = verify_names_the_position_after(seed.dir(), head);
  CHECK_MESSAGE(run.out.find("read up to the first of them") != std::string::npos, run.out);
  CHECK(folder_bytes(seed.dir()) == before);
}

// A damaged record after the last event (here a later write of another kind) takes no event with
// it: every event verifies, yet the folder is still damaged, and the first position the log can
// no longer vouch for is the one after its head.
TEST_CASE("DamagedWriteAheadLogRecordAfterTheLastEventIsStillDamage") {
  SeedLog seed;
  const uint64_t head = stored_head(seed.dir());
  {
    logtest::RawDb raw(seed.dir());
    raw.put("later", std::string(3000, 'x'), /*projections=*/true);
  }
  const std::filesystem::path write_ahead_log = logtest::newest_write_ahead_log(seed.dir());
  REQUIRE(!write_ahead_log.empty());
  const auto size = static_cast<std::streamoff>(std::filesystem::file_size(write_ahead_log));
  REQUIRE(size > 3000);
  logtest::flip_byte(write_ahead_log.string(), static_cast<uint64_t>(size - 1000));  // inside the later value

  const CliRun run = verify_names_the_position_after(seed.dir(), head);
  CHECK(std::count(run.out.begin(), run.out.end(), '\n') == 1);
}

TEST_CASE("DigestThatMatchesPassesAndOneThatDoesNotIsCaught") {
  SeedLog seed;
  const std::string right = fmt::format("10:{}", to_hex(stored_hash(seed.dir(), 10)));
  const CliRun good = verify(seed.dir(), {"--digest", right});
  CHECK_MESSAGE(good.exit_code == 0, good.out);
  CHECK(good.out.find("digest: position 10 has hash") != std::string::npos);

  const std::string wrong = fmt::format("10:{}", to_hex(stored_hash(seed.dir(), 11)));
  check_damage(verify(seed.dir(), {"--digest", wrong}), 10, "differs from the digest's");

  const uint64_t head = seed.fixture.commands_submitted > 0 ? stored_head(seed.dir()) : 0;
  const std::string past_head = fmt::format("{}:{}", head + 5, to_hex(stored_hash(seed.dir(), 10)));
  check_damage(verify(seed.dir(), {"--digest", past_head}), head + 1, "events were removed");
}

TEST_CASE("MalformedDigestIsAUsageError") {
  SeedLog seed;
  for (const char* digest : {"10", "0:" "0000000000000000000000000000000000000000000000000000000000000000", "x:ab", "10:abc"}) {
    CAPTURE(digest);
    const CliRun run = verify(seed.dir(), {"--digest", digest});
    CHECK(run.exit_code == 2);
    CHECK(run.err.find("--digest must be POS:HASH") != std::string::npos);
  }
}

TEST_CASE("EventsOfOneCommandAreCheckedTogether") {
  logtest::TempFolder folder;
  write_log(folder.sub("data"), paid_booking("c4"));  // EscrowHeld belongs to the capture
  const CliRun run = verify(folder.sub("data"));
  CHECK_MESSAGE(run.exit_code == 0, run.out);
  CHECK(run.out.find("5 events, 4 commands") != std::string::npos);
}

TEST_CASE("BrokenInvariantAtACommandBoundaryIsCaughtUnderAnIntactChain") {
  logtest::TempFolder folder;
  write_log(folder.sub("data"), paid_booking("c5"));  // the capture's command ends without its hold
  check_damage(verify(folder.sub("data")), 4, "after command c4: booking bk_1 is confirmed with escrow none");
}

TEST_CASE("EscrowHoldingLessThanThePriceIsCaught") {
  logtest::TempFolder folder;
  write_log(folder.sub("data"), paid_booking("c4", 30000));
  check_damage(verify(folder.sub("data")), 5, "escrow of booking bk_1 holds 30000 but should hold 35000");
}

TEST_CASE("PostingsThatWouldMakeATutorNegativeAreCaughtBeforeTheyApply") {
  logtest::TempFolder folder;
  std::vector<Event> events = paid_booking("c4");
  const Currency etb_currency = price.currency;
  events.push_back(make_event("tutor-t1",
                              WithdrawalRequested{"wd_1", "t1", Money{100, etb_currency}, "CBE 1",
                                                  {Posting{"tutor:t1", "tutor:t1:withdrawing", 100, etb_currency}}},
                              tutor(), t0 + 1, "c6"));
  write_log(folder.sub("data"), events);
  check_damage(verify(folder.sub("data")), 6, "its postings would take account tutor:t1 to ETB -1.00");
}

TEST_CASE("EventOnAnotherBookingsStreamIsCaught") {
  logtest::TempFolder folder;
  std::vector<Event> events = paid_booking("c4");
  events.push_back(make_event("booking-bk_1", SessionStarted{"bk_2", "tl-bk_2"}, student(), t0 + 1, "c6"));
  write_log(folder.sub("data"), events);
  check_damage(verify(folder.sub("data")), 6, "SessionStarted of booking bk_2 is on stream booking-bk_1");
}

TEST_CASE("RecordWhoseDataDoesNotDecodeIsReportedAtItsPositionUnderAnIntactChain") {
  // A well-formed, correctly hashed record of a known type whose data lacks the type's fields,
  // followed by a good one: verify and rebuild both stop at it and name it.
  logtest::TempFolder folder;
  write_log(folder.sub("data"), paid_booking("c4"));
  {
    LogOptions options;
    options.sync = false;
    std::unique_ptr<LogStore> log = logtest::open_log(folder.sub("data"), options);
    for (const auto& [type, data] : {std::pair{"SessionStarted", R"({"booking":"bk_1"})"},
                                      std::pair{"SessionStarted", R"({"booking_id":"bk_1","channel":"tl-bk_1"})"}}) {
      AppendBatch batch;
      batch.streams.push_back(
          StreamAppend{"booking-bk_1", ExpectedVersion::any(), {NewEvent{type, 1, t0 + 1, "student:s1", "c6", data}}});
      REQUIRE(log->append(batch).status.is_ok());
    }
  }
  REQUIRE(stored_head(folder.sub("data")) == 7);
  check_damage(verify(folder.sub("data")), 6, "SessionStarted data: expected field booking_id, found booking");
  const CliRun rebuilt = run_replay({"rebuild", "--data", folder.sub("data")});
  CHECK(rebuilt.exit_code == 1);
  CHECK_MESSAGE(rebuilt.out.find("damaged: position 6: SessionStarted data: expected field booking_id") != std::string::npos,
                rebuilt.out);
  CHECK_MESSAGE(rebuilt.out.find("rebuilt: 5 events") != std::string::npos, rebuilt.out);
}

TEST_CASE("TimeGoingBackwardsIsCaught") {
  logtest::TempFolder folder;
  std::vector<Event> events = paid_booking("c4");
  events[2].at = t0 - 1;
  write_log(folder.sub("data"), events);
  check_damage(verify(folder.sub("data")), 3, "is before the time of the event before it");
}

TEST_CASE("RandomJourneysVerifyCleanWithTheIncrementalInvariants") {
  // Bookings move along their journeys with random turns (declines, cancellations, no-shows,
  // disputes resolved at random amounts, withdrawals completed or failed), with a command that
  // is likely refused now and then; timers fire as time moves. The log the harness accepted
  // must verify clean: the incremental invariant checks raise no false alarm.
  const uint64_t seed = 20261124;
  std::mt19937_64 random(seed);
  auto uniform = [&](int64_t low, int64_t high) { return std::uniform_int_distribution<int64_t>(low, high)(random); };
  DomainHarness h;
  int bookings = 0;
  int withdrawals = 0;
  auto new_booking = [&] {
    const Actor who = student(fmt::format("s{}", uniform(1, 3)));
    h.run(who, RequestBooking{fmt::format("bk_{}", bookings++), fmt::format("t{}", uniform(1, 3)), "Maths",
                              h.now + uniform(60, 720) * ms_per_minute, 60, etb_amount(uniform(100, 50000))});
  };
  auto next_step = [&](const Booking& b) {
    const Actor by_student = student(b.student_id);
    const Actor by_tutor = tutor(b.tutor_id);
    switch (b.status) {
      case BookingStatus::requested:
        if (uniform(0, 9) == 0) return void(h.run(by_tutor, DeclineBooking{b.id, "busy"}));
        return void(h.run(by_tutor, AcceptBooking{b.id}));
      case BookingStatus::accepted:
        if (uniform(0, 9) == 0) return void(h.run(by_student, CancelBooking{b.id, ""}));
        h.run(by_student, Checkout{b.id});
        return void(h.run(system_actor(), CapturePayment{h.state.find_booking(b.id)->payment_ref(), "ref-" + b.id,
                                                         format_decimal_amount(b.price.amount, b.price.currency), "ETB"}));
      case BookingStatus::confirmed: return void(h.run(by_student, CancelBooking{b.id, ""}));
      case BookingStatus::in_session: return void(h.run(uniform(0, 1) == 0 ? by_student : by_tutor, EndSession{b.id, ""}));
      case BookingStatus::completed:
        if (b.escrow_status == EscrowStatus::release_scheduled && std::stoi(b.id.substr(3)) % 4 == 0) {
          return void(h.run(by_student, OpenDispute{b.id, "not what was agreed"}));
        }
        if (b.escrow_status == EscrowStatus::disputed) {
          return void(h.run(admin(), ResolveDispute{b.id, uniform(0, 2) == 0 ? 0 : uniform(0, b.price.amount)}));
        }
        if (b.rating_stars == 0) return void(h.run(by_student, RateSession{b.id, uniform(1, 5), ""}));
        return;
      default: return;
    }
  };
  auto withdrawal_step = [&] {
    const Actor who = tutor(fmt::format("t{}", uniform(1, 3)));
    const int64_t available = h.state.balance(accounts::tutor(who.id), etb());
    if (available > 0 && uniform(0, 1) == 0) {
      return void(h.run(who, RequestWithdrawal{fmt::format("wd_{}", withdrawals++), etb_amount(uniform(1, available)), "bank"}));
    }
    if (withdrawals == 0) return;
    const std::string id = fmt::format("wd_{}", uniform(0, withdrawals - 1));
    if (uniform(0, 2) == 0) return void(h.run(admin(), FailWithdrawal{id, "no"}));
    h.run(admin(), CompleteWithdrawal{id});
  };
  // Most paid sessions start inside their window (the others become no-shows).
  auto start_due_sessions = [&] {
    for (const Booking& b : h.state.bookings) {
      const bool in_window = h.now >= b.scheduled_start - 5 * ms_per_minute && h.now < b.scheduled_start + 15 * ms_per_minute;
      if (b.status == BookingStatus::confirmed && in_window && uniform(0, 3) != 0) {
        h.run(uniform(0, 1) == 0 ? student(b.student_id) : tutor(b.tutor_id), StartSession{b.id});
      }
    }
  };
  for (int step = 0; step < 6000; ++step) {
    h.advance_by(uniform(0, 10) * ms_per_minute);
    start_due_sessions();
    const int64_t roll = uniform(0, 19);
    if (bookings == 0 || roll < 1) {
      new_booking();
    } else if (roll < 3) {
      withdrawal_step();
    } else if (roll == 3) {
      // Likely refused: a command out of turn on any booking.
      const Booking& b = h.state.bookings[static_cast<size_t>(uniform(0, bookings - 1))];
      h.run(student(b.student_id), StartSession{b.id});
    } else {
      // A booking whose journey is not over yet.
      std::vector<const Booking*> open;
      for (const Booking& b : h.state.bookings) {
        const bool waiting = b.status == BookingStatus::requested || b.status == BookingStatus::accepted ||
                             b.status == BookingStatus::in_session ||
                             (b.status == BookingStatus::completed && (b.rating_stars == 0 || b.escrow_status == EscrowStatus::disputed));
        if (waiting) open.push_back(&b);
      }
      if (!open.empty()) next_step(*open[static_cast<size_t>(uniform(0, static_cast<int64_t>(open.size()) - 1))]);
    }
  }
  h.advance_by(40 * ms_per_day);
  REQUIRE(h.log.size() > 1000);
  std::map<std::string_view, size_t> counts;
  for (const Event& event : h.log) ++counts[event_name(event.data)];
  for (const char* type : {"DisputeResolved", "EscrowReleased", "BookingNoShow", "EscrowRefunded", "WithdrawalCompleted",
                           "WithdrawalFailed", "BookingExpired", "BookingCancelled"}) {
    CHECK_MESSAGE(counts[type] >= 1, std::string(type));
  }
  logtest::TempFolder folder;
  write_log(folder.sub("data"), h.log);
  const CliRun run = verify(folder.sub("data"));
  CHECK_MESSAGE(run.exit_code == 0, "seed ", seed, ": ", run.out);
}

TEST_CASE("AMissingOrShortDataFileOrAnUnreadableManifestIsDamageNotAnOlderCleanLedger") {
  // A RocksDB secondary would quietly open the newest state whose files all exist: with the
  // newest table file gone it saw an older ledger and called it clean. Every audit command opens
  // through the same check, so exports and reconcile refuse such a folder too.
  for (const std::string damage : {"missing", "short", "manifest"}) {
    CAPTURE(damage);
    SeedLog seed;
    {
      logtest::RawDb raw(seed.dir());
      raw.flush();  // the seed ledger in one table file
      raw.put("later", "a later write", /*projections=*/true);
      raw.flush();  // and a newer one
    }
    std::vector<std::filesystem::path> tables;
    std::filesystem::path manifest;
    for (const auto& entry : std::filesystem::directory_iterator(seed.dir())) {
      if (entry.path().extension() == ".sst") tables.push_back(entry.path());
      if (entry.path().filename().string().starts_with("MANIFEST-")) manifest = entry.path();
    }
    REQUIRE(tables.size() >= 2);
    const std::filesystem::path newest = *std::max_element(tables.begin(), tables.end());
    if (damage == "missing") std::filesystem::remove(newest);
    if (damage == "short") std::filesystem::resize_file(newest, std::filesystem::file_size(newest) / 2);
    if (damage == "manifest") std::ofstream(manifest, std::ios::binary | std::ios::trunc) << std::string(500, '\x5a');

    const CliRun run = verify(seed.dir());
    CHECK_MESSAGE(run.exit_code == 1, run.out, run.err);
    CHECK_MESSAGE(run.err.find("are damaged or incomplete") != std::string::npos, run.err);
    CHECK(run.out.find("clean") == std::string::npos);
    const CliRun exported = run_export({"trial-balance", "--data", seed.dir()});
    CHECK_MESSAGE(exported.exit_code == 1, exported.out, exported.err);
  }
}

TEST_CASE("MissingFolderAndFoldersThatAreNotLogsAreUsageErrors") {
  logtest::TempFolder folder;
  CliRun missing = verify(folder.sub("nothing-here"));
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("no database at") != std::string::npos);
  CliRun empty = verify(folder.path());
  CHECK(empty.exit_code == 2);
  CHECK(empty.err.find("is not a tutorledger database") != std::string::npos);
  CHECK(run_replay({"verify"}).exit_code == 2);
  CHECK(run_replay({"verify", "--data", folder.path(), "extra"}).exit_code == 2);
  // An empty name is a missing option, not a folder that "is empty".
  for (const CliRun& run : {run_replay({"verify", "--data", ""}), run_replay({"state", "--data", ""}),
                            run_export({"journal", "--data", ""}), run_reconcile({"--data", "", "--statement", "s.csv"})}) {
    CHECK(run.exit_code == 2);
    CHECK_MESSAGE(run.err.find("--data DIR is required") != std::string::npos, run.err);
  }
  CHECK(run_reconcile({"--data", folder.path(), "--statement", ""}).err.find("--statement FILE.csv is required") !=
        std::string::npos);
}

TEST_CASE("AnUnusableTmpdirIsAClearErrorNotACrash") {
  // The secondary instance keeps its scratch files under TMPDIR.
  EngineFixture f;
  f.book("bk_1", example_start);
  f.close();
  const char* saved = std::getenv("TMPDIR");
  const std::string before = saved != nullptr ? saved : "";
  for (const char* tmpdir : {"/nonexistent-tmpdir", ""}) {
    CAPTURE(tmpdir);
    setenv("TMPDIR", tmpdir, 1);
    const CliRun run = verify(f.options.data_dir);
    CHECK(run.exit_code == 1);
    CHECK_MESSAGE(run.err.find("cannot make a scratch folder for the secondary instance") != std::string::npos, run.err);
  }
  if (saved != nullptr) {
    setenv("TMPDIR", before.c_str(), 1);
  } else {
    unsetenv("TMPDIR");
  }
  CHECK(verify(f.options.data_dir).exit_code == 0);
}

TEST_CASE("ReleaseThatDoesNotSplitThePriceIsCaught") {
  logtest::TempFolder folder;
  std::vector<Event> events = paid_booking("c4");
  const std::string stream = "booking-bk_1";
  events.push_back(make_event(stream, SessionStarted{"bk_1", "tl-bk_1"}, student(), example_start, "c6"));
  events.push_back(make_event(stream, SessionEnded{"bk_1", example_start + ms_per_hour, "", 3600, "ended"}, tutor(),
                              example_start + ms_per_hour, "c7"));
  events.push_back(make_event(stream, EscrowReleaseScheduled{"bk_1", example_start + 25 * ms_per_hour, 30000, 6000},
                              tutor(), example_start + ms_per_hour, "c7"));
  write_log(folder.sub("data"), events);
  check_damage(verify(folder.sub("data")), 8, "EscrowReleaseScheduled splits ETB 360.00 but the price is ETB 350.00");
}
