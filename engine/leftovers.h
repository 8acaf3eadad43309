#pragma once
// Files and folders that only exist while a command runs (an export's temporary file, a RocksDB
// secondary's scratch folder). Their owners remove them when they finish; if the process is
// interrupted first, the CLI's signal watcher (api/interrupt_cleanup.h) removes what is still
// listed here, so no half-written export or scratch folder is left behind.
#include <string>
#include <vector>

namespace tl::leftovers {

enum class Kind { file, folder };

void add(const std::string& path, Kind kind);
void remove(const std::string& path);  // its owner finished with it (removed or kept it)

// Deletes everything still listed (files unlinked, folders removed with their contents) and
// empties the list. Safe from any thread, not from a signal handler.
void delete_all();

// The paths still listed, for tests.
std::vector<std::string> listed();

}  // namespace tl::leftovers
