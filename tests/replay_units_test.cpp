// The small parts of the audit CLI: RFC 4180 writing and reading, digests, age buckets, time
// ranges, atomic output files, the progress bar.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <thread>

#include "api/interrupt_cleanup.h"
#include "engine/leftovers.h"
#include "replay/atomic_file.h"
#include "replay/console.h"
#include "replay/csv_reader.h"
#include "replay/csv_writer.h"
#include "replay/escrow_aging.h"
#include "replay/ledger_digest.h"
#include "replay/progress.h"
#include "replay/text_sink.h"
#include "replay/time_range.h"
#include "support/log_test_support.h"

using namespace tl;
using namespace tl::replay;

namespace {

std::vector<std::vector<std::string>> read_all(const std::string& text, std::string* error = nullptr) {
  std::FILE* file = fmemopen(const_cast<char*>(text.data()), text.size(), "rb");
  REQUIRE(file != nullptr);
  CsvReader reader(file);
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> fields;
  while (reader.next(&fields)) records.push_back(fields);
  if (error != nullptr) *error = reader.error();
  std::fclose(file);
  return records;
}

}  // namespace

TEST_CASE("CsvFieldsAreQuotedOnlyWhenTheyHoldCommasQuotesOrLineBreaks") {
  std::string out;
  for (const char* field : {"plain", "a,b", "say \"hi\"", "two\nlines", "cr\r", "", "tutor:t1"}) {
    append_csv_field(out, field);
    out += '|';
  }
  CHECK(out == "plain|\"a,b\"|\"say \"\"hi\"\"\"|\"two\nlines\"|\"cr\r\"||tutor:t1|");
}

TEST_CASE("CsvWriterEndsRowsWithCrlfAndWritesIntegers") {
  StringSink sink;
  {
    CsvWriter csv(sink);
    csv.text("account").text("balance");
    csv.end_row();
    csv.text("external:psp").number(-315000);
    csv.end_row();
    csv.blank().number(0);
    csv.end_row();
    CHECK(csv.rows_written() == 3);
    csv.flush();
  }
  CHECK(sink.text() == "account,balance\r\nexternal:psp,-315000\r\n,0\r\n");
}

TEST_CASE("CsvReaderReadsWhatTheWriterWrites") {
  const std::vector<std::string> tricky = {"a,b", "say \"hi\"", "two\r\nlines", "", "end"};
  StringSink sink;
  {
    CsvWriter csv(sink);
    for (const auto& field : tricky) csv.text(field);
    csv.end_row();
    csv.text("second").end_row();
  }
  const auto records = read_all(sink.text());
  REQUIRE(records.size() == 2);
  CHECK(records[0] == tricky);
  CHECK(records[1] == std::vector<std::string>{"second"});
}

TEST_CASE("CsvReaderAcceptsLfLinesAMissingFinalLineEndAndABom") {
  CHECK(read_all("\xEF\xBB\xBFh1,h2\na,b\nc,d") ==
        std::vector<std::vector<std::string>>{{"h1", "h2"}, {"a", "b"}, {"c", "d"}});
  CHECK(read_all("x\r\n\r\ny\r\n") == std::vector<std::vector<std::string>>{{"x"}, {""}, {"y"}});
}

TEST_CASE("CsvReaderTellsWhichFieldsWereQuoted") {
  std::FILE* file = fmemopen(const_cast<char*>(" a ,\" b \",,\"\"\r\nc\r\n"), 18, "rb");
  REQUIRE(file != nullptr);
  CsvReader reader(file);
  std::vector<std::string> fields;
  REQUIRE(reader.next(&fields));
  CHECK(fields == std::vector<std::string>{" a ", " b ", "", ""});
  CHECK_FALSE(reader.quoted(0));
  CHECK(reader.quoted(1));
  CHECK_FALSE(reader.quoted(2));
  CHECK(reader.quoted(3));
  CHECK_FALSE(reader.quoted(4));  // no such field
  REQUIRE(reader.next(&fields));
  CHECK_FALSE(reader.quoted(0));
  CHECK_FALSE(reader.quoted(1));  // the flags are the last record's
  std::fclose(file);
}

TEST_CASE("CsvReaderErrorsNameTheLine") {
  std::string error;
  read_all("a,b\n\"never closed\n", &error);
  CHECK(error == "line 2: a quoted field is never closed");
  read_all("a,b\nc,\"d\"e\n", &error);
  CHECK(error == "line 2: text after a closing quote");
  read_all("a\nb\"c\n", &error);
  CHECK(error == "line 2: a quote inside an unquoted field");
  read_all("a\rb\n", &error);
  CHECK(error == "line 1: a CR that is not followed by LF");
  read_all(std::string(csv_record_bytes_max + 1, 'x'), &error);
  CHECK(error == "line 1: the record is too long");
}

TEST_CASE("LedgerDigestIsAPositionFromOneAndSixtyFourHexDigits") {
  const std::string hash(64, 'a');
  const auto digest = parse_ledger_digest("12:" + hash);
  REQUIRE(digest);
  CHECK(digest->position == 12);
  CHECK(to_hex(digest->hash) == hash);
  CHECK(parse_ledger_digest("12:" + std::string(64, 'A')));  // either case, as GET /api/ledger/digest may be copied
  CHECK_FALSE(parse_ledger_digest("0:" + hash));
  CHECK_FALSE(parse_ledger_digest("-1:" + hash));
  CHECK_FALSE(parse_ledger_digest("+1:" + hash));
  CHECK_FALSE(parse_ledger_digest(":" + hash));
  CHECK_FALSE(parse_ledger_digest("12:" + hash.substr(1)));
  CHECK_FALSE(parse_ledger_digest("12" + hash));
  CHECK_FALSE(parse_ledger_digest("99999999999999999999:" + hash));
}

TEST_CASE("AgeBucketsIncludeTheirLowerBound") {
  CHECK(age_bucket(0) == "0-1d");
  CHECK(age_bucket(ms_per_day - 1) == "0-1d");
  CHECK(age_bucket(ms_per_day) == "1-3d");
  CHECK(age_bucket(3 * ms_per_day - 1) == "1-3d");
  CHECK(age_bucket(3 * ms_per_day) == "3-7d");
  CHECK(age_bucket(7 * ms_per_day - 1) == "3-7d");
  CHECK(age_bucket(7 * ms_per_day) == ">7d");
  CHECK(age_bucket(400 * ms_per_day) == ">7d");
}

TEST_CASE("TimeRangeIncludesItsStartAndExcludesItsEnd") {
  const TimeRange range{1000, 2000};
  CHECK_FALSE(range.contains(999));
  CHECK(range.contains(1000));
  CHECK(range.contains(1999));
  CHECK_FALSE(range.contains(2000));
  CHECK(range.limits(10).at_max == 1999);
  CHECK(range.limits(10).position_max == 10);
  CHECK(TimeRange{}.contains(0));
  CHECK(TimeRange{}.limits(1).at_max == time_ms_max);
}

TEST_CASE("AtomicFileReplacesTheOldFileOnlyOnCommit") {
  logtest::TempFolder folder;
  const std::string path = folder.sub("out.csv");
  std::ofstream(path) << "old";
  auto contents = [&] {
    std::ifstream file(path);
    return std::string(std::istreambuf_iterator<char>(file), {});
  };
  {
    std::unique_ptr<AtomicFile> file;
    REQUIRE(AtomicFile::create(path, &file).is_ok());
    file->write("half an export");
    CHECK(contents() == "old");
  }  // abandoned: the temporary file goes, the old file stays
  CHECK(contents() == "old");
  CHECK(std::distance(std::filesystem::directory_iterator(folder.path()), {}) == 1);
  std::unique_ptr<AtomicFile> file;
  REQUIRE(AtomicFile::create(path, &file).is_ok());
  file->write("new,");
  file->write("export\r\n");
  REQUIRE(file->commit().is_ok());
  CHECK(contents() == "new,export\r\n");
  CHECK(std::distance(std::filesystem::directory_iterator(folder.path()), {}) == 1);
  std::unique_ptr<AtomicFile> into_folder;
  CHECK_FALSE(AtomicFile::create(folder.path(), &into_folder).is_ok());
}

TEST_CASE("AtomicFileMakesAFileThatIsNotThereYetAlsoThroughALink") {
  logtest::TempFolder folder;
  const auto read_back = [](const std::string& path) {
    std::ifstream in(path);
    return std::string{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  };
  const std::string fresh = folder.sub("fresh.csv");
  {
    std::unique_ptr<AtomicFile> file;
    const Status created = AtomicFile::create(fresh, &file);
    REQUIRE_MESSAGE(created.is_ok(), created.to_string());
    file->write("a,b\r\n");
    REQUIRE(file->commit().is_ok());
  }
  CHECK(read_back(fresh) == "a,b\r\n");
  // A link whose file is not made yet (relative to the link's folder) gets it; the link stays.
  std::filesystem::create_directory(folder.sub("exports"));
  const std::string link = folder.sub("latest.csv");
  std::filesystem::create_symlink("exports/today.csv", link);
  {
    std::unique_ptr<AtomicFile> file;
    REQUIRE(AtomicFile::create(link, &file).is_ok());
    file->write("new");
    REQUIRE(file->commit().is_ok());
  }
  CHECK(std::filesystem::is_symlink(link));
  CHECK(read_back(folder.sub("exports/today.csv")) == "new");
}

TEST_CASE("AtomicFileRefusesAReadOnlyFileAndLeavesIt") {
  logtest::TempFolder folder;
  const std::string path = folder.sub("signed-off.csv");
  std::ofstream(path) << "approved";
  std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::group_read);
  const std::string link = folder.sub("latest.csv");
  std::filesystem::create_symlink("signed-off.csv", link);
  for (const std::string& output : {path, link}) {
    CAPTURE(output);
    std::unique_ptr<AtomicFile> file;
    const Status created = AtomicFile::create(output, &file);
    CHECK(created.code() == Status::Code::invalid_argument);
    // Through the link, the file named is the one it points to.
    CHECK_MESSAGE(created.message().ends_with("/signed-off.csv is read-only: not replaced"), created.message());
  }
  std::ifstream in(path);
  CHECK(std::string{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()} == "approved");
  CHECK(std::distance(std::filesystem::directory_iterator(folder.path()), {}) == 2);  // no temporary file left
}

TEST_CASE("AtomicFileTakesTheLongestFileNameTheFolderAllows") {
  logtest::TempFolder folder;
  for (const size_t name_bytes : {size_t{244}, size_t{245}, size_t{255}}) {
    CAPTURE(name_bytes);
    const std::string path = folder.sub(std::string(name_bytes - 4, 'x') + ".csv");
    std::unique_ptr<AtomicFile> file;
    const Status created = AtomicFile::create(path, &file);
    REQUIRE_MESSAGE(created.is_ok(), created.to_string());
    CHECK(std::filesystem::path(file->temporary_path()).parent_path() == std::filesystem::path(path).parent_path());
    file->write("a,b\r\n");
    REQUIRE(file->commit().is_ok());
    std::ifstream in(path);
    CHECK(std::string{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()} == "a,b\r\n");
  }
  CHECK(std::distance(std::filesystem::directory_iterator(folder.path()), {}) == 3);
}

TEST_CASE("AtomicFileRefusesANameOverTheLimitNamingTheFileNotItsTemporary") {
  logtest::TempFolder folder;
  const std::string path = folder.sub(std::string(252, 'x') + ".csv");  // 256 bytes
  std::unique_ptr<AtomicFile> file;
  const Status created = AtomicFile::create(path, &file);
  CHECK(created.code() == Status::Code::invalid_argument);
  CHECK_MESSAGE(created.message() == path + ": the file name is longer than 255 bytes", created.message());
  CHECK(std::filesystem::is_empty(folder.path()));
}

TEST_CASE("IsInsideFolderComparesWholeComponentsAfterFollowingLinks") {
  logtest::TempFolder folder;
  std::filesystem::create_directories(folder.sub("data/sub"));
  std::filesystem::create_directories(folder.sub("data-old"));
  std::filesystem::create_directories(folder.sub("exports"));
  const std::string data = folder.sub("data");
  CHECK(is_inside_folder(folder.sub("data/CURRENT"), data));
  CHECK(is_inside_folder(folder.sub("data/sub/new/report.csv"), data));  // folders not made yet too
  CHECK(is_inside_folder(folder.sub("exports/../data/x.csv"), data));
  CHECK(is_inside_folder(data, data));
  CHECK_FALSE(is_inside_folder(folder.sub("data-old/x.csv"), data));
  CHECK_FALSE(is_inside_folder(folder.sub("exports/x.csv"), data));
  CHECK_FALSE(is_inside_folder(folder.sub("x.csv"), data));
  // A link to the folder, and a link to a file inside it (also one not made yet).
  std::filesystem::create_directory_symlink(data, folder.sub("exports/ledger"));
  std::filesystem::create_symlink("../data/report.csv", folder.sub("exports/report.csv"));
  CHECK(is_inside_folder(folder.sub("exports/ledger/x.csv"), data));
  CHECK(is_inside_folder(folder.sub("exports/report.csv"), data));
  // The folder named through a link is the same folder.
  CHECK(is_inside_folder(folder.sub("data/x.csv"), folder.sub("exports/ledger")));
}

TEST_CASE("AtomicFileWritesStraightIntoAPipeOrDeviceAndThroughALink") {
  logtest::TempFolder folder;
  // A named pipe stays a pipe, and its reader gets the whole export.
  const std::string pipe = folder.sub("pipe");
  REQUIRE(mkfifo(pipe.c_str(), 0600) == 0);
  // The reading end, opened first without blocking: the export fits in the pipe's buffer.
  const int reading = open(pipe.c_str(), O_RDONLY | O_NONBLOCK);
  REQUIRE(reading >= 0);
  {
    std::unique_ptr<AtomicFile> file;
    REQUIRE(AtomicFile::create(pipe, &file).is_ok());
    CHECK(file->temporary_path().empty());
    file->write("a,b\r\n");
    CHECK(file->commit().is_ok());
  }
  char piped[64] = {};
  const ssize_t got = read(reading, piped, sizeof piped);
  close(reading);
  CHECK(std::string_view(piped, got > 0 ? static_cast<size_t>(got) : 0) == "a,b\r\n");
  CHECK(std::filesystem::is_fifo(pipe));
  // A device that refuses the bytes fails the export; it is not replaced by a file. The test
  // makes its own node of /dev/full's device (a regression replaces that one, not the
  // system's); without the right to make device nodes this part cannot run.
  const std::string full = folder.sub("full");
  if (mknod(full.c_str(), S_IFCHR | 0600, makedev(1, 7)) != 0) {
    MESSAGE("skipped the device case: cannot make a device node here (" << std::strerror(errno) << ")");
  } else {
    std::unique_ptr<AtomicFile> file;
    REQUIRE(AtomicFile::create(full, &file).is_ok());
    file->write(std::string(1 << 16, 'x'));
    const Status committed = file->commit();
    CHECK(committed.is_io_error());
    CHECK(committed.message().find(full) != std::string::npos);
    CHECK(std::filesystem::is_character_file(full));
  }
  // A link keeps pointing at the file, which gets the new export.
  const std::string target = folder.sub("target.csv");
  const std::string link = folder.sub("link.csv");
  std::ofstream(target) << "old";
  std::filesystem::create_symlink(target, link);
  std::unique_ptr<AtomicFile> file;
  REQUIRE(AtomicFile::create(link, &file).is_ok());
  file->write("new");
  REQUIRE(file->commit().is_ok());
  CHECK(std::filesystem::is_symlink(link));
  std::ifstream in(target);
  CHECK(std::string(std::istreambuf_iterator<char>(in), {}) == "new");
}

TEST_CASE("AnInterruptedAuditCommandLeavesNoTemporaryFileOrScratchFolder") {
  logtest::TempFolder folder;
  const std::string file = folder.sub("journal.csv.tmp-abc123");
  const std::string scratch = folder.sub("tutorledger-secondary-abc123");
  int ready[2];
  REQUIRE(pipe(ready) == 0);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {  // the audit command: owns a half-written export and a scratch folder
    cli::install_interrupt_cleanup(/*clear_bar_line=*/false);
    std::ofstream(file) << "half an export";
    std::filesystem::create_directory(scratch);
    std::ofstream(scratch + "/LOG") << "rocksdb";
    leftovers::add(file, leftovers::Kind::file);
    leftovers::add(scratch, leftovers::Kind::folder);
    [[maybe_unused]] const ssize_t sent = write(ready[1], "r", 1);
    for (;;) pause();
  }
  char byte = 0;
  REQUIRE(read(ready[0], &byte, 1) == 1);
  close(ready[0]);
  close(ready[1]);
  REQUIRE(kill(child, SIGTERM) == 0);
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));  // it ends by the signal, as a shell expects
  CHECK(WTERMSIG(status) == SIGTERM);
  CHECK_FALSE(std::filesystem::exists(file));
  CHECK_FALSE(std::filesystem::exists(scratch));
}

TEST_CASE("OutputClosedByItsReaderEndsTheCommandQuietlyBySigpipeAfterCleanUp") {
  logtest::TempFolder folder;
  const std::string scratch = folder.sub("tutorledger-secondary-def456");
  int output[2];
  REQUIRE(pipe(output) == 0);
  close(output[0]);  // the reader is gone before anything is written (`| head` after its lines)
  int error_output[2];
  REQUIRE(pipe(error_output) == 0);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {  // the audit command, streaming its product to the closed pipe
    dup2(error_output[1], STDERR_FILENO);
    cli::install_interrupt_cleanup(/*clear_bar_line=*/false);
    std::filesystem::create_directory(scratch);
    leftovers::add(scratch, leftovers::Kind::folder);
    std::FILE* out = fdopen(output[1], "w");
    replay::FileSink sink(out, &cli::end_by_closed_pipe);
    sink.write(std::string(1 << 16, 'x'));
    std::fflush(out);
    sink.write("more");
    _exit(0);  // not reached when the pipe's closing is noticed
  }
  close(output[1]);
  close(error_output[1]);
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGPIPE);
  char said[256] = {};
  CHECK(read(error_output[0], said, sizeof said) == 0);  // nothing on stderr
  close(error_output[0]);
  CHECK_FALSE(std::filesystem::exists(scratch));
}

TEST_CASE("AnExportFileAndASecondarysScratchFolderAreListedForCleanUpWhileTheyLive") {
  logtest::TempFolder folder;
  const std::string path = folder.sub("out.csv");
  {
    std::unique_ptr<AtomicFile> file;
    REQUIRE(AtomicFile::create(path, &file).is_ok());
    CHECK(leftovers::listed() == std::vector<std::string>{file->temporary_path()});
    file->write("x");
    REQUIRE(file->commit().is_ok());
  }
  CHECK(leftovers::listed().empty());
  {
    std::unique_ptr<LogStore> log = logtest::open_log(folder.sub("data"));  // makes the folder a log
  }
  std::unique_ptr<LogStore> secondary;
  LogOptions options;
  options.read_only_secondary = true;
  REQUIRE(LogStore::open(folder.sub("data"), options, &secondary).is_ok());
  const auto listed = leftovers::listed();
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].find("tutorledger-secondary-") != std::string::npos);
  secondary.reset();
  CHECK(leftovers::listed().empty());
  CHECK_FALSE(std::filesystem::exists(listed[0]));
}

TEST_CASE("AnExportToTheTerminalDrawsNoBarBetweenItsRows") {
  StringSink out;
  StringSink err;
  const Console both_on_terminal{out, err, true, true};
  CHECK_FALSE(bar_while_writing(both_on_terminal, /*writes_to_file=*/false));
  CHECK(bar_while_writing(both_on_terminal, /*writes_to_file=*/true));
  CHECK(bar_while_writing(Console{out, err, true, false}, false));  // rows into a pipe or a file
  CHECK_FALSE(bar_while_writing(Console{out, err, false, false}, true));
}

TEST_CASE("ProgressBarDrawsOnlyWithASinkAndClearsItself") {
  StringSink sink;
  {
    Progress silent(nullptr, "verify", 100);
    silent.update(50);
  }
  Progress progress(&sink, "verify", 1'000'000);
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  progress.update(500'000);
  CHECK(sink.text().starts_with("\rverify ["));
  CHECK(sink.text().find(" 50%  500000/1000000 events") != std::string::npos);
  CHECK(sink.text().find("M events/s") != std::string::npos);
  progress.finish();
  CHECK(sink.text().ends_with("\r\x1b[K"));
  const size_t drawn = sink.text().size();
  progress.update(900'000);
  CHECK(sink.text().size() == drawn);

  // A slow start reads as a rate in events, not as "0.00M".
  StringSink slow_sink;
  Progress slow(&slow_sink, "rebuild", 30'000);
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  slow.update(50);
  CHECK_MESSAGE(slow_sink.text().find("0.00M") == std::string::npos, slow_sink.text());
  CHECK_MESSAGE(slow_sink.text().find("50/30000 events  ") != std::string::npos, slow_sink.text());
  const size_t rate_at = slow_sink.text().find("50/30000 events  ") + std::string_view("50/30000 events  ").size();
  const int shown = std::atoi(slow_sink.text().c_str() + rate_at);
  CHECK(shown >= 1);  // 50 events in at least 0.25 s: at most 200 events/s
  CHECK(shown <= 200);
  CHECK(slow_sink.text().find(" events/s", rate_at) != std::string::npos);
}
