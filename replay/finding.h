#pragma once
// What an audit command found wrong, and where: the first bad position of the log and a sentence
// about it. Every replay command reports its damage in this one shape.
#include <cstdint>
#include <string>

namespace tl::replay {

// A problem found at a position of the log; position 0 means none.
struct Finding {
  uint64_t position = 0;
  std::string problem;
  bool found() const { return position != 0; }
  static Finding none() { return {}; }
};

}  // namespace tl::replay
