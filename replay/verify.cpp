#include "replay/verify.h"

#include <cassert>

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

// The log was opened past damaged write-ahead-log records (DamagedWal::skip): never clean. The
// events they held, if any, show as a gap or a broken chain where they were, and that is the
// position to name; when the walk found nothing, the records held no event that the head vouches
// for (or held the head itself, or RocksDB stopped at them), so the first position not vouched for
// is the one after it.
void name_storage_damage(const std::string& damage, bool read_past, const LogHead& head, Finding* first_bad) {
  const std::string what =
      read_past ? fmt::format("the write-ahead log holds damaged records ({}), skipped to read on", damage)
                : fmt::format("the write-ahead log holds damaged records ({}), read up to the first of them: "
                              "RocksDB could not read on past it",
                              damage);
  if (first_bad->found()) {
    first_bad->problem += fmt::format("; storage: {}", what);
    return;
  }
  *first_bad = Finding{head.position + 1, fmt::format("storage: {}; the events up to position {} read and verify, "
                                                      "and what the damaged records held is unknown",
                                                      what, head.position)};
}

}  // namespace

VerifyFindings verify_log(const LogStore& log, const std::optional<LedgerDigest>& digest, Progress& progress) {
  VerifyFindings findings;
  findings.head = log.head();
  // One read of the log on two threads: the reader thread walks the chain and the index
  // (LogStore::verify) and decodes each record it vouched for; this thread evolves the events and
  // watches the invariants.
  VerifyReport chain;
  const RecordSource chain_walk = [&log, &chain](const RecordAccept& accept) {
    bool accepting = true;
    chain = log.verify({}, [&](EventRecord& record) {
      if (accepting) accepting = accept(record);
    });
    return Status::ok();  // damage is the chain report's to name
  };
  StateReplay replay(/*watch_invariants=*/true);
  Finding domain_bad;
  FeedLimits limits;
  limits.position_max = findings.head.position;
  const FeedResult fed = feed_records_pipelined(chain_walk, limits, progress, [&](const Event& event, const Digest&) {
    domain_bad = replay.apply(event);
    return !domain_bad.found();
  });
  if (!domain_bad.found()) domain_bad = fed.damage();
  if (!domain_bad.found() && chain.clean && fed.last_position < findings.head.position) {
    domain_bad = Finding{fed.last_position + 1, fmt::format("the log ends at position {} but its head is {}",
                                                            fed.last_position, findings.head.position)};
  }
  // Invariants over the whole state only hold for a whole log.
  if (!domain_bad.found() && chain.clean && log.storage_damage().empty()) domain_bad = replay.finish();

  findings.events_checked = chain.events_checked;
  findings.events_replayed = fed.events_visited;
  findings.commands_checked = replay.commands_checked();
  if (!chain.clean) findings.first_bad = Finding{chain.first_bad_position, chain.problem};
  keep_first(findings.first_bad, domain_bad);
  if (!log.storage_damage().empty()) name_storage_damage(log.storage_damage(), log.storage_damage_read_past(), findings.head, &findings.first_bad);
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
  Status failure;
  if (!open_or_report(data_dir, "replay verify", console, &log, &exit_code, &failure, DamagedWal::skip)) {
    // RocksDB's own files are damaged beyond what DamagedWal::skip reads past (a table file, the
    // manifest, a missing file): no event can be read, so no position can be named, but the
    // verdict line must still say damaged.
    if (failure.is_corruption()) console.out.write(fmt::format("damaged: storage: {}\n", failure.message()));
    return exit_code;
  }
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
