#pragma once
// The query string of a request (`limit=5&cursor=abc`), parsed once into decoded pairs.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/status.h"

namespace tl {

constexpr size_t query_bytes_max_default = 2048;
constexpr size_t query_params_max = 32;

class QueryParams {
 public:
  // The decoded value of `name`, or nullopt when absent. `name` is compared after decoding.
  std::optional<std::string_view> get(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }
  size_t size() const { return entries_.size(); }

  // Reads an optional integer parameter: when absent, `out` is left as it is (the default);
  // when present it must be a plain decimal integer in [min, max] or the result is
  // invalid_argument naming the parameter, e.g. "query parameter 'limit' must be an integer
  // from 1 to 200".
  Status read_int64(std::string_view name, int64_t& out, int64_t min, int64_t max) const;

 private:
  friend Status parse_query(std::string_view raw, QueryParams& out, size_t query_bytes_max);
  std::vector<std::pair<std::string, std::string>> entries_;
};

// Parses `raw` (without the '?'): pairs separated by '&', key and value by the first '=', both
// percent-decoded with '+' as a space; a key without '=' has an empty value; empty pairs ("a=1&&b=2")
// are skipped. Errors (invalid_argument, message for the client): longer than `query_bytes_max`,
// more than query_params_max pairs, an empty key, a malformed escape, invalid UTF-8 or a control
// character, and a repeated key ("query parameter 'limit' is repeated"), since which one would win
// is a guess.
Status parse_query(std::string_view raw, QueryParams& out, size_t query_bytes_max = query_bytes_max_default);

}  // namespace tl
