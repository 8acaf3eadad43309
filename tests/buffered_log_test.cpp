// The access log's writer: whole lines, in order, soon; never blocking an answer.
#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "api/buffered_log.h"
#include "support/eventually.h"

using namespace tl;

namespace {

// A FILE* over a memory buffer that the test can read back.
struct MemoryFile {
  MemoryFile() : file(open_memstream(&data, &size)) { REQUIRE(file != nullptr); }
  ~MemoryFile() {
    std::fclose(file);
    std::free(data);
  }
  std::string text() {
    std::fflush(file);
    return std::string(data, size);
  }
  char* data = nullptr;
  size_t size = 0;
  std::FILE* file;
};

}  // namespace

TEST_CASE("LinesFromManyThreadsArriveWholeAndEachThreadsInOrder") {
  MemoryFile out;
  {
    BufferedLog log(out.file, BufferedLogOptions{10, 256, 1 << 20});
    std::vector<std::thread> writers;
    for (int t = 0; t < 4; ++t) {
      writers.emplace_back([&log, t] {
        for (int i = 0; i < 500; ++i) log.write("thread " + std::to_string(t) + " line " + std::to_string(i) + "\n");
      });
    }
    for (auto& writer : writers) writer.join();
  }  // the destructor writes what is left
  const std::string text = out.text();
  for (int t = 0; t < 4; ++t) {
    size_t from = 0;
    for (int i = 0; i < 500; ++i) {
      const std::string line = "thread " + std::to_string(t) + " line " + std::to_string(i) + "\n";
      const size_t at = text.find(line, from);
      REQUIRE_MESSAGE(at != std::string::npos, line);
      CHECK((at == 0 || text[at - 1] == '\n'));  // never inside another line
      from = at + line.size();
    }
  }
}

TEST_CASE("AQuietLogIsWrittenWithinItsInterval") {
  MemoryFile out;
  BufferedLog log(out.file, BufferedLogOptions{20, 1 << 20, 1 << 20});
  log.write("one\n");
  CHECK(tl::test::eventually([&] { return !out.text().empty(); }, 5000));
  CHECK(out.text() == "one\n");
}

TEST_CASE("WhenTheBufferIsFullLinesAreDroppedCountedAndReported") {
  MemoryFile out;
  {
    // An interval long enough that nothing is written while the test fills the buffer.
    BufferedLog log(out.file, BufferedLogOptions{60'000, 1 << 20, 16});
    log.write("0123456789\n");  // 11 bytes: fits
    log.write("0123456789\n");  // would make 22: dropped
    log.write("abc\n");         // 15: fits
    log.write("x\n");           // 17: dropped
    CHECK(log.dropped_lines() == 2);
  }
  CHECK(out.text() == "0123456789\nabc\n{\"log\":\"2 lines dropped: the log did not keep up\"}\n");
}
