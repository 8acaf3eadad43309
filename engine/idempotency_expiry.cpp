#include "engine/idempotency_expiry.h"

#include "engine/idempotency_codec.h"
#include "engine/log_keys.h"

namespace tl {

rocksdb::CompactionFilter::Decision IdempotencyExpiryFilter::FilterV2(int /*level*/, const rocksdb::Slice& key,
                                                                      ValueType value_type,
                                                                      const rocksdb::Slice& existing_value,
                                                                      std::string* /*new_value*/,
                                                                      std::string* /*skip_until*/) const {
  // Events, the stream index and the metadata live in the same column family: anything but a
  // plain `i` value is kept whatever it holds.
  if (value_type != ValueType::kValue || key.empty() || key[0] != log_keys::idempotency_tag) return Decision::kKeep;
  return expiry_->expired(idempotency_decided_at(existing_value.ToStringView())) ? Decision::kRemove : Decision::kKeep;
}

std::unique_ptr<rocksdb::CompactionFilter> IdempotencyExpiryFilterFactory::CreateCompactionFilter(
    const rocksdb::CompactionFilter::Context& /*context*/) {
  return std::make_unique<IdempotencyExpiryFilter>(expiry_);
}

}  // namespace tl
