#include "replay/data_folder.h"

#include <algorithm>
#include <cassert>

#include <fmt/format.h>

#include "replay/exit_codes.h"

namespace tl::replay {

Status open_data_folder(const std::string& data_dir, std::unique_ptr<LogStore>* out, DamagedWal damaged_wal) {
  assert(out != nullptr);
  if (data_dir.empty()) return Status::invalid_argument("the data folder is empty");
  LogOptions options;
  options.create_if_missing = false;
  options.read_only_secondary = true;
  options.skip_damaged_wal_records = damaged_wal == DamagedWal::skip;
  options.block_cache_bytes = audit_block_cache_bytes;
  return LogStore::open(data_dir, options, out);
}

bool open_or_report(const std::string& data_dir, std::string_view command, Console& console,
                    std::unique_ptr<LogStore>* out, int* exit_code, Status* failure, DamagedWal damaged_wal) {
  const Status status = open_data_folder(data_dir, out, damaged_wal);
  if (status.is_ok()) return true;
  if (failure != nullptr) *failure = status;
  const bool usage = status.is_not_found() || status.code() == Status::Code::invalid_argument;
  console.err.write(fmt::format("tutorledger {}: cannot open {}: {}\n", command, data_dir,
                                usage ? status.message() : status.to_string()));
  *exit_code = usage ? exit_usage : exit_failed;
  return false;
}

TimeMs at_or_latest(const LogStore& log, std::optional<TimeMs> at, TimeMs now) {
  if (at) return *at;
  const uint64_t head = log.head().position;
  std::vector<EventRecord> last;
  if (head > 0 && log.read_all(head, 1, &last).is_ok() && !last.empty()) return std::max(now, last.front().at);
  return now;  // an empty log, or one the command will report as damaged anyway
}

}  // namespace tl::replay
