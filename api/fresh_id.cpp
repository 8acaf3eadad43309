#include "api/fresh_id.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <cassert>
#include <cstdlib>

namespace tl::api {
namespace {

static_assert(fresh_id_alphabet.size() == 32);  // 5 bits per character

// Appends `count` characters of OpenSSL's generator. It is fetched a few kilobytes at a time per
// thread: one RAND_bytes call per id (two per request) cost its fork check and locking each time,
// a few percent of an I/O thread.
void append_random_chars(std::string& id, size_t count) {
  constexpr size_t random_bytes_per_fetch = 4096;
  thread_local unsigned char pool[random_bytes_per_fetch];
  thread_local size_t used = random_bytes_per_fetch;
  assert(count <= random_bytes_per_fetch);
  if (used + count > random_bytes_per_fetch) {
    if (RAND_bytes(pool, sizeof pool) != 1) std::abort();  // no randomness: nothing safe to do
    used = 0;
  }
  for (size_t i = 0; i < count; ++i) id.push_back(fresh_id_alphabet[pool[used + i] & 31]);
  OPENSSL_cleanse(pool + used, count);  // what made an id is not kept around
  used += count;
}

}  // namespace

std::string random_id(std::string_view prefix) {
  std::string id;
  id.reserve(prefix.size() + fresh_id_chars);
  id.append(prefix);
  append_random_chars(id, fresh_id_chars);
  return id;
}

std::string time_ordered_id(std::string_view prefix, uint64_t unix_ms) {
  constexpr unsigned time_bits = 5 * fresh_id_time_chars;
  unix_ms &= (uint64_t{1} << time_bits) - 1;  // wraps in the year 37,648; order is only a speed-up
  std::string id;
  id.reserve(prefix.size() + fresh_id_chars);
  id.append(prefix);
  for (unsigned shift = time_bits; shift > 0; shift -= 5) {
    id.push_back(fresh_id_alphabet[(unix_ms >> (shift - 5)) & 31]);
  }
  append_random_chars(id, fresh_id_chars - fresh_id_time_chars);
  return id;
}

}  // namespace tl::api
