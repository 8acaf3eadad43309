// `reconcile`: a provider statement against the captured payments of the seed log: a clean
// statement exits 0; each kind of difference is counted and named by reference and tx_ref;
// a statement that cannot be read exits 2 naming the malformed line.
#include <doctest/doctest.h>

#include <fstream>

#include <fmt/format.h>

#include "support/audit_cli_runner.h"
#include "support/seed_ledger.h"

using namespace tl;
using namespace tl::test;

namespace {

const std::string& seed_dir() { return shared_seed_dir(); }

constexpr const char* header = "reference,tx_ref,amount,currency,status,at\r\n";

std::string row(std::string_view booking, std::string_view amount = "350.00", std::string_view currency = "ETB",
                std::string_view status = "success") {
  return fmt::format("ref-{},tx-{},{},{},{},2026-11-22T10:00:00Z\r\n", booking, booking, amount, currency, status);
}

// Every capture of the seed log, as the provider would list it.
std::string clean_rows() {
  std::string rows = row("bk_paid") + row("bk_usd", "50.00", "USD");
  for (const char* booking : {"bk_noshow", "bk_cancel", "bk_dispute", "bk_old", "bk_mid", "bk_open_dispute", "bk_late", "bk_recent"}) {
    rows += row(booking);
  }
  return rows;
}

struct Statement {
  explicit Statement(const std::string& text) {
    std::ofstream(path(), std::ios::binary) << text;
  }
  std::string path() const { return folder.sub("statement.csv"); }
  logtest::TempFolder folder;
};

CliRun reconcile(const std::string& text) {
  Statement statement(text);
  return run_reconcile({"--data", seed_dir(), "--statement", statement.path()});
}

bool has_line(const std::string& out, std::string_view line) {
  return out.find(std::string(line) + "\n") != std::string::npos;
}

}  // namespace

TEST_CASE("StatementListingEveryCaptureMatchesWithExitZero") {
  // The rejected short payment is on the statement as failed: the ledger agrees it was not captured.
  const CliRun run = reconcile(std::string(header) + clean_rows() +
                               "ref-bk_cancel-short,tx-bk_cancel,349.00,ETB,failed,2026-11-22T10:00:00Z\r\n");
  CHECK_MESSAGE(run.exit_code == 0, run.out, run.err);
  CHECK(has_line(run.out, "matched: 10"));
  for (const char* kind : {"missing in ledger", "missing in statement", "amount mismatch", "currency mismatch",
                           "reference mismatch", "tx_ref mismatch", "status mismatch", "duplicate in statement"}) {
    CHECK(has_line(run.out, fmt::format("{}: 0", kind)));
  }
  CHECK(has_line(run.out, "failed, not captured: 1"));
}

TEST_CASE("EachKindOfDifferenceIsCountedAndNamedByReferenceAndTxRef") {
  std::string text = header;
  text += row("bk_paid", "300.00");                                        // amount mismatch
  text += row("bk_usd", "50.00", "ETB");                                   // currency mismatch
  text += "ref-unknown,tx-bk_nope,120.00,ETB,success,2026-11-22T11:00:00Z\r\n";  // missing in ledger
  text += "ref-bk_cancel,tx-other,350.00,ETB,success,2026-11-22T10:00:00Z\r\n";  // tx_ref mismatch
  text += row("bk_dispute");
  text += row("bk_dispute");                                               // duplicate
  text += row("bk_old", "350.00", "ETB", "failed");                        // status mismatch
  for (const char* booking : {"bk_mid", "bk_open_dispute", "bk_late", "bk_recent"}) text += row(booking);
  // bk_noshow is left out: missing in statement.
  const CliRun run = reconcile(text);
  CHECK(run.exit_code == 1);
  CHECK(run.err.empty());
  CHECK(has_line(run.out, "matched: 5"));
  CHECK(has_line(run.out, "missing in ledger: 1"));
  CHECK(has_line(run.out, "missing in statement: 1"));
  CHECK(has_line(run.out, "amount mismatch: 1"));
  CHECK(has_line(run.out, "currency mismatch: 1"));
  CHECK(has_line(run.out, "tx_ref mismatch: 1"));
  CHECK(has_line(run.out, "status mismatch: 1"));
  CHECK(has_line(run.out, "duplicate in statement: 1"));
  CHECK(run.out.find("amount mismatch: reference ref-bk_paid tx_ref tx-bk_paid: statement line 2 has ETB 300.00 (success), "
                     "ledger position 4 captured ETB 350.00 with tx_ref tx-bk_paid") != std::string::npos);
  CHECK(run.out.find("currency mismatch: reference ref-bk_usd tx_ref tx-bk_usd: statement line 3 has ETB 50.00") != std::string::npos);
  CHECK(run.out.find("missing in ledger: reference ref-unknown tx_ref tx-bk_nope: statement line 4") != std::string::npos);
  CHECK(run.out.find("tx_ref mismatch: reference ref-bk_cancel tx_ref tx-other: statement line 5") != std::string::npos);
  CHECK(run.out.find("duplicate in statement: reference ref-bk_dispute tx_ref tx-bk_dispute: statement line 7") != std::string::npos);
  CHECK(run.out.find("status mismatch: reference ref-bk_old tx_ref tx-bk_old: statement line 8 has ETB 350.00 (failed)") != std::string::npos);
  CHECK(run.out.find("missing in statement: reference ref-bk_noshow tx_ref tx-bk_noshow: ledger position 14 captured ETB 350.00") != std::string::npos);
}

TEST_CASE("ARowUnderAnotherReferenceIsPairedWithItsCaptureByTxRef") {
  // The provider listed bk_paid's charge under another id: one difference, not two unrelated ones.
  std::string text = header;
  text += "ref-bk_paid-OTHER,tx-bk_paid,350.00,ETB,success,2026-11-22T10:00:00Z\r\n";
  text += clean_rows().substr(row("bk_paid").size());
  // A second row of the same tx_ref under yet another id finds the capture taken: missing in ledger.
  text += "ref-bk_paid-THIRD,tx-bk_paid,350.00,ETB,success,2026-11-22T10:00:00Z\r\n";
  const CliRun run = reconcile(text);
  CHECK(run.exit_code == 1);
  CHECK(has_line(run.out, "matched: 9"));
  CHECK(has_line(run.out, "reference mismatch: 1"));
  CHECK(has_line(run.out, "missing in statement: 0"));
  CHECK(has_line(run.out, "missing in ledger: 1"));
  CHECK(run.out.find("reference mismatch: reference ref-bk_paid-OTHER tx_ref tx-bk_paid: statement line 2 has ETB 350.00 "
                     "(success), ledger position 4 captured ETB 350.00 with tx_ref tx-bk_paid under reference ref-bk_paid") !=
        std::string::npos);
  CHECK(run.out.find("missing in ledger: reference ref-bk_paid-THIRD") != std::string::npos);
}

TEST_CASE("ARowUnderAnotherReferenceWithOtherMoneyIsAnotherPaymentNotAReferenceMismatch") {
  // Pairing by tx_ref must not hide a difference of amount or currency.
  for (const auto& [amount, currency] : {std::pair{"300.00", "ETB"}, std::pair{"350.00", "USD"}}) {
    CAPTURE(amount);
    CAPTURE(currency);
    std::string text = header;
    text += fmt::format("ref-bk_paid-OTHER,tx-bk_paid,{},{},success,2026-11-22T10:00:00Z\r\n", amount, currency);
    text += clean_rows().substr(row("bk_paid").size());
    const CliRun run = reconcile(text);
    CHECK(run.exit_code == 1);
    CHECK(has_line(run.out, "reference mismatch: 0"));
    CHECK(has_line(run.out, "missing in ledger: 1"));
    CHECK(has_line(run.out, "missing in statement: 1"));
    CHECK(run.out.find("missing in ledger: reference ref-bk_paid-OTHER") != std::string::npos);
    CHECK(run.out.find("missing in statement: reference ref-bk_paid ") != std::string::npos);
  }
}

// The counts of a statement whose rows differ from a clean one in `extra` rows, put first or last.
std::string counts_with(const std::vector<std::string>& extra, bool extra_first) {
  std::string rows = clean_rows();
  std::string text = header;
  if (!extra_first) text += rows;
  for (const std::string& line : extra) text += line;
  if (extra_first) text += rows;
  const CliRun run = reconcile(text);
  std::string counts;
  for (const char* kind : {"matched", "missing in ledger", "missing in statement", "status mismatch",
                           "duplicate in statement", "failed, not captured"}) {
    const size_t at = run.out.find(fmt::format("\n{}: ", kind));
    counts += run.out.substr(at + 1, run.out.find('\n', at + 1) - at);
  }
  return counts;
}

TEST_CASE("RowsSharingAReferenceGiveTheSameVerdictInAnyOrder") {
  // bk_paid is captured: a failed attempt listed beside its successful row is a duplicate, and the
  // payment is matched, whether the failed row comes first or last.
  const std::string failed_paid = row("bk_paid", "350.00", "ETB", "failed");
  for (const bool failed_first : {true, false}) {
    CAPTURE(failed_first);
    std::string text = header;
    if (failed_first) text += failed_paid;
    text += clean_rows();
    if (!failed_first) text += failed_paid;
    const CliRun run = reconcile(text);
    CHECK(run.exit_code == 1);
    CHECK(has_line(run.out, "matched: 10"));
    CHECK(has_line(run.out, "status mismatch: 0"));
    CHECK(has_line(run.out, "duplicate in statement: 1"));
    const std::string failed_line = failed_first ? "2" : "12";
    CHECK_MESSAGE(run.out.find("duplicate in statement: reference ref-bk_paid tx_ref tx-bk_paid: statement line " +
                               failed_line + " has ETB 350.00 (failed)") != std::string::npos,
                  run.out);
  }
  // Beside the clean rows (whose first row is bk_paid's), the same extra rows in either order.
  const std::string unknown_failed = "ref-new,tx-new,10.00,ETB,failed,2026-11-22T10:00:00Z\r\n";
  const std::string unknown_paid = "ref-new,tx-new,10.00,ETB,success,2026-11-22T10:00:00Z\r\n";
  for (const auto& extra : std::vector<std::vector<std::string>>{
           {unknown_failed, unknown_paid},  // a payment the ledger lacks, once failed: missing + duplicate
           {failed_paid, failed_paid},      // with bk_paid's success among the clean rows: two duplicates
           {unknown_failed, unknown_failed}}) {
    std::vector<std::string> reversed(extra.rbegin(), extra.rend());
    const std::string expected = counts_with(extra, true);
    CHECK(counts_with(extra, false) == expected);
    CHECK(counts_with(reversed, true) == expected);
    CHECK(counts_with(reversed, false) == expected);
  }
  CHECK(counts_with({unknown_failed, unknown_paid}, false).find("missing in ledger: 1\nmissing in statement: 0\n"
                                                                "status mismatch: 0\nduplicate in statement: 1\n"
                                                                "failed, not captured: 0") != std::string::npos);
  CHECK(counts_with({failed_paid, failed_paid}, true).find("matched: 10\n") != std::string::npos);
  CHECK(counts_with({failed_paid, failed_paid}, true).find("duplicate in statement: 2\n") != std::string::npos);
  CHECK(counts_with({unknown_failed, unknown_failed}, true).find("failed, not captured: 1\n") != std::string::npos);
}

TEST_CASE("ACapturedPaymentWhoseRowsAllFailedIsOneStatusMismatch") {
  std::string text = header;
  text += row("bk_paid", "350.00", "ETB", "failed");
  text += clean_rows().substr(row("bk_paid").size());
  text += row("bk_paid", "350.00", "ETB", "failed");
  const CliRun run = reconcile(text);
  CHECK(run.exit_code == 1);
  CHECK(has_line(run.out, "matched: 9"));
  CHECK(has_line(run.out, "status mismatch: 1"));
  CHECK(has_line(run.out, "duplicate in statement: 1"));
  CHECK(has_line(run.out, "missing in statement: 0"));  // the failed rows name the capture
  CHECK(run.out.find("status mismatch: reference ref-bk_paid tx_ref tx-bk_paid: statement line 2") != std::string::npos);
  CHECK(run.out.find("duplicate in statement: reference ref-bk_paid tx_ref tx-bk_paid: statement line 12") != std::string::npos);
}

TEST_CASE("StatementInAnotherColumnOrderWithQuotesAndABomIsRead") {
  std::string text = "\xEF\xBB\xBF" "status, at, currency, amount, tx_ref, reference, note\n";
  text += "success,2026-11-22T10:00:00Z,USD,50.00,tx-bk_usd,ref-bk_usd,\"paid, \"\"in full\"\"\nsecond line\"\n";
  text += "success,2026-11-22T10:00:00Z,ETB,350,tx-bk_paid,\"ref-bk_paid\",\n";
  // Spaces after the commas, as some exporters write them, around every value.
  text += " success , 2026-11-22T10:00:00Z ,\tETB, 350.00 , tx-bk_old , ref-bk_old ,\n";
  const CliRun run = reconcile(text);
  CHECK(run.exit_code == 1);  // the other seven captures are missing from this statement
  CHECK(has_line(run.out, "matched: 3"));
  CHECK(has_line(run.out, "missing in statement: 7"));
}

// The webhook keeps a provider's reference as sent, spaces included. A statement can name such a
// payment by quoting the reference; unquoted, spaces around values are layout and are dropped.
TEST_CASE("AQuotedReferenceWithSpacesMatchesTheCaptureMadeUnderIt") {
  EngineFixture f;
  f.book("bk_sp", example_start);
  const std::string tx_ref = f.accept_and_checkout("bk_sp");
  REQUIRE(f.run(system_actor(), CapturePayment{tx_ref, " ref-sp ", "350.00", "ETB"}).status == 200);
  f.close();
  const auto reconcile_in = [&](const std::string& text) {
    Statement statement(std::string(header) + text);
    return run_reconcile({"--data", f.options.data_dir, "--statement", statement.path()});
  };
  const CliRun quoted = reconcile_in(fmt::format("\" ref-sp \",\"{}\", 350.00 ,ETB,success,2026-11-22T10:00:00Z\r\n", tx_ref));
  CHECK_MESSAGE(quoted.exit_code == 0, quoted.out, quoted.err);
  CHECK(has_line(quoted.out, "matched: 1"));
  const CliRun unquoted = reconcile_in(fmt::format(" ref-sp ,{},350.00,ETB,success,2026-11-22T10:00:00Z\r\n", tx_ref));
  CHECK(unquoted.exit_code == 1);
  CHECK(has_line(unquoted.out, "reference mismatch: 1"));
}

// The provider says it took the short payment the ledger rejected: the student may have paid
// twice. The line says which rejection it was and what the provider had reported.
TEST_CASE("ASuccessfulRowForARejectedPaymentNamesTheRejection") {
  const CliRun run = reconcile(std::string(header) + clean_rows() +
                               "ref-bk_cancel-short,tx-bk_cancel,349.00,ETB,success,2026-11-22T10:00:00Z\r\n");
  CHECK(run.exit_code == 1);
  CHECK(has_line(run.out, "missing in ledger: 1"));
  CHECK_MESSAGE(has_line(run.out, "missing in ledger: reference ref-bk_cancel-short tx_ref tx-bk_cancel: statement line 12 has "
                                  "ETB 349.00 (success), ledger position 19 rejected it (amount_mismatch) as 349.00 ETB"),
                run.out);
}

TEST_CASE("AStatementTimeWithMicrosecondsIsRead") {
  const CliRun run = reconcile(std::string(header) + clean_rows() +
                               "ref-bk_cancel-short,tx-bk_cancel,349.00,ETB,failed,2026-11-22T10:00:00.123456+00:00\r\n");
  CHECK_MESSAGE(run.exit_code == 0, run.out, run.err);
  CHECK(has_line(run.out, "matched: 10"));
}

TEST_CASE("MalformedStatementExitsTwoNamingTheLine") {
  struct Case {
    std::string text;
    std::string message;
  };
  const std::vector<Case> cases = {
      {std::string(header) + row("bk_paid") + row("bk_usd", "5O.00", "USD"),
       "line 3: amount \"5O.00\" is not a decimal USD amount (digits, at most 2 after the point)"},
      {std::string(header) + row("bk_paid", "350.001"), "line 2: amount \"350.001\" is not a decimal ETB amount"},
      {std::string(header) + row("bk_paid", "3.5e2"), "line 2: amount \"3.5e2\" is not a decimal ETB amount"},
      {std::string(header) + row("bk_paid", "-350.00"), "line 2: amount \"-350.00\" is negative: reconcile matches captured"},
      {std::string(header) + row("bk_paid", "350.00", "XYZ"), "line 2: currency \"XYZ\" is not an ISO 4217 code"},
      {std::string(header) + "ref-1,tx-1,350.00,ETB,success,yesterday\r\n", "line 2: at \"yesterday\" is not an RFC 3339 time"},
      {std::string(header) + "ref-1,tx-1,350.00,ETB,success\r\n", "line 2: 5 fields where the header has 6"},
      {std::string(header) + "ref-1,\"tx-1,350.00,ETB,success,2026-11-22T10:00:00Z\r\n", "line 2: a quoted field is never closed"},
      {std::string(header) + "ref-1,tx\"1,350.00,ETB,success,2026-11-22T10:00:00Z\r\n", "line 2: a quote inside an unquoted field"},
      {"reference,tx_ref,currency,status,at\r\n", "line 1: the header has no column amount"},
      {"reference,tx_ref,amount,currency,status,at,Amount\r\n", "line 1: the header has column amount twice"},
      {"", "is empty: it has no header row"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    const CliRun run = reconcile(c.text);
    CHECK(run.exit_code == 1);  // API.md: 0 only when all match, 1 otherwise
    CHECK(run.out.empty());
    CHECK_MESSAGE(run.err.find(c.message) != std::string::npos, run.err);
    CHECK(run.err.find("unreadable statement") != std::string::npos);
  }
}

TEST_CASE("MissingStatementIsADifferenceAndMissingArgumentsAreUsageErrors") {
  logtest::TempFolder folder;
  const CliRun missing = run_reconcile({"--data", seed_dir(), "--statement", folder.sub("none.csv")});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("unreadable statement") != std::string::npos);
  CHECK(run_reconcile({"--data", seed_dir()}).exit_code == 2);
  CHECK(run_reconcile({"--statement", folder.sub("none.csv")}).exit_code == 2);
  CHECK(run_reconcile({"--data", folder.sub("nothing"), "--statement", folder.sub("none.csv")}).exit_code == 2);
}
