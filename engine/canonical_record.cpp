#include "engine/canonical_record.h"

#include <cassert>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>

#include "engine/canonical_cursor.h"
#include "engine/record_codec.h"

namespace tl {
namespace {

// `,"prev_hash":"<64 hex>"` and then the stored hash tail `,"hash":"<64 hex>"}`
// (stored_hash_field): everything after `data`, always this long.
constexpr std::string_view prev_hash_open = R"(,"prev_hash":")";
constexpr size_t hex_digits = 64;
constexpr size_t prev_hash_field_bytes = prev_hash_open.size() + hex_digits + 1;
constexpr size_t tail_bytes = prev_hash_field_bytes + stored_hash_tail_bytes;
static_assert(tail_bytes == 154);

// 64 lower-case hex digits.
bool read_digest(CanonicalCursor& cursor, Digest* out) {
  if (cursor.left() < hex_digits) return false;
  const std::optional<Digest> parsed = lower_hex_digest(std::string_view(cursor.at(), hex_digits));
  if (!parsed) return false;
  *out = *parsed;
  cursor.skip(hex_digits);
  return true;
}

}  // namespace

bool read_canonical_chain(std::string_view stored, Digest* prev_hash, Digest* hash) {
  if (stored.size() < tail_bytes) return false;
  const char* const hash_tail = stored.data() + stored.size() - stored_hash_tail_bytes;
  CanonicalCursor field(hash_tail - prev_hash_field_bytes, hash_tail);
  if (!field.literal(prev_hash_open) || !read_digest(field, prev_hash) || !field.take('"')) return false;
  const std::optional<Digest> stored_hash = stored_hash_field(stored);
  if (!stored_hash) return false;
  *hash = *stored_hash;
  return true;
}

bool parse_canonical_record(std::string_view stored, EventRecord* out) {
  assert(out != nullptr);
  if (stored.size() < tail_bytes) return false;
  const char* const tail = stored.data() + stored.size() - tail_bytes;
  CanonicalCursor cursor(stored.data(), tail);
  uint64_t natural = 0;
  int64_t integer = 0;

  if (!cursor.literal(R"({"position":)") || !cursor.natural(&natural)) return false;
  out->position = natural;
  if (!cursor.literal(R"(,"stream":")") || !cursor.plain_text(&out->stream)) return false;
  if (!cursor.literal(R"(,"version":)") || !cursor.natural(&natural)) return false;
  if (natural > std::numeric_limits<uint32_t>::max()) return false;
  out->version = static_cast<uint32_t>(natural);
  if (!cursor.literal(R"(,"type":")") || !cursor.plain_text(&out->type)) return false;
  if (!cursor.literal(R"(,"schema":)") || !cursor.integer(&integer)) return false;
  if (integer < std::numeric_limits<int32_t>::min() || integer > std::numeric_limits<int32_t>::max()) return false;
  out->schema = static_cast<int32_t>(integer);
  if (!cursor.literal(R"(,"at":)") || !cursor.integer(&integer)) return false;
  out->at = integer;
  if (!cursor.literal(R"(,"actor":")") || !cursor.plain_text(&out->actor)) return false;
  if (!cursor.literal(R"(,"command_id":")") || !cursor.plain_text(&out->command_id)) return false;
  if (!cursor.literal(R"(,"data":)")) return false;
  // The text fields all lie before `data`: one UTF-8 check covers them.
  const char* const data = cursor.at();
  if (!is_valid_utf8(std::string_view(stored.data(), static_cast<size_t>(data - stored.data())))) return false;

  const std::string_view data_text(data, static_cast<size_t>(tail - data));
  if (data_text.size() < 2 || data_text.front() != '{' || data_text.back() != '}') return false;
  if (data_text.size() > event_data_bytes_max) return false;

  if (!read_canonical_chain(stored, &out->prev_hash, &out->hash)) return false;
  out->data.assign(data_text);
  return true;
}

}  // namespace tl
