// The stored-record decoder (engine/record_codec.h) on arbitrary bytes: what the log reads back
// from disk. Properties: a value that decodes re-encodes to a value that decodes to the same
// record (decode(encode(r)) == r) and is canonical; a canonical value whose hash field is right
// re-encodes byte for byte. The hand reader of canonical records agrees with the JSON decoder on
// every value both read, and reads only values the encoder would write; the hand validator of
// canonical JSON accepts only what simdjson's DOM parser accepts.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/canonical_json.h"
#include "engine/canonical_record.h"
#include "engine/record_codec.h"
#include "fuzz_check.h"

namespace {

bool same_record(const tl::EventRecord& a, const tl::EventRecord& b) {
  return a.position == b.position && a.stream == b.stream && a.version == b.version && a.type == b.type &&
         a.schema == b.schema && a.at == b.at && a.actor == b.actor && a.command_id == b.command_id &&
         a.data == b.data && a.prev_hash == b.prev_hash && a.hash == b.hash;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  static tl::RecordDecoder decoder;
  static tl::RecordDecoder second_decoder;
  static tl::RecordEncoder encoder;
  static tl::JsonObjectChecker json_checker;
  const std::string_view stored(reinterpret_cast<const char*>(bytes), size);
  (void)tl::stored_hash_field(stored);
  // What the hand validator of canonical JSON accepts, the general parser accepts too.
  if (tl::is_canonical_json_object(stored)) FUZZ_CHECK(json_checker.check_json(stored).is_ok());

  tl::EventRecord by_hand;
  tl::EventRecord by_json;
  const bool hand_read = tl::parse_canonical_record(stored, &by_hand);
  const bool json_read = decoder.decode_json(stored, &by_json).is_ok();
  if (hand_read) {
    // The JSON decoder also checks that data is balanced JSON, which the hand reader leaves to
    // the data's readers; otherwise they must agree, and the value must be canonical.
    if (json_read) FUZZ_CHECK(same_record(by_hand, by_json));
    tl::EventRecord reencoded = by_hand;
    std::string encoded;
    encoder.encode(reencoded, encoded);
    if (reencoded.hash == by_hand.hash) FUZZ_CHECK(encoded == stored);
  }

  tl::EventRecord record;
  bool canonical = false;
  if (!decoder.decode(stored, &record, &canonical).is_ok()) return 0;
  FUZZ_CHECK(canonical == decoder.is_canonical(stored, record));
  if (stored.size() >= tl::stored_hash_tail_bytes) {
    (void)decoder.compute_hash(stored, record.prev_hash, record.position);
  }

  tl::EventRecord reencoded = record;
  std::string encoded;
  encoder.encode(reencoded, encoded);  // sets reencoded.hash to the true hash
  tl::EventRecord decoded;
  FUZZ_CHECK(second_decoder.decode(encoded, &decoded).is_ok());
  FUZZ_CHECK(same_record(decoded, reencoded));
  FUZZ_CHECK(second_decoder.is_canonical(encoded, decoded));
  FUZZ_CHECK(second_decoder.compute_hash(encoded, decoded.prev_hash, decoded.position) == reencoded.hash);
  if (canonical && record.hash == reencoded.hash) FUZZ_CHECK(encoded == stored);
  return 0;
}
