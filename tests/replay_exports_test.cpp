// The finance exports, history and state over the seed log (tests/support/seed_ledger.h),
// against golden files (tests/golden/; TL_UPDATE_GOLDEN=1 rewrites them), plus the properties
// that make them right: two journal rows per posting, trial balances that total 0 and agree with
// the projections, periods that keep only their events, atomic output files.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "engine/event_codec.h"
#include "replay/data_folder.h"
#include "replay/state_at.h"
#include "support/audit_cli_runner.h"
#include "support/engine_fixture.h"
#include "support/event_log_writer.h"
#include "support/golden.h"
#include "support/log_test_support.h"
#include "support/seed_ledger.h"

using namespace tl;
using namespace tl::test;

namespace {

const std::string& seed_dir() { return shared_seed_dir(); }

std::string rfc(TimeMs at) { return format_rfc3339(at); }

std::vector<std::vector<std::string>> csv_rows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    REQUIRE_MESSAGE(line.ends_with('\r'), "a CSV line without CRLF: ", line);
    line.pop_back();
    std::vector<std::string> fields;
    std::istringstream cells(line);
    std::string cell;
    while (std::getline(cells, cell, ',')) fields.push_back(cell);
    if (line.ends_with(',')) fields.emplace_back();
    rows.push_back(std::move(fields));
  }
  return rows;
}

std::vector<Event> seed_events() {
  std::unique_ptr<LogStore> log;
  REQUIRE(replay::open_data_folder(seed_dir(), &log).is_ok());
  std::vector<Event> events;
  REQUIRE(log->scan(1, [&](const EventRecord& record) {
                Event event;
                REQUIRE(decode_event(record, &event).is_ok());
                events.push_back(std::move(event));
                return true;
              }).is_ok());
  return events;
}

State seed_state_at(TimeMs at) {
  std::unique_ptr<LogStore> log;
  REQUIRE(replay::open_data_folder(seed_dir(), &log).is_ok());
  replay::StateReplay state(false);
  replay::Progress progress(nullptr, "", 0);
  replay::FeedLimits limits;
  limits.at_max = at;
  REQUIRE(!replay::replay_into(*log, limits, progress, state).found());
  return state.state();
}

CliRun export_ok(std::vector<std::string> args) {
  CliRun run = run_export(std::move(args), seed_end);
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  CHECK(run.err.empty());
  return run;
}

}  // namespace

TEST_CASE("JournalMatchesItsGoldenFile") {
  check_golden("journal.csv", export_ok({"journal", "--data", seed_dir()}).out);
}

TEST_CASE("TrialBalanceMatchesItsGoldenFile") {
  check_golden("trial_balance.csv", export_ok({"trial-balance", "--data", seed_dir(), "--at", rfc(seed_end)}).out);
}

TEST_CASE("EscrowAgingMatchesItsGoldenFile") {
  check_golden("escrow.csv", export_ok({"escrow", "--data", seed_dir(), "--at", rfc(seed_end)}).out);
}

TEST_CASE("PayoutsMatchItsGoldenFile") {
  check_golden("payouts.csv", export_ok({"payouts", "--data", seed_dir(), "--from", rfc(seed_payout_day_from), "--to",
                                         rfc(seed_payout_day_to)})
                                  .out);
}

TEST_CASE("HistoriesMatchTheirGoldenFiles") {
  for (const char* booking : {"bk_paid", "bk_usd", "bk_cancel", "bk_dispute", "bk_noshow"}) {
    CAPTURE(booking);
    const CliRun run = run_replay({"history", "--data", seed_dir(), booking});
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    check_golden(fmt::format("history_{}.txt", booking), run.out);
  }
}

TEST_CASE("StateAtAMomentMatchesItsGoldenFile") {
  const CliRun run = run_replay({"state", "--data", seed_dir(), "--at", rfc(seed_before_releases)});
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  check_golden("state_before_releases.json", run.out);
}

TEST_CASE("JournalHasTwoRowsPerPostingDebitThenCredit") {
  size_t postings = 0;
  for (const Event& event : seed_events()) postings += postings_of(event.data).size();
  REQUIRE(postings > 10);
  const auto rows = csv_rows(export_ok({"journal", "--data", seed_dir()}).out);
  REQUIRE(rows.size() == 1 + 2 * postings);
  CHECK(rows[0] == std::vector<std::string>{"position", "at", "booking", "event_type", "account", "debit", "credit", "currency"});
  for (size_t i = 1; i < rows.size(); i += 2) {
    const auto& debit = rows[i];
    const auto& credit = rows[i + 1];
    REQUIRE(debit.size() == 8);
    REQUIRE(credit.size() == 8);
    CHECK(!debit[5].empty());
    CHECK(debit[6].empty());
    CHECK(credit[5].empty());
    CHECK(credit[6] == debit[5]);
    CHECK(credit[0] == debit[0]);
    CHECK(credit[7] == debit[7]);
  }
}

TEST_CASE("JournalPeriodKeepsEventsFromItsStartUpToButNotIncludingItsEnd") {
  const TimeMs from = seed_payout_day_from;
  const TimeMs to = seed_payout_day_to;
  size_t postings = 0;
  for (const Event& event : seed_events()) {
    if (event.at >= from && event.at < to) postings += postings_of(event.data).size();
  }
  const auto rows = csv_rows(export_ok({"journal", "--data", seed_dir(), "--from", rfc(from), "--to", rfc(to)}).out);
  CHECK(rows.size() == 1 + 2 * postings);
  for (size_t i = 1; i < rows.size(); ++i) {
    const TimeMs at = *parse_rfc3339(rows[i][1]);
    CHECK(at >= from);
    CHECK(at < to);
  }
  // Two adjacent periods together are the whole.
  const auto before = csv_rows(export_ok({"journal", "--data", seed_dir(), "--to", rfc(from)}).out);
  const auto after = csv_rows(export_ok({"journal", "--data", seed_dir(), "--from", rfc(from)}).out);
  const auto whole = csv_rows(export_ok({"journal", "--data", seed_dir()}).out);
  CHECK(before.size() - 1 + after.size() - 1 == whole.size() - 1);
}

TEST_CASE("TrialBalanceTotalsZeroPerCurrencyAndAgreesWithTheProjections") {
  for (const TimeMs at : {seed_before_releases, seed_payout_day_to, seed_end}) {
    CAPTURE(rfc(at));
    const auto rows = csv_rows(export_ok({"trial-balance", "--data", seed_dir(), "--at", rfc(at)}).out);
    const State state = seed_state_at(at);
    std::map<std::string, int64_t> sums;
    size_t accounts = 0;
    size_t totals = 0;
    for (size_t i = 1; i < rows.size(); ++i) {
      REQUIRE(rows[i].size() == 3);
      const int64_t balance = std::stoll(rows[i][2]);
      if (rows[i][0] == "TOTAL") {
        ++totals;
        CHECK(balance == 0);
        CHECK(sums[rows[i][1]] == 0);
        continue;
      }
      CHECK(totals == 0);  // TOTAL rows come last
      ++accounts;
      sums[rows[i][1]] += balance;
      CHECK(balance == state.balance(rows[i][0], *Currency::parse(rows[i][1])));
    }
    size_t state_entries = 0;
    for (const auto& [account, entries] : state.balances) state_entries += entries.size();
    CHECK(accounts == state_entries);
    CHECK(totals == sums.size());
  }
}

TEST_CASE("TrialBalanceWithoutAtIsAsOfNowOrTheLastEventWhicheverIsLater") {
  const std::string every_event = export_ok({"trial-balance", "--data", seed_dir(), "--at", rfc(seed_end)}).out;
  const CliRun later = run_export({"trial-balance", "--data", seed_dir()}, seed_end);
  CHECK(later.out == every_event);
  // A ledger run on a test clock is ahead of the wall clock: all of it still counts.
  const CliRun before_the_events = run_export({"trial-balance", "--data", seed_dir()}, example_start - 2 * ms_per_day - 1);
  REQUIRE(before_the_events.exit_code == 0);
  CHECK(before_the_events.out == every_event);
  // Asked for a moment before the first event, it shows nothing.
  CHECK(export_ok({"trial-balance", "--data", seed_dir(), "--at", rfc(example_start - 2 * ms_per_day - 1)}).out ==
        "account,currency,balance\r\n");
}

TEST_CASE("AtAWholeSecondIncludesTheEventsTheApiShowsAtThatSecond") {
  // The real clock stamps milliseconds; the API shows the capture below at t (whole second).
  // `--at t` takes in the whole second, `--at t.000` means exactly that instant.
  const TimeMs t = example_start - ms_per_day;
  const TimeMs captured = t + 413;
  const Money price{35000, *Currency::parse("ETB")};
  const std::string stream = "booking-bk_1";
  logtest::TempFolder folder;
  write_log(folder.sub("data"),
            {make_event(stream, BookingRequested{"bk_1", "s1", "t1", "Maths", example_start, 60, price}, student(), t - 5000, "c1"),
             make_event(stream, BookingAccepted{"bk_1"}, tutor(), t - 4000, "c2"),
             make_event(stream, CheckoutOpened{"bk_1", "tx-bk_1", price}, student(), t - 3000, "c3"),
             make_event(stream,
                        PaymentCaptured{"bk_1", "tx-bk_1", "ref-1", price,
                                        {Posting{"external:psp", "escrow:bk_1", 35000, price.currency}}},
                        system_actor(), captured, "c4"),
             make_event(stream, EscrowHeld{"bk_1", price}, system_actor(), captured, "c4")});
  const std::string data = folder.sub("data");
  const std::string whole = format_rfc3339_seconds(t);
  REQUIRE(whole.ends_with(":00Z"));

  const CliRun balances = run_export({"trial-balance", "--data", data, "--at", whole});
  CHECK_MESSAGE(balances.out.find("escrow:bk_1,ETB,35000") != std::string::npos, balances.out);
  const CliRun exact = run_export({"trial-balance", "--data", data, "--at", whole.substr(0, whole.size() - 1) + ".000Z"});
  CHECK_MESSAGE(exact.out.find("escrow:bk_1") == std::string::npos, exact.out);
  const CliRun state = run_replay({"state", "--data", data, "--at", whole});
  CHECK_MESSAGE(state.out.find(R"("status":"held")") != std::string::npos, state.out);
  // Exactly a day after the second the API shows as held_at, the escrow is a day old.
  const CliRun aged = run_export({"escrow", "--data", data, "--at", format_rfc3339_seconds(t + ms_per_day)});
  CHECK_MESSAGE(aged.out.find(",1-3d\r\n") != std::string::npos, aged.out);
}

TEST_CASE("BalancesRollForwardFromTheLastSecondOfOnePeriodThroughTheNextPeriodsJournal") {
  // Finance proves a period by rolling forward: the closing trial balance of the period before
  // (`--at` its last whole second, which takes in that second's milliseconds) plus the period's
  // journal (`--from` its first instant, `--to` the next period's) equals the period's closing
  // balance. Captures stamped in the boundary seconds, on either side, must each count once.
  const TimeMs period_start = example_start - ms_per_day;
  const TimeMs period_end = period_start + ms_per_hour;
  const Money price{35000, *Currency::parse("ETB")};
  const std::vector<TimeMs> captured_at = {period_start - 1000, period_start - 1, period_start, period_start + 413,
                                           period_end - 1000 + 5, period_end - 1, period_end, period_end + 999};
  std::vector<Event> events;
  for (size_t i = 0; i < captured_at.size(); ++i) {
    const std::string booking = fmt::format("bk_{}", i);
    const std::string stream = "booking-" + booking;
    const std::string tx = "tx-" + booking;
    const TimeMs at = captured_at[i];
    events.push_back(make_event(stream, BookingRequested{booking, "s1", "t1", "Maths", example_start, 60, price}, student(),
                                period_start - ms_per_hour, booking + "-c1"));
    events.push_back(make_event(stream, BookingAccepted{booking}, tutor(), period_start - ms_per_hour, booking + "-c2"));
    events.push_back(make_event(stream, CheckoutOpened{booking, tx, price}, student(), period_start - ms_per_hour, booking + "-c3"));
    events.push_back(make_event(
        stream,
        PaymentCaptured{booking, tx, "ref-" + booking, price, {Posting{"external:psp", "escrow:" + booking, 35000, price.currency}}},
        system_actor(), at, booking + "-c4"));
    events.push_back(make_event(stream, EscrowHeld{booking, price}, system_actor(), at, booking + "-c4"));
  }
  logtest::TempFolder folder;
  const std::string data = folder.sub("data");
  write_log(data, events);

  const auto balances_at = [&](TimeMs last_second) {
    std::map<std::string, int64_t> balances;
    const CliRun run = run_export({"trial-balance", "--data", data, "--at", format_rfc3339_seconds(last_second)});
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    const auto rows = csv_rows(run.out);
    for (size_t i = 1; i < rows.size(); ++i) {
      if (rows[i][0] != "TOTAL") balances[rows[i][0] + " " + rows[i][1]] = std::stoll(rows[i][2]);
    }
    return balances;
  };
  std::map<std::string, int64_t> rolled = balances_at(period_start - ms_per_second);
  const CliRun journal = run_export({"journal", "--data", data, "--from", format_rfc3339_seconds(period_start), "--to",
                                     format_rfc3339_seconds(period_end)});
  REQUIRE_MESSAGE(journal.exit_code == 0, journal.err);
  const auto rows = csv_rows(journal.out);
  for (size_t i = 1; i < rows.size(); ++i) {
    const int64_t debit = rows[i][5].empty() ? 0 : std::stoll(rows[i][5]);
    const int64_t credit = rows[i][6].empty() ? 0 : std::stoll(rows[i][6]);
    rolled[rows[i][4] + " " + rows[i][7]] += credit - debit;
  }
  std::erase_if(rolled, [](const auto& entry) { return entry.second == 0; });
  std::map<std::string, int64_t> closing = balances_at(period_end - ms_per_second);
  std::erase_if(closing, [](const auto& entry) { return entry.second == 0; });
  CHECK(rolled == closing);
  // Two captures before the period, four inside it (two in its first second, two in its last).
  CHECK(closing.at("external:psp ETB") == -6 * 35000);
  CHECK(rows.size() == 1 + 2 * 4);
}

TEST_CASE("EscrowAgingListsOnlyEscrowsHoldingMoneyInTheirAgeBuckets") {
  const auto rows = csv_rows(export_ok({"escrow", "--data", seed_dir(), "--at", rfc(seed_end)}).out);
  std::map<std::string, std::vector<std::string>> by_booking;
  for (size_t i = 1; i < rows.size(); ++i) by_booking[rows[i][0]] = rows[i];
  REQUIRE(by_booking.size() == 5);
  CHECK(by_booking["bk_old"][1] == "held");
  CHECK(by_booking["bk_old"][6] == ">7d");
  CHECK(by_booking["bk_mid"][6] == "3-7d");
  CHECK(by_booking["bk_open_dispute"][1] == "disputed");
  CHECK(by_booking["bk_open_dispute"][5].empty());
  CHECK(by_booking["bk_open_dispute"][6] == "3-7d");
  CHECK(by_booking["bk_late"][1] == "release_scheduled");
  CHECK(by_booking["bk_late"][5] == format_rfc3339_millis(example_start + 8 * ms_per_day + ms_per_hour));
  CHECK(by_booking["bk_late"][6] == "1-3d");
  CHECK(by_booking["bk_recent"][6] == "0-1d");
  // Before the first payment nothing is held.
  const auto early = csv_rows(export_ok({"escrow", "--data", seed_dir(), "--at", rfc(example_start - 3 * ms_per_day)}).out);
  CHECK(early.size() == 1);
}

TEST_CASE("PayoutsCountReleasesSplitsFeesAndCompletedWithdrawalsOnly") {
  const auto rows = csv_rows(export_ok({"payouts", "--data", seed_dir(), "--from", rfc(seed_payout_day_from), "--to",
                                        rfc(seed_payout_day_to)})
                                 .out);
  REQUIRE(rows.size() == 3);
  // t1: bk_paid released 297.50 (fee 52.50); bk_dispute split: 250.00 released, 212.50 net (fee 37.50);
  // wd_1 completed 100.00; wd_2 failed (back in the balance).
  CHECK(rows[1] == std::vector<std::string>{"t1", "ETB", "51000", "9000", "10000", "41000", "0"});
  // t2: bk_usd released 42.50 (fee 7.50); wd_usd completed 10.00.
  CHECK(rows[2] == std::vector<std::string>{"t2", "USD", "4250", "750", "1000", "3250", "0"});
}

TEST_CASE("PayoutsShowWithdrawalsStillRequestedBesideTheBalance") {
  EngineFixture f;
  f.book("bk_1", example_start);
  f.accept_and_pay("bk_1");
  f.advance_to(example_start);
  REQUIRE(f.run(student(), StartSession{"bk_1"}).status == 200);
  f.advance_to(example_start + ms_per_hour);
  REQUIRE(f.run(student(), EndSession{"bk_1", ""}).status == 200);
  f.advance_by(24 * ms_per_hour);  // released: 297.50 to t1, 52.50 in fees
  REQUIRE(f.run(tutor(), RequestWithdrawal{"wd_1", Money{20000, *Currency::parse("ETB")}, "cbe:1000123"}).status / 100 == 2);
  f.close();
  const auto rows = csv_rows(export_ok({"payouts", "--data", f.options.data_dir}).out);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0] == std::vector<std::string>{"tutor", "currency", "released", "fees", "withdrawn", "balance", "withdrawing"});
  // released = withdrawn + balance + withdrawing: the requested 200.00 has left the balance.
  CHECK(rows[1] == std::vector<std::string>{"t1", "ETB", "29750", "5250", "0", "9750", "20000"});
}

TEST_CASE("OutputFileIsWrittenWholeThenRenamedAndEqualsStdout") {
  logtest::TempFolder folder;
  const std::string path = folder.sub("journal.csv");
  {
    std::ofstream old(path);
    old << "the previous export\n";
  }
  const CliRun run = export_ok({"journal", "--data", seed_dir(), "--output", path});
  CHECK(run.out.empty());
  std::ifstream file(path, std::ios::binary);
  std::stringstream written;
  written << file.rdbuf();
  CHECK(written.str() == export_ok({"journal", "--data", seed_dir()}).out);
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(folder.path())) {
    CHECK_MESSAGE(entry.path().filename() == "journal.csv", entry.path());
    ++files;
  }
  CHECK(files == 1);
}

TEST_CASE("OutputFileThatDoesNotExistYetIsMade") {
  logtest::TempFolder folder;
  const std::string path = folder.sub("new.csv");
  const CliRun run = export_ok({"trial-balance", "--data", seed_dir(), "--output", path});
  std::ifstream file(path, std::ios::binary);
  std::stringstream written;
  written << file.rdbuf();
  CHECK(written.str() == export_ok({"trial-balance", "--data", seed_dir()}).out);
}

TEST_CASE("OutputFileInAMissingFolderFailsWithExitOne") {
  logtest::TempFolder folder;
  const CliRun run = run_export({"trial-balance", "--data", seed_dir(), "--output", folder.sub("no/such/out.csv")});
  CHECK(run.exit_code == 1);
  CHECK(run.err.find("no/such/out.csv") != std::string::npos);
}

// A file written into the ledger's folder could be taken for one of RocksDB's: an export named
// CURRENT made the ledger unreadable.
TEST_CASE("OutputIntoTheDataFolderIsAUsageErrorThatWritesNothing") {
  logtest::TempFolder folder;
  const std::string data = folder.sub("ledger");
  std::filesystem::copy(seed_dir(), data, std::filesystem::copy_options::recursive);
  auto listing = [&data] {
    std::vector<std::pair<std::string, uintmax_t>> files;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(data)) {
      files.emplace_back(entry.path().string(), entry.is_regular_file() ? entry.file_size() : 0);
    }
    std::sort(files.begin(), files.end());
    return files;
  };
  const auto before = listing();
  std::filesystem::create_directory(folder.sub("exports"));
  std::filesystem::create_directory_symlink(data, folder.sub("exports/ledger"));
  for (const std::string& output : {data + "/CURRENT", data + "/report.csv", folder.sub("exports/../ledger/x.csv"),
                                    folder.sub("exports/ledger/x.csv")}) {
    CAPTURE(output);
    const CliRun run = run_export({"trial-balance", "--data", data, "--output", output});
    CHECK(run.exit_code == 2);
    CHECK_MESSAGE(run.err.find("is inside the data folder") != std::string::npos, run.err);
  }
  CHECK(listing() == before);
  CHECK(run_replay({"verify", "--data", data}).exit_code == 0);
  // Beside the folder is fine.
  CHECK(run_export({"trial-balance", "--data", data, "--output", folder.sub("ledger.csv")}).exit_code == 0);
}

TEST_CASE("HistoryOfAnUnknownBookingSaysSoWithExitOne") {
  const CliRun run = run_replay({"history", "--data", seed_dir(), "bk_nope"});
  CHECK(run.exit_code == 1);
  CHECK(run.out.empty());
  CHECK(run.err.find("no booking bk_nope") != std::string::npos);
}

TEST_CASE("StateDocumentListsEveryBookingAndBalanceAtTheHead") {
  const CliRun run = run_replay({"state", "--data", seed_dir()}, seed_end);
  REQUIRE(run.exit_code == 0);
  const State state = seed_state_at(seed_end);
  CHECK(run.out.starts_with(
      fmt::format("{{\"at\":\"{}\",\"position\":{},\"bookings\":[", format_rfc3339_millis(seed_end), state.position)));
  for (const Booking& booking : state.bookings) CHECK(run.out.find("{\"id\":\"" + booking.id + "\"") != std::string::npos);
  CHECK(run.out.ends_with("]}\n"));
}

TEST_CASE("AnEmptyPeriodIsEmptyAndDashIsStdout") {
  // --from equal to --to is a period with nothing in it, not a usage error.
  const CliRun empty = run_export({"journal", "--data", seed_dir(), "--from", rfc(seed_end), "--to", rfc(seed_end)});
  CHECK(empty.exit_code == 0);
  CHECK(empty.out == "position,at,booking,event_type,account,debit,credit,currency\r\n");
  const CliRun dash = run_export({"payouts", "--data", seed_dir(), "--output", "-"});
  CHECK(dash.exit_code == 0);
  CHECK(dash.out.starts_with("tutor,currency,released,fees,withdrawn,balance,withdrawing\r\n"));
}

TEST_CASE("HelpAfterASubcommandPrintsTheUsage") {
  for (const auto& run : {run_export({"journal", "--help"}), run_replay({"verify", "--help"}), run_replay({"state", "-h"}),
                          run_reconcile({"--data", "x", "--help"})}) {
    CHECK(run.exit_code == 0);
    CHECK(run.out.starts_with("usage: tutorledger "));
    CHECK(run.err.empty());
  }
}

TEST_CASE("BadTimesAndUnknownKindsAreUsageErrors") {
  CHECK(run_export({"journal", "--data", seed_dir(), "--from", "yesterday"}).exit_code == 2);
  CHECK(run_export({"journal", "--data", seed_dir(), "--from", rfc(seed_end), "--to", rfc(seed_end - 1)}).exit_code == 2);
  CHECK(run_export({"journal", "--data", seed_dir(), "--at", rfc(seed_end)}).exit_code == 2);
  CHECK(run_export({"journal", "--data", seed_dir(), "--output", ""}).exit_code == 2);
  CHECK(run_export({"trial-balance", "--data", seed_dir(), "--from", rfc(seed_end)}).exit_code == 2);
  CHECK(run_export({"ledger", "--data", seed_dir()}).exit_code == 2);
  CHECK(run_export({"journal"}).exit_code == 2);
  CHECK(run_replay({"state", "--data", seed_dir(), "--at", "2026-13-01T00:00:00Z"}).exit_code == 2);
  // Finer than the ledger's milliseconds: refused, and the message says why.
  const CliRun micros = run_replay({"state", "--data", seed_dir(), "--at", "2026-11-24T10:00:00.123456Z"});
  CHECK(micros.exit_code == 2);
  CHECK(micros.err.find("is finer than a millisecond") != std::string::npos);
  const CliRun early = run_export({"journal", "--data", seed_dir(), "--from", "1969-12-31T23:59:59Z"});
  CHECK(early.exit_code == 2);
  CHECK(early.err.find("is not an RFC 3339 time from 1970 to 9999") != std::string::npos);
  const CliRun unknown = run_replay({"replay-all", "--data", seed_dir()});
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.err.find("unknown subcommand 'replay-all'") != std::string::npos);
  CHECK(unknown.err.find("usage: tutorledger replay") != std::string::npos);
}
