#include "engine/canonical_record.h"

#include <cassert>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>

#include <simdjson.h>

#include "engine/record_codec.h"

namespace tl {
namespace {

// `,"prev_hash":"<64 hex>","hash":"<64 hex>"}`: everything after `data`, always this long.
constexpr std::string_view prev_hash_open = R"(,"prev_hash":")";
constexpr std::string_view hash_open = R"(","hash":")";
constexpr std::string_view hash_close = R"("})";
constexpr size_t hex_digits = 64;
constexpr size_t tail_bytes = prev_hash_open.size() + hex_digits + hash_open.size() + hex_digits + hash_close.size();
static_assert(tail_bytes == 154);

// More digits than this may not fit in 64 bits; such numbers are left to the general decoder.
constexpr size_t number_digits_max = 18;

class Cursor {
 public:
  Cursor(const char* begin, const char* end) : at_(begin), end_(end) {}

  const char* at() const { return at_; }

  bool literal(std::string_view expected) {
    if (static_cast<size_t>(end_ - at_) < expected.size() || std::memcmp(at_, expected.data(), expected.size()) != 0) {
      return false;
    }
    at_ += expected.size();
    return true;
  }

  // Decimal digits in their one canonical form: "0", or no leading zero.
  bool natural(uint64_t* value) {
    if (at_ == end_ || *at_ < '0' || *at_ > '9') return false;
    if (*at_ == '0') {
      ++at_;
      *value = 0;
      return at_ == end_ || *at_ < '0' || *at_ > '9';
    }
    uint64_t result = 0;
    const char* const first = at_;
    while (at_ != end_ && *at_ >= '0' && *at_ <= '9') {
      if (static_cast<size_t>(at_ - first) == number_digits_max) return false;
      result = result * 10 + static_cast<uint64_t>(*at_ - '0');
      ++at_;
    }
    *value = result;
    return true;
  }

  bool integer(int64_t* value) {
    const bool negative = at_ != end_ && *at_ == '-';
    if (negative) ++at_;
    uint64_t magnitude = 0;
    if (!natural(&magnitude) || (negative && magnitude == 0)) return false;  // "-0" is never written
    // 18 digits always fit in int64_t.
    *value = negative ? -static_cast<int64_t>(magnitude) : static_cast<int64_t>(magnitude);
    return true;
  }

  // 64 lower-case hex digits.
  bool digest(Digest* out) {
    if (static_cast<size_t>(end_ - at_) < hex_digits) return false;
    const std::optional<Digest> parsed = lower_hex_digest(std::string_view(at_, hex_digits));
    if (!parsed) return false;
    *out = *parsed;
    at_ += hex_digits;
    return true;
  }

  // A JSON string whose encoding is its bytes: no escape and no control character. The opening
  // quote is part of the field's literal.
  bool plain_text(std::string* out) {
    const char* const first = at_;
    while (at_ != end_ && *at_ != '"') {
      const auto byte = static_cast<unsigned char>(*at_);
      if (byte < 0x20 || byte == '\\') return false;
      ++at_;
    }
    if (at_ == end_) return false;
    out->assign(first, static_cast<size_t>(at_ - first));
    ++at_;  // the closing quote
    return true;
  }

 private:
  const char* at_;
  const char* end_;
};

}  // namespace

bool parse_canonical_record(std::string_view stored, EventRecord* out) {
  assert(out != nullptr);
  if (stored.size() < tail_bytes) return false;
  const char* const tail = stored.data() + stored.size() - tail_bytes;
  Cursor cursor(stored.data(), tail);
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
  if (!simdjson::validate_utf8(stored.data(), static_cast<size_t>(data - stored.data()))) return false;

  const std::string_view data_text(data, static_cast<size_t>(tail - data));
  if (data_text.size() < 2 || data_text.front() != '{' || data_text.back() != '}') return false;
  if (data_text.size() > event_data_bytes_max) return false;

  Cursor end(tail, stored.data() + stored.size());
  if (!end.literal(prev_hash_open) || !end.digest(&out->prev_hash)) return false;
  if (!end.literal(hash_open) || !end.digest(&out->hash) || !end.literal(hash_close)) return false;
  out->data.assign(data_text);
  return true;
}

}  // namespace tl
