#include "replay/trial_balance.h"

#include <algorithm>
#include <cassert>
#include <map>

#include <fmt/format.h>

#include "replay/csv_writer.h"
#include "replay/event_feed.h"

namespace tl::replay {
namespace {

// Wide enough that summing int64 balances cannot overflow while the totals are taken.
__extension__ using WideSum = __int128;

// Adds `delta` to an account's balance in `currency`; false on overflow.
bool add_to(CurrencyBalances& balances, const Currency& currency, int64_t delta) {
  auto entry = std::find_if(balances.begin(), balances.end(), [&](const auto& e) { return e.first == currency; });
  if (entry == balances.end()) {
    balances.emplace_back(currency, delta);
    return true;
  }
  const std::optional<int64_t> sum = checked_add(entry->second, delta);
  if (!sum) return false;
  entry->second = *sum;
  return true;
}

}  // namespace

Finding export_trial_balance(const LogStore& log, TimeMs at, Progress& progress, TextSink& out) {
  StringMap<CurrencyBalances> balances;
  Finding damage;
  FeedLimits limits;
  limits.position_max = log.head().position;
  limits.at_max = at;
  const FeedResult fed = feed_events(log, limits, progress, [&](const EventRecord& record, const Event& event) {
    for (const Posting& posting : postings_of(event.data)) {
      if (!add_to(balances[posting.debit], posting.currency, -posting.amount) ||
          !add_to(balances[posting.credit], posting.currency, posting.amount)) {
        damage = Finding{record.position, fmt::format("a posting overflows the balance of {} or {}", posting.debit, posting.credit)};
        return false;
      }
    }
    return true;
  });
  if (!damage.found()) damage = fed.damage();
  if (damage.found()) return damage;

  struct Row {
    std::string_view account;
    Currency currency;
    int64_t balance;
  };
  std::vector<Row> rows;
  for (const auto& [account, entries] : balances) {
    for (const auto& [currency, amount] : entries) {
      if (amount != 0) rows.push_back(Row{account, currency, amount});
    }
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return a.account != b.account ? a.account < b.account : a.currency < b.currency;
  });
  std::map<Currency, WideSum> totals;
  for (const auto& entries : balances) {
    for (const auto& [currency, amount] : entries.second) totals[currency] += amount;
  }

  CsvWriter csv(out);
  csv.text("account").text("currency").text("balance");
  csv.end_row();
  for (const Row& row : rows) {
    csv.text(row.account).text(row.currency.code()).number(row.balance);
    csv.end_row();
  }
  Finding unbalanced;
  for (const auto& [currency, total] : totals) {
    const bool fits = total >= INT64_MIN && total <= INT64_MAX;
    csv.text("TOTAL").text(currency.code()).number(fits ? static_cast<int64_t>(total) : 0);
    csv.end_row();
    if (total != 0 && !unbalanced.found()) {
      unbalanced = Finding{std::max<uint64_t>(fed.last_position, 1),
                           fmt::format("the {} balances do not total 0 (double entry is broken)", currency.code())};
    }
  }
  csv.flush();
  return unbalanced;
}

}  // namespace tl::replay
