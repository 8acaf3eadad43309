// The request checks Beast leaves to the server (api/request_framing.h): Host values, transfer
// codings, Connection options and absolute-form targets, as RFC 9112 and RFC 3986 define them.
#include "api/request_framing.h"

#include <doctest/doctest.h>

using namespace tl::framing;

TEST_CASE("TargetsAreVisibleAsciiWithoutAFragment") {
  CHECK(is_target_text("/api/bookings?limit=2&cursor=b12"));
  CHECK(is_target_text("http://example.com/%2F~x"));
  for (const char* bad : {"/hello#top", "/h\xc3\xa9llo", "/a b", "/a\x7f", "/a\tb"}) {
    CAPTURE(bad);
    CHECK_FALSE(is_target_text(bad));
  }
}

TEST_CASE("HostIsAHostWithAnOptionalPort") {
  for (const char* good : {"", "t", "127.0.0.1", "127.0.0.1:8080", "api.example.com:443", "[::1]", "[::1]:8080",
                           "[v1.fe80::a+en1]", "a%41b", "host:", "x_y-z~.!$&'()*+,;="}) {
    CAPTURE(good);
    CHECK(is_valid_host(good));
  }
  for (const char* bad : {"x/y", "user@x", "x:abc", "x:80:80", "[::1", "[]", "[::1]x", "[::1]:a", "exa mple", "a%4",
                          "a%zz", "x\"y", "x?y", "x#y"}) {
    CAPTURE(bad);
    CHECK_FALSE(is_valid_host(bad));
  }
}

TEST_CASE("TransferCodingsAreChunkedAloneOrRefused") {
  CHECK(check_transfer_codings({"chunked"}).verdict == TransferCodings::chunked);
  CHECK(check_transfer_codings({"Chunked"}).verdict == TransferCodings::chunked);
  CHECK(check_transfer_codings({" chunked , "}).verdict == TransferCodings::chunked);  // empty list elements
  for (const std::vector<std::string_view>& lines : std::vector<std::vector<std::string_view>>{
           {"gzip"}, {"chunked, gzip"}, {"chunked, chunked"}, {"chunked", "chunked"}, {""}, {"xchunked"}}) {
    CHECK(check_transfer_codings(lines).verdict == TransferCodings::chunked_not_last);
  }
  const auto gzip = check_transfer_codings({"gzip, chunked"});
  CHECK(gzip.verdict == TransferCodings::unsupported);
  CHECK(gzip.unsupported == "gzip");
  const auto two_lines = check_transfer_codings({"deflate;q=1", "chunked"});
  CHECK(two_lines.verdict == TransferCodings::unsupported);
  CHECK(two_lines.unsupported == "deflate");
}

TEST_CASE("CloseInAnyConnectionLineCloses") {
  CHECK(asks_to_close({"close"}));
  CHECK(asks_to_close({"keep-alive, Close"}));
  CHECK(asks_to_close({"keep-alive", "close"}));
  CHECK_FALSE(asks_to_close({"keep-alive"}));
  CHECK_FALSE(asks_to_close({"closed, upgrade"}));
  CHECK_FALSE(asks_to_close({}));
}

TEST_CASE("AbsoluteFormTargetsGiveTheirOriginForm") {
  CHECK(origin_form_of_absolute("http://example.com/api/bookings?limit=2") == "/api/bookings?limit=2");
  CHECK(origin_form_of_absolute("HTTPS://example.com:8443/healthz") == "/healthz");
  CHECK(origin_form_of_absolute("http://[::1]:8080/x") == "/x");
  CHECK(origin_form_of_absolute("http://example.com") == "/");
  CHECK_FALSE(origin_form_of_absolute("/healthz"));
  CHECK_FALSE(origin_form_of_absolute("ftp://example.com/x"));
  CHECK_FALSE(origin_form_of_absolute("http://user@example.com/x"));  // user info
  CHECK_FALSE(origin_form_of_absolute("http:///x"));                  // no host
  CHECK_FALSE(origin_form_of_absolute("http://example.com?x=1"));     // a query without a path
  CHECK_FALSE(origin_form_of_absolute("http://exa mple.com/x"));
}
