#pragma once
// A canonical binary dump of the projections: the same state always gives the same bytes.
// Used for the state hash (two states compare equal iff their dumps do) and for checkpoints.
//
// Layout: a magic and format version, then each part in a fixed order; integers little-endian
// fixed width, strings length-prefixed; deques in log order; hash maps sorted by key.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "projections/state.h"

namespace tl {

// 2: bookings keep the amount their EscrowReleaseScheduled announced (scheduled_release_amount).
// 3: notifications are kept per role (students', then tutors').
constexpr uint32_t state_format_version = 3;

// Streams the dump to `sink` in pieces of at most about `piece_bytes_max`.
void write_state(const State& state, const std::function<void(std::string_view)>& sink);
std::string dump_state(const State& state);

// The format version a dump was written in, or nothing when `bytes` does not start like a dump.
// Lets a reader tell a dump of an older version (expected after an upgrade) from a damaged one.
std::optional<uint32_t> state_dump_format(std::string_view bytes);

// Reads a dump back. Returns an empty string on success, else why the bytes are not a valid dump
// (and `out` is left empty).
std::string load_state(std::string_view bytes, State* out);

}  // namespace tl
