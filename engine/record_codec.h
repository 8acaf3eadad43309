#pragma once
// The canonical encoding of one event record, its hash, and the stored value (engine/FORMAT.md).
// Usable without RocksDB: the replay CLI and the fuzzer call the decoder directly.
//
//   canonical = {"position":P,"stream":"S","version":V,"type":"T","schema":N,"at":MS,
//                "actor":"A","command_id":"C","data":D,"prev_hash":"<64 hex>"}
//   hash      = SHA-256(prev_hash (32 raw bytes) || position (u64 BE) || canonical)
//   stored    = canonical without its final `}`, then ,"hash":"<64 hex>"}
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "engine/event_record.h"
#include "engine/sha256.h"
#include "engine/status.h"

namespace tl {

// Size limits of one record. Text fields are stream, type, actor and command_id.
constexpr size_t event_text_bytes_max = 1024;
constexpr size_t event_data_bytes_max = 1 << 20;
constexpr size_t stored_record_bytes_max = event_data_bytes_max + 16 * 1024;

// `,"hash":"` + 64 hex digits + `"}`: the fixed tail of every stored value.
constexpr size_t stored_hash_tail_bytes = 9 + 64 + 2;

// Appends the canonical bytes of `record` (every field but `hash`) to `out`.
void append_canonical_record(std::string& out, const EventRecord& record);

// Writes stored values. Reuses one SHA-256 context; one encoder per thread.
class RecordEncoder {
 public:
  // Replaces `out` with the stored value of `record` and sets `record.hash`. The caller has
  // already set position, prev_hash and the other fields; `data` must be a JSON object.
  void encode(EventRecord& record, std::string& out);

 private:
  Sha256 sha_;
};

// Reads stored values: canonical ones by hand, others with simdjson On-Demand (one reused parser
// and one reused padded buffer). One decoder per thread. Anything but the eleven fields in canonical order is corruption.
class RecordDecoder {
 public:
  RecordDecoder();
  ~RecordDecoder();
  RecordDecoder(const RecordDecoder&) = delete;
  RecordDecoder& operator=(const RecordDecoder&) = delete;

  // Parses `stored` into `out` (its strings are reused). The message of a corruption names
  // the field at fault; `out` is unspecified then. A record in the canonical layout is read by
  // hand (engine/canonical_record.h), anything else by the general JSON decoder.
  Status decode(std::string_view stored, EventRecord* out);

  // decode(), and whether `stored` is canonical (what is_canonical says), which costs nothing
  // more for a record read by hand.
  Status decode(std::string_view stored, EventRecord* out, bool* canonical);

  // decode() of the value stored under the event key of `position`: corruption names that
  // position, and a record of another position under it is corruption too.
  Status decode_at(uint64_t position, std::string_view stored, EventRecord* out);

  // The general decoder alone, simdjson On-Demand: what decode() falls back to. Unlike the hand
  // reader it also checks that `data` is balanced JSON. Exposed so the fuzzer can compare them.
  Status decode_json(std::string_view stored, EventRecord* out);

  // The hash `stored` must carry: SHA-256 over prev_hash, position and the canonical bytes,
  // hashed straight from the stored prefix (no copy). `stored` must end with the hash tail.
  Digest compute_hash(std::string_view stored, const Digest& prev_hash, uint64_t position);

  // True when `stored` is byte for byte what RecordEncoder writes for `decoded` (no stray
  // whitespace, the one escaping, integer forms). Hashes are over stored bytes, so a record
  // that decodes but is not canonical would hash differently for an auditor who re-encodes.
  bool is_canonical(std::string_view stored, const EventRecord& decoded);

 private:
  struct Parser;
  std::unique_ptr<Parser> parser_;
  Sha256 sha_;
  std::string scratch_;
};

// Fully validates that a `data` text is one JSON object, with no whitespace around it.
class JsonObjectChecker {
 public:
  JsonObjectChecker();
  ~JsonObjectChecker();
  JsonObjectChecker(const JsonObjectChecker&) = delete;
  JsonObjectChecker& operator=(const JsonObjectChecker&) = delete;

  // invalid_argument with the reason when `text` is not a single JSON object. Text in the
  // canonical subset is checked by hand (engine/canonical_json.h), anything else by check_json.
  Status check(std::string_view text);

  // The general check alone, simdjson's DOM parser; exposed so that tests can compare the two.
  Status check_json(std::string_view text);

 private:
  struct Parser;
  std::unique_ptr<Parser> parser_;
};

// JSON text is UTF-8: the text fields of a record must be valid UTF-8 or the record would not
// decode. (`data` is checked by JsonObjectChecker.)
bool is_valid_utf8(std::string_view text);

// Reads the hash field of a stored value from its fixed tail, without parsing the rest.
// nullopt when the tail is not `,"hash":"<64 lower-case hex>"}`.
std::optional<Digest> stored_hash_field(std::string_view stored);

}  // namespace tl
