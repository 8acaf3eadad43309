#pragma once
// Who acts: a student, a tutor, an admin (each with a user id) or the system (timers, webhooks).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tl {

enum class Role : uint8_t { student, tutor, admin, system };

struct Actor {
  Role role = Role::system;
  std::string id;  // empty for the system
  friend bool operator==(const Actor&, const Actor&) = default;
};

constexpr size_t user_id_bytes_max = 64;

// A user id (JWT `sub`): 1 to 64 of [A-Za-z0-9_-].
bool valid_user_id(std::string_view id);
// Ids the system makes (bookings, withdrawals) follow the same rule.
inline bool valid_entity_id(std::string_view id) { return valid_user_id(id); }

std::string_view role_name(Role role);
// The role as a message names it: "a student", "a tutor", "an admin", "the system".
std::string_view role_with_article(Role role);
// "student" | "tutor" | "admin"; the system is not a role a token can carry.
std::optional<Role> parse_user_role(std::string_view name);

// "student:s1", "tutor:t1", "admin:a1", "system".
std::string actor_text(const Actor& actor);
std::optional<Actor> parse_actor(std::string_view text);

inline Actor system_actor() { return Actor{Role::system, {}}; }

}  // namespace tl
