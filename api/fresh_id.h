#pragma once
// Fresh ids for what the API creates: bookings, withdrawals and command ids.
#include <cstdint>
#include <string>
#include <string_view>

namespace tl::api {

// Both kinds are the prefix and 20 characters of `fresh_id_alphabet`, which is in ASCII order.
constexpr std::string_view fresh_id_alphabet = "234567abcdefghijklmnopqrstuvwxyz";
constexpr size_t fresh_id_chars = 20;
constexpr size_t fresh_id_time_chars = 10;  // 50 bits of milliseconds: until the year 37,000

// prefix + 20 random characters (100 bits) from OpenSSL's RNG.
std::string random_id(std::string_view prefix);

// prefix + `unix_ms` in 10 characters, most significant first, + 10 random characters (50 bits).
// Ids made later sort later, byte for byte. A booking id names its stream, so each new booking's
// index key (`s` + stream) then lands next to the previous one in RocksDB's memtable, where the
// writer's insert hint finds its place at once, instead of at a random place that costs a full
// skip-list search on the single writer. Nothing relies on the order for correctness: ids are
// never compared by time, and a clock that steps back only costs that search again.
std::string time_ordered_id(std::string_view prefix, uint64_t unix_ms);

}  // namespace tl::api
