#include "engine/leftovers.h"

#include <filesystem>
#include <mutex>
#include <utility>

namespace tl::leftovers {
namespace {

std::mutex& registry_mutex() {
  static std::mutex mutex;
  return mutex;
}

// A handful at most (one output file, one scratch folder per open log): a vector is enough.
std::vector<std::pair<std::string, Kind>>& registry() {
  static std::vector<std::pair<std::string, Kind>> entries;
  return entries;
}

}  // namespace

void add(const std::string& path, Kind kind) {
  std::lock_guard lock(registry_mutex());
  registry().emplace_back(path, kind);
}

void remove(const std::string& path) {
  std::lock_guard lock(registry_mutex());
  auto& entries = registry();
  std::erase_if(entries, [&path](const auto& entry) { return entry.first == path; });
}

void delete_all() {
  std::lock_guard lock(registry_mutex());
  for (const auto& [path, kind] : registry()) {
    std::error_code ignored;
    if (kind == Kind::folder) {
      std::filesystem::remove_all(path, ignored);
    } else {
      std::filesystem::remove(path, ignored);
    }
  }
  registry().clear();
}

std::vector<std::string> listed() {
  std::lock_guard lock(registry_mutex());
  std::vector<std::string> paths;
  for (const auto& entry : registry()) paths.push_back(entry.first);
  return paths;
}

}  // namespace tl::leftovers
