#include "replay/data_folder.h"

#include <cassert>

#include <fmt/format.h>

#include "replay/exit_codes.h"

namespace tl::replay {

Status open_data_folder(const std::string& data_dir, std::unique_ptr<LogStore>* out) {
  assert(out != nullptr);
  if (data_dir.empty()) return Status::invalid_argument("the data folder is empty");
  LogOptions options;
  options.create_if_missing = false;
  options.read_only_secondary = true;
  options.block_cache_bytes = audit_block_cache_bytes;
  return LogStore::open(data_dir, options, out);
}

bool open_or_report(const std::string& data_dir, std::string_view command, Console& console,
                    std::unique_ptr<LogStore>* out, int* exit_code) {
  const Status status = open_data_folder(data_dir, out);
  if (status.is_ok()) return true;
  const bool usage = status.is_not_found() || status.code() == Status::Code::invalid_argument;
  console.err.write(fmt::format("tutorledger {}: cannot open {}: {}\n", command, data_dir,
                                usage ? status.message() : status.to_string()));
  *exit_code = usage ? exit_usage : exit_failed;
  return false;
}

}  // namespace tl::replay
