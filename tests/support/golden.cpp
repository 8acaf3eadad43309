#include "support/golden.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <doctest/doctest.h>

namespace tl::test {
namespace {

bool updating() {
  const char* flag = std::getenv("TL_UPDATE_GOLDEN");
  return flag != nullptr && std::string_view(flag) == "1";
}

// "line 7: expected <...> got <...>" for the first line that differs.
std::string first_difference(std::string_view expected, std::string_view actual) {
  size_t line = 1;
  size_t start = 0;
  for (;;) {
    const size_t expected_end = expected.find('\n', start);
    const size_t actual_end = actual.find('\n', start);
    const std::string_view expected_line = expected.substr(start, expected_end == std::string_view::npos ? expected.npos : expected_end - start);
    const std::string_view actual_line = actual.substr(std::min(start, actual.size()), actual_end == std::string_view::npos ? actual.npos : actual_end - start);
    if (expected_line != actual_line || expected_end != actual_end) {
      return "line " + std::to_string(line) + ":\n  expected: " + std::string(expected_line) + "\n  actual:   " + std::string(actual_line);
    }
    if (expected_end == std::string_view::npos) return "no difference";
    start = expected_end + 1;
    ++line;
  }
}

}  // namespace

std::string golden_path(std::string_view name) {
  return (std::filesystem::path(__FILE__).parent_path().parent_path() / "golden" / std::string(name)).string();
}

void check_golden(std::string_view name, std::string_view actual) {
  const std::string path = golden_path(name);
  if (updating()) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << actual;
    MESSAGE("rewrote ", path);
    return;
  }
  std::ifstream file(path, std::ios::binary);
  REQUIRE_MESSAGE(file.good(), "no golden file ", path, " (run with TL_UPDATE_GOLDEN=1 to write it)");
  std::stringstream expected;
  expected << file.rdbuf();
  const std::string expected_text = expected.str();
  CHECK_MESSAGE(expected_text == actual, name, " differs from its golden file, ", first_difference(expected_text, actual));
}

}  // namespace tl::test
