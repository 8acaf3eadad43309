#pragma once
// An auditor's saved `GET /api/ledger/digest` ({position, hash}), given to `replay verify
// --digest POS:HASH`: the log must still hold that hash at that position, else it was rewritten.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/log_store.h"

namespace tl::replay {

struct LedgerDigest {
  uint64_t position = 0;  // from 1
  Digest hash{};
};

// "POS:HASH": a position from 1 and 64 hex digits; nullopt for anything else.
std::optional<LedgerDigest> parse_ledger_digest(std::string_view text);

struct DigestCheck {
  bool matches = false;
  uint64_t bad_position = 0;  // where the log disagrees with the digest (0 when it matches)
  std::string problem;        // one line, empty when it matches
};

// Compares the digest with the stored hash of the event at its position.
DigestCheck check_ledger_digest(const LogStore& log, const LedgerDigest& digest);

}  // namespace tl::replay
