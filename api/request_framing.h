#pragma once
// Checks of a request's framing and addressing that Beast's parser leaves to the server
// (RFC 9112). Plain text in, verdicts out, so that they are tested without a socket.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tl::framing {

// Whether every byte of a request target is visible ASCII but '#' (a fragment is the client's own
// and never sent, RFC 9112 §3.2). Beast lets bytes above 0x7F through.
bool is_target_text(std::string_view target);

// A Host field value: uri-host [ ":" port ] (RFC 9112 §3.2, RFC 3986 §3.2.2), that is a
// registered name or IPv4 address (unreserved, pct-encoded and sub-delims characters), or an IP
// literal in brackets; no user info, no path. Empty is valid: a client sends an empty Host when
// the target has no authority.
bool is_valid_host(std::string_view value);

// The Transfer-Encoding field lines of a request, taken together (RFC 9112 §6.1, §6.3).
enum class TransferCodings {
  chunked,           // exactly one coding, chunked: the server reads it
  chunked_not_last,  // the body's length is unknown, or chunked twice: 400, and close
  unsupported,       // chunked last, but another coding too (gzip, …) that the server does not decode: 501
};
struct TransferCodingsCheck {
  TransferCodings verdict = TransferCodings::chunked;
  std::string unsupported;  // the first coding other than chunked, for the message
};
TransferCodingsCheck check_transfer_codings(const std::vector<std::string_view>& field_lines);

// Whether any Connection field line holds the option "close", in any case (RFC 9112 §9.6).
bool asks_to_close(const std::vector<std::string_view>& field_lines);

// The origin form ("/path?query") of an absolute-form target ("http://host:port/path?query",
// RFC 9112 §3.2.2, which a server must accept); "/" when it has no path. Nullopt when the
// target is not in absolute form with an http or https scheme, or its authority is not a valid
// host (user info included).
std::optional<std::string_view> origin_form_of_absolute(std::string_view target);

}  // namespace tl::framing
