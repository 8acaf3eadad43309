// The RFC 3339 parser (projections/time.h). Properties: what parses lies in the accepted range and
// formats to text that parses to the same instant (parse(format(t)) == t); every instant in the
// range formats to text that parses back to it.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "projections/time.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(bytes), size);
  if (const auto at = tl::parse_rfc3339(text)) {
    FUZZ_CHECK(*at >= tl::time_ms_min && *at <= tl::time_ms_max);
    FUZZ_CHECK(tl::parse_rfc3339(tl::format_rfc3339(*at)) == at);
  }
  if (size >= sizeof(uint64_t)) {
    uint64_t raw = 0;
    std::memcpy(&raw, bytes, sizeof raw);
    const tl::TimeMs at = static_cast<tl::TimeMs>(raw % static_cast<uint64_t>(tl::time_ms_max + 1));
    const std::string formatted = tl::format_rfc3339(at);
    FUZZ_CHECK(tl::parse_rfc3339(formatted) == at);
  }
  return 0;
}
