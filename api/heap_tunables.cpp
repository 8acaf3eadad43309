#include "api/heap_tunables.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>

namespace tl::cli {
namespace {

constexpr const char* huge_pages_tunable = "glibc.malloc.hugetlb=1";
constexpr const char* tcache_count_tunable = "glibc.malloc.tcache_count=256";

bool transparent_huge_pages_usable() {
  std::ifstream setting("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  if (!std::getline(setting, line)) return false;
  return line.find("[never]") == std::string::npos;  // "always" or "madvise" (glibc asks by madvise)
}

bool huge_pages_wanted() {
  const char* wanted = std::getenv("TL_HUGEPAGES");
  return (wanted == nullptr || std::string(wanted) != "0") && transparent_huge_pages_usable();
}

// "glibc.malloc.hugetlb" of "glibc.malloc.hugetlb=1".
std::string_view name_of(std::string_view tunable) { return tunable.substr(0, tunable.find('=')); }

}  // namespace

void reexec_with_heap_tunables(char** argv) {
  const char* current = std::getenv("GLIBC_TUNABLES");
  const std::string tunables = current == nullptr ? "" : current;
  std::string wanted = tunables;
  // Each is added only when its name is absent: the re-executed process finds both and goes on.
  auto add = [&](std::string_view tunable) {
    if (tunables.find(name_of(tunable)) != std::string::npos) return;
    if (!wanted.empty()) wanted += ':';
    wanted += tunable;
  };
  if (huge_pages_wanted()) add(huge_pages_tunable);
  add(tcache_count_tunable);
  if (wanted == tunables) return;
  // The binary's own path, not /proc/self/exe: the process name (ps, top) comes from it.
  char path[4096];
  const ssize_t length = readlink("/proc/self/exe", path, sizeof path - 1);
  if (length <= 0) return;
  path[length] = '\0';
  if (setenv("GLIBC_TUNABLES", wanted.c_str(), 1) != 0) return;
  execv(path, argv);
  // Not re-executed: go on without, leaving the environment as it was.
  if (current == nullptr) {
    unsetenv("GLIBC_TUNABLES");
  } else {
    setenv("GLIBC_TUNABLES", current, 1);
  }
}

}  // namespace tl::cli
