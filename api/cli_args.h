#pragma once
// A small command-line parser shared by the subcommands (token, serve, replay, export, ...).
// Options are long only: `--name value` or `--name=value`; flags are `--name`. Anything not
// starting with "--" is a positional, and after a bare `--` everything is. Unknown options,
// a missing value, a value given to a flag, and an option given twice are errors.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/cli.h"

namespace tl::cli {

constexpr size_t args_count_max = 256;

struct OptionSpec {
  std::string_view name;  // without the leading "--"
  bool takes_value = false;
};

// What was given. Views point into the argument strings and the specs: keep those alive.
class ParsedArgs {
 public:
  bool has(std::string_view name) const;
  // The option's value; nullopt when it was not given (or is a flag).
  std::optional<std::string_view> value(std::string_view name) const;
  std::span<const std::string_view> positionals() const { return positionals_; }

 private:
  friend struct ArgsParser;
  std::vector<std::pair<std::string_view, std::optional<std::string_view>>> options_;
  std::vector<std::string_view> positionals_;
};

struct ArgsResult {
  ParsedArgs args;
  std::string error;  // one line for humans; empty on success
  bool ok() const { return error.empty(); }
};

ArgsResult parse_args(Args args, std::span<const OptionSpec> specs);

// An option's number: decimal digits only (no sign, spaces or fraction: "3x" and "+3" are
// refused), from `min` to `max`; nullopt otherwise. 0 <= min <= max.
std::optional<int64_t> parse_whole_number(std::string_view text, int64_t min, int64_t max);

}  // namespace tl::cli
