#include "api/cli_args.h"

#include <algorithm>
#include <cassert>
#include <charconv>

namespace tl::cli {

bool ParsedArgs::has(std::string_view name) const {
  return std::any_of(options_.begin(), options_.end(), [name](const auto& option) { return option.first == name; });
}

std::optional<std::string_view> ParsedArgs::value(std::string_view name) const {
  for (const auto& [option_name, option_value] : options_) {
    if (option_name == name) return option_value;
  }
  return std::nullopt;
}

struct ArgsParser {
  static ArgsResult parse(Args args, std::span<const OptionSpec> specs) {
    ArgsResult result;
    const auto fail = [&result](std::string message) {
      result.error = std::move(message);
      result.args = ParsedArgs{};
      return result;
    };
    if (args.size() > args_count_max) return fail("too many arguments");
    bool only_positionals = false;
    for (size_t i = 0; i < args.size(); ++i) {
      const std::string_view arg = args[i];
      if (only_positionals || arg == "-" || !arg.starts_with('-')) {
        result.args.positionals_.push_back(arg);
        continue;
      }
      if (arg == "--") {
        only_positionals = true;
        continue;
      }
      if (!arg.starts_with("--")) return fail("unknown option '" + std::string(arg) + "'");
      const size_t equals = arg.find('=');
      const std::string_view name = arg.substr(2, equals == std::string_view::npos ? arg.npos : equals - 2);
      const auto spec =
          std::find_if(specs.begin(), specs.end(), [name](const OptionSpec& s) { return s.name == name; });
      if (spec == specs.end()) return fail("unknown option '--" + std::string(name) + "'");
      if (result.args.has(spec->name)) return fail("option '--" + std::string(name) + "' is given twice");
      std::optional<std::string_view> value;
      if (equals != std::string_view::npos) {
        if (!spec->takes_value) return fail("option '--" + std::string(name) + "' takes no value");
        value = arg.substr(equals + 1);
      } else if (spec->takes_value) {
        // A following "--x" is another option, not a value: `--sub --role tutor` is a mistake.
        if (i + 1 >= args.size() || args[i + 1].starts_with("--")) {
          return fail("option '--" + std::string(name) + "' needs a value");
        }
        value = args[++i];
      }
      result.args.options_.emplace_back(spec->name, value);
    }
    assert(result.ok());
    return result;
  }
};

ArgsResult parse_args(Args args, std::span<const OptionSpec> specs) { return ArgsParser::parse(args, specs); }

std::optional<int64_t> parse_whole_number(std::string_view text, int64_t min, int64_t max) {
  assert(0 <= min && min <= max);
  if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;  // out of range
  if (value < min || value > max) return std::nullopt;
  return value;
}

}  // namespace tl::cli
