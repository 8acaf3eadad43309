#pragma once
// Names the calling thread as `top -H`, `perf` and gdb show it ("tl-writer", "tl-http-0"), so
// that a profile of the server tells the writer from the I/O threads.
#include <string_view>

namespace tl {

// Linux keeps at most 15 bytes of a name; longer names are cut there.
constexpr size_t thread_name_bytes_max = 15;

void name_this_thread(std::string_view name);

}  // namespace tl
