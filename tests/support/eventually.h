#pragma once
// Waits for something another thread or process does in its own time (a thread naming itself, a
// counter a session bumps after closing a socket, a replica catching up), with a deadline so that
// a test fails instead of hanging.
#include <functional>

namespace tl::test {

// Polls `condition` every 20 ms; false when it is still false after timeout_ms.
bool eventually(const std::function<bool()>& condition, int timeout_ms);

}  // namespace tl::test
