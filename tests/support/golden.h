#pragma once
// Golden files under tests/golden/: a test compares its output with the file byte for byte.
// Run with TL_UPDATE_GOLDEN=1 to rewrite the files instead (then review the diff by eye).
#include <string>
#include <string_view>

namespace tl::test {

std::string golden_path(std::string_view name);
// CHECKs that `actual` is the golden file `name`, naming the first line that differs.
void check_golden(std::string_view name, std::string_view actual);

}  // namespace tl::test
