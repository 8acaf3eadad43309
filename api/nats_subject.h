#pragma once
// Where one stored event goes in NATS JetStream: subject `<prefix>.<stream type>`, the stream
// type being the stream name before its first '-' ("booking", "tutor"). The position and the
// stream are read from the front of the stored value without decoding the rest: the canonical
// encoding always starts {"position":P,"stream":"S", (engine/record_codec.h).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tl {

constexpr std::string_view nats_subject_prefix_default = "tl.events";

struct StoredRecordFront {
  uint64_t position = 0;
  std::string_view stream;  // points into the stored value
};

// nullopt when `stored` does not start that way, or the stream name holds a JSON escape (then
// decode the whole record instead).
std::optional<StoredRecordFront> read_stored_record_front(std::string_view stored);

// The subject token of a stream: its type, with every character a subject token may not hold
// ('.', '*', '>', white space, control characters) replaced by '_'; "_" when the type is empty.
std::string stream_type_token(std::string_view stream);

// "<prefix>.<stream type token>", e.g. "tl.events.booking" for "booking-bk_1".
std::string event_subject(std::string_view prefix, std::string_view stream);

// "<prefix>.>": every event subject, what the stream and the replica's consumer take.
std::string all_events_subject(std::string_view prefix);

}  // namespace tl
