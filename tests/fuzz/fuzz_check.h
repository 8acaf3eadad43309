#pragma once
// A property check inside a fuzz target: a violated property aborts with a message, which
// libFuzzer reports as a crash and saves the input that caused it. (assert() would vanish under
// NDEBUG; the properties must hold in every build.)
#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition)                                                                  \
  do {                                                                                         \
    if (!(condition)) {                                                                        \
      std::fprintf(stderr, "%s:%d: property violated: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                            \
    }                                                                                          \
  } while (false)
