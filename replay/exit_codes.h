#pragma once
// Exit codes of the audit commands (../shared/API.md, CLI).
namespace tl::replay {

constexpr int exit_ok = 0;      // clean, equal, matched, written
constexpr int exit_failed = 1;  // damage or a difference found, or the data could not be read
constexpr int exit_usage = 2;   // bad arguments, a data folder that is not a tutorledger database,
                                // an unreadable statement

}  // namespace tl::replay
