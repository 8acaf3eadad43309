#pragma once
// The `rtc` member of session start and join answers, as stored and as sent.
//
// API.md: a request repeated with its Idempotency-Key gets the first answer again, body and all;
// and a token is a secret that is never stored. So the stored answer keeps only how its token
// was made, `"rtc":{"issue_ts":N,"salt":S}` (or `"rtc":null` without credentials), and each time
// the answer is sent that member becomes the credentials, made again from the same issue: the
// same token, the same expiry, byte for byte.
#include <optional>
#include <string>
#include <string_view>

#include "api/agora_token.h"
#include "api/rtc_field.h"

namespace tl::agora {

// What start/join make of their `rtc` before the command is submitted, on an I/O thread.
struct RtcAnswer {
  std::optional<TokenIssue> issue;  // nullopt: the answer carries "rtc":null
  std::string json;                 // the credentials made from `issue`, or "null"
};

// A new issue and its credentials; "null" without credentials, or when no token can be made
// (the random generator failed, or Agora does not allow the account's characters).
RtcAnswer new_rtc_answer(const std::optional<AgoraCredentials>& credentials, const RtcGrant& grant);

// `{"booking":{...}}` with the stored member added: `{"booking":{...},"rtc":{...}}`.
std::string with_stored_rtc(std::string body, const std::optional<TokenIssue>& issue);

// The stored answer as it is sent: its stored member replaced by `fresh.json` when it holds
// fresh's issue (the first answer), else by credentials made again from the stored issue (a
// replayed answer). An answer stored before the member existed gets fresh's credentials added.
std::string sent_rtc_answer(std::string stored_body, const std::optional<AgoraCredentials>& credentials,
                            const RtcGrant& grant, const RtcAnswer& fresh);

}  // namespace tl::agora
