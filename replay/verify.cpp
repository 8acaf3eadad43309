#include "replay/verify.h"

#include <atomic>
#include <cassert>
#include <thread>

#include <fmt/format.h>

#include "replay/data_folder.h"
#include "replay/pipelined_feed.h"
#include "replay/exit_codes.h"

namespace tl::replay {
namespace {

// Keeps the earlier of two findings (the chain walk's when both name the same position).
void keep_first(Finding& first, Finding candidate) {
  if (candidate.found() && (!first.found() || candidate.position < first.position)) first = std::move(candidate);
}

struct DomainWalk {
  Finding first_bad;
  uint64_t events = 0;
  uint64_t commands = 0;
};

DomainWalk walk_domain(const LogStore& log, uint64_t position_max, Progress& progress) {
  DomainWalk walk;
  StateReplay replay(/*watch_invariants=*/true);
  FeedLimits limits;
  limits.position_max = position_max;
  // The chain walk checks the hashes: this walk only needs the events, decoded on a thread of
  // their own while this one evolves them.
  const FeedResult fed = feed_events_pipelined(log, limits, FeedChecks::positions, progress, [&](const Event& event, const Digest&) {
    walk.first_bad = replay.apply(event);
    return !walk.first_bad.found();
  });
  walk.events = fed.events_visited;
  if (!walk.first_bad.found()) walk.first_bad = fed.damage();
  if (!walk.first_bad.found() && fed.last_position < position_max) {
    walk.first_bad = Finding{fed.last_position + 1, fmt::format("the log ends at position {} but its head is {}",
                                                                fed.last_position, position_max)};
  }
  if (!walk.first_bad.found()) walk.first_bad = replay.finish();
  walk.commands = replay.commands_checked();
  return walk;
}

}  // namespace

VerifyFindings verify_log(const LogStore& log, const std::optional<LedgerDigest>& digest, Progress& progress) {
  VerifyFindings findings;
  findings.head = log.head();
  // The chain walk runs beside the domain walk: both are mostly CPU (hashing, parsing, evolve).
  VerifyReport chain;
  std::thread chain_walk([&log, &chain] { chain = log.verify(); });
  const DomainWalk domain = walk_domain(log, findings.head.position, progress);
  chain_walk.join();

  findings.events_checked = chain.events_checked;
  findings.events_replayed = domain.events;
  findings.commands_checked = domain.commands;
  if (!chain.clean) findings.first_bad = Finding{chain.first_bad_position, chain.problem};
  keep_first(findings.first_bad, domain.first_bad);
  if (digest) {
    const DigestCheck check = check_ledger_digest(log, *digest);
    if (!check.matches) keep_first(findings.first_bad, Finding{check.bad_position, "digest: " + check.problem});
  }
  assert(findings.clean() || findings.first_bad.position > 0);
  return findings;
}

int run_verify(const std::string& data_dir, const std::optional<LedgerDigest>& digest, Console& console) {
  std::unique_ptr<LogStore> log;
  int exit_code = exit_ok;
  if (!open_or_report(data_dir, "replay verify", console, &log, &exit_code)) return exit_code;
  Progress progress(console.progress_bar ? &console.err : nullptr, "verify", log->head().position);
  const VerifyFindings findings = verify_log(*log, digest, progress);
  progress.finish();
  if (!findings.clean()) {
    const uint64_t position = findings.first_bad.position;
    console.out.write(fmt::format("damaged: position {}: {}\n", position, findings.first_bad.problem));
    return exit_failed;
  }
  std::string text = fmt::format(
      "clean: {} events, {} commands: hash chain, positions, stream versions, encoding and invariants hold\n",
      findings.events_checked, findings.commands_checked);
  text += fmt::format("head: position {} hash {}\n", findings.head.position, to_hex(findings.head.hash));
  if (digest) text += fmt::format("digest: position {} has hash {}, as saved\n", digest->position, to_hex(digest->hash));
  console.out.write(text);
  return exit_ok;
}

}  // namespace tl::replay
