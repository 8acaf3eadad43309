#include "api/huge_page_heap.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace tl::cli {
namespace {

constexpr const char* tunable = "glibc.malloc.hugetlb=1";

bool transparent_huge_pages_usable() {
  std::ifstream setting("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  if (!std::getline(setting, line)) return false;
  return line.find("[never]") == std::string::npos;  // "always" or "madvise" (glibc asks by madvise)
}

}  // namespace

void reexec_with_huge_page_heap(char** argv) {
  if (const char* wanted = std::getenv("TL_HUGEPAGES"); wanted != nullptr && std::string(wanted) == "0") return;
  const char* current = std::getenv("GLIBC_TUNABLES");
  const std::string tunables = current == nullptr ? "" : current;
  if (tunables.find("glibc.malloc.hugetlb") != std::string::npos) return;  // set already: by us, or by the user
  if (!transparent_huge_pages_usable()) return;
  const std::string with_huge_pages = tunables.empty() ? tunable : tunables + ":" + tunable;
  // The binary's own path, not /proc/self/exe: the process name (ps, top) comes from it.
  char path[4096];
  const ssize_t length = readlink("/proc/self/exe", path, sizeof path - 1);
  if (length <= 0) return;
  path[length] = '\0';
  if (setenv("GLIBC_TUNABLES", with_huge_pages.c_str(), 1) != 0) return;
  execv(path, argv);
  // Not re-executed: go on without, leaving the environment as it was.
  if (current == nullptr) {
    unsetenv("GLIBC_TUNABLES");
  } else {
    setenv("GLIBC_TUNABLES", current, 1);
  }
}

}  // namespace tl::cli
