#include "replay/ledger_digest.h"

#include <cassert>
#include <charconv>

#include <fmt/format.h>

namespace tl::replay {

std::optional<LedgerDigest> parse_ledger_digest(std::string_view text) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  const std::string_view position_text = text.substr(0, colon);
  if (position_text.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  LedgerDigest digest;
  const auto [end, error] = std::from_chars(position_text.data(), position_text.data() + position_text.size(), digest.position);
  if (error != std::errc() || end != position_text.data() + position_text.size() || digest.position == 0) return std::nullopt;
  const std::optional<Digest> hash = digest_from_hex(text.substr(colon + 1));
  if (!hash) return std::nullopt;
  digest.hash = *hash;
  return digest;
}

DigestCheck check_ledger_digest(const LogStore& log, const LedgerDigest& digest) {
  assert(digest.position > 0);
  DigestCheck check;
  const uint64_t head = log.head().position;
  if (digest.position > head) {
    check.bad_position = head + 1;
    check.problem = fmt::format("the log ends at position {}, before the digest's position {}: events were removed",
                                head, digest.position);
    return check;
  }
  std::vector<EventRecord> records;
  const Status read = log.read_all(digest.position, 1, &records);
  if (!read.is_ok() || records.empty() || records[0].position != digest.position) {
    check.bad_position = digest.position;
    check.problem = read.is_ok() ? "the event at the digest's position is missing" : read.message();
    return check;
  }
  if (records[0].hash != digest.hash) {
    check.bad_position = digest.position;
    check.problem = fmt::format("hash {} differs from the digest's {}: the log was rewritten at or before it",
                                to_hex(records[0].hash), to_hex(digest.hash));
    return check;
  }
  check.matches = true;
  return check;
}

}  // namespace tl::replay
