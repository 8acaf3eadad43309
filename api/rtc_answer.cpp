#include "api/rtc_answer.h"

#include <cassert>
#include <charconv>
#include <utility>

#include <fmt/format.h>

namespace tl::agora {
namespace {

constexpr std::string_view member_key = ",\"rtc\":";

// Reads `{"issue_ts":N,"salt":S}` exactly as stored_member writes it; nullopt otherwise.
std::optional<TokenIssue> parse_stored_issue(std::string_view text) {
  TokenIssue issue;
  const auto read_field = [&text](std::string_view prefix, uint32_t* value) {
    if (!text.starts_with(prefix)) return false;
    text.remove_prefix(prefix.size());
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *value);
    if (error != std::errc() || end == text.data()) return false;
    text.remove_prefix(static_cast<size_t>(end - text.data()));
    return true;
  };
  if (!read_field("{\"issue_ts\":", &issue.issue_ts) || !read_field(",\"salt\":", &issue.salt) || text != "}") {
    return std::nullopt;
  }
  return issue;
}

std::string stored_member(const std::optional<TokenIssue>& issue) {
  if (!issue) return "null";
  return fmt::format("{{\"issue_ts\":{},\"salt\":{}}}", issue->issue_ts, issue->salt);
}

// `{"booking":{...}}` with `,"rtc":<value>` added as its last member.
std::string with_rtc_member(std::string body, std::string_view value) {
  assert(!body.empty() && body.back() == '}');
  body.pop_back();
  body += member_key;
  body += value;
  body += '}';
  return body;
}

}  // namespace

RtcAnswer new_rtc_answer(const std::optional<AgoraCredentials>& credentials, const RtcGrant& grant) {
  if (!credentials) return RtcAnswer{std::nullopt, "null"};
  const std::optional<TokenIssue> issue = new_token_issue();
  if (!issue) return RtcAnswer{std::nullopt, "null"};
  std::optional<std::string> json = render_rtc_json(credentials, grant, issue->issue_ts, issue->salt);
  if (!json) return RtcAnswer{std::nullopt, "null"};
  return RtcAnswer{issue, std::move(*json)};
}

std::string with_stored_rtc(std::string body, const std::optional<TokenIssue>& issue) {
  return with_rtc_member(std::move(body), stored_member(issue));
}

std::string sent_rtc_answer(std::string stored_body, const std::optional<AgoraCredentials>& credentials,
                            const RtcGrant& grant, const RtcAnswer& fresh) {
  if (stored_body.empty() || stored_body.back() != '}') return stored_body;
  // The member is the answer's last; a `"` inside a JSON string is escaped, so no text of the
  // booking can hold the key.
  const size_t key_at = stored_body.rfind(member_key);
  if (key_at == std::string::npos) {  // stored before answers kept the member: fresh credentials
    return with_rtc_member(std::move(stored_body), fresh.json);
  }
  const size_t value_at = key_at + member_key.size();
  const std::string_view value = std::string_view(stored_body).substr(value_at, stored_body.size() - 1 - value_at);
  if (value == "null") return stored_body;
  std::string json;
  if (const auto stored_issue = parse_stored_issue(value); !stored_issue) {
    assert(false && "a stored start/join answer holds an rtc member it did not write");
    json = "null";
  } else if (fresh.issue && *stored_issue == *fresh.issue) {
    json = fresh.json;
  } else {
    // A replayed answer: the token made again costs tens of microseconds on the writer thread,
    // for a retry only.
    json = render_rtc_json(credentials, grant, stored_issue->issue_ts, stored_issue->salt).value_or("null");
  }
  stored_body.replace(value_at, value.size(), json);
  return stored_body;
}

}  // namespace tl::agora
