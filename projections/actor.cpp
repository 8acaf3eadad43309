#include "projections/actor.h"

#include <algorithm>

namespace tl {

bool valid_user_id(std::string_view id) {
  if (id.empty() || id.size() > user_id_bytes_max) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

std::string_view role_name(Role role) {
  switch (role) {
    case Role::student: return "student";
    case Role::tutor: return "tutor";
    case Role::admin: return "admin";
    case Role::system: return "system";
  }
  return "system";
}

std::string_view role_with_article(Role role) {
  switch (role) {
    case Role::student: return "a student";
    case Role::tutor: return "a tutor";
    case Role::admin: return "an admin";
    case Role::system: return "the system";
  }
  return "the system";
}

std::optional<Role> parse_user_role(std::string_view name) {
  if (name == "student") return Role::student;
  if (name == "tutor") return Role::tutor;
  if (name == "admin") return Role::admin;
  return std::nullopt;
}

std::string actor_text(const Actor& actor) {
  if (actor.role == Role::system) return "system";
  std::string text(role_name(actor.role));
  text += ':';
  text += actor.id;
  return text;
}

std::optional<Actor> parse_actor(std::string_view text) {
  if (text == "system") return system_actor();
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const auto role = parse_user_role(text.substr(0, colon));
  const auto id = text.substr(colon + 1);
  if (!role || !valid_user_id(id)) return std::nullopt;
  return Actor{*role, std::string(id)};
}

}  // namespace tl
