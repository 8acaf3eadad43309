#pragma once
// Expiry of idempotency records (`i` keys, engine/FORMAT.md): the writer moves a horizon forward
// ("records decided at or before this time are expired"), look-ups stop returning such records
// at once, and RocksDB's compactions drop them from disk later. The look-up is what makes the
// behaviour exact (a retry's answer does not depend on when a compaction ran); the filter only
// reclaims the space.
#include <atomic>
#include <limits>
#include <memory>
#include <optional>
#include <string>

#include <rocksdb/compaction_filter.h>

#include "projections/time.h"

namespace tl {

class IdempotencyExpiry {
 public:
  // Nothing is expired until the first move.
  static constexpr TimeMs nothing_expired = std::numeric_limits<TimeMs>::min();

  // Only forward: a horizon earlier than the current one is ignored (a clock stepping back does
  // not bring expired records back for some keys and not others).
  void expire_through(TimeMs decided_at) {
    TimeMs current = horizon_.load(std::memory_order_relaxed);
    while (decided_at > current && !horizon_.compare_exchange_weak(current, decided_at, std::memory_order_relaxed)) {
    }
  }
  TimeMs horizon() const { return horizon_.load(std::memory_order_relaxed); }
  // Records of format 1 (no decided_at) never expire.
  bool expired(std::optional<TimeMs> decided_at) const { return decided_at && *decided_at <= horizon(); }

 private:
  std::atomic<TimeMs> horizon_{nothing_expired};
};

// Removes expired `i` values; every other key is kept untouched.
class IdempotencyExpiryFilter : public rocksdb::CompactionFilter {
 public:
  explicit IdempotencyExpiryFilter(std::shared_ptr<const IdempotencyExpiry> expiry) : expiry_(std::move(expiry)) {}
  Decision FilterV2(int level, const rocksdb::Slice& key, ValueType value_type, const rocksdb::Slice& existing_value,
                    std::string* new_value, std::string* skip_until) const override;
  const char* Name() const override { return "tl.IdempotencyExpiryFilter"; }

 private:
  std::shared_ptr<const IdempotencyExpiry> expiry_;
};

// Set in the log family's options as a factory, not as a filter: the options (and every copy
// RocksDB makes of them) then share the horizon's ownership, so no copy can outlive it.
class IdempotencyExpiryFilterFactory : public rocksdb::CompactionFilterFactory {
 public:
  explicit IdempotencyExpiryFilterFactory(std::shared_ptr<const IdempotencyExpiry> expiry)
      : expiry_(std::move(expiry)) {}
  std::unique_ptr<rocksdb::CompactionFilter> CreateCompactionFilter(
      const rocksdb::CompactionFilter::Context& context) override;
  const char* Name() const override { return "tl.IdempotencyExpiryFilterFactory"; }

 private:
  std::shared_ptr<const IdempotencyExpiry> expiry_;
};

}  // namespace tl
