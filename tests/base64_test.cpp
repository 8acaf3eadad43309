#include <doctest/doctest.h>

#include <string>

#include <openssl/evp.h>

#include "api/base64.h"

using namespace tl;

namespace {

// OpenSSL's encoder, as an independent reference for the standard alphabet.
std::string openssl_base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int size =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(size));
  return out;
}

}  // namespace

TEST_CASE("Rfc4648VectorsEncodeAndDecode") {
  const std::pair<std::string, std::string> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [bytes, text] : vectors) {
    CHECK(base64::encode_standard(bytes) == text);
    CHECK(base64::decode_standard(text) == bytes);
    std::string unpadded = text;
    while (!unpadded.empty() && unpadded.back() == '=') unpadded.pop_back();
    CHECK(base64::encode_url(bytes) == unpadded);
    CHECK(base64::decode_url(unpadded) == bytes);
  }
}

TEST_CASE("EveryByteValueRoundTripsAndMatchesOpenSsl") {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(255 - i);
  for (size_t size = 0; size <= bytes.size(); size += 7) {
    const std::string slice = bytes.substr(0, size);
    CHECK(base64::encode_standard(slice) == openssl_base64(slice));
    CHECK(base64::decode_standard(base64::encode_standard(slice)) == slice);
    CHECK(base64::decode_url(base64::encode_url(slice)) == slice);
  }
  // 0xFB 0xFF makes the digits that differ between the alphabets.
  CHECK(base64::encode_standard("\xfb\xff") == "+/8=");
  CHECK(base64::encode_url("\xfb\xff") == "-_8");
}

TEST_CASE("Base64urlRejectsPaddingForeignCharactersAndImpossibleLengths") {
  CHECK_FALSE(base64::decode_url("Zg=="));
  CHECK_FALSE(base64::decode_url("Zg="));
  CHECK_FALSE(base64::decode_url("+/8"));  // standard alphabet
  CHECK_FALSE(base64::decode_url("Zm9 v"));
  CHECK_FALSE(base64::decode_url("Zm9v\n"));
  CHECK_FALSE(base64::decode_url("Zm9vY"));  // 1 mod 4 cannot be bytes
  CHECK_FALSE(base64::decode_url(std::string("Zm\0v", 4)));
}

TEST_CASE("NonCanonicalTrailingBitsAreRejected") {
  // "f" is Zg; Zh has the same leading bits plus a non-zero tail.
  CHECK_FALSE(base64::decode_url("Zh"));
  CHECK_FALSE(base64::decode_url("Zm9"));  // "fo" is Zm8
  CHECK_FALSE(base64::decode_standard("Zh=="));
  CHECK_FALSE(base64::decode_standard("Zm9="));
}

TEST_CASE("StandardBase64RequiresExactPadding") {
  CHECK_FALSE(base64::decode_standard("Zg"));
  CHECK_FALSE(base64::decode_standard("Zg="));
  CHECK_FALSE(base64::decode_standard("Zm8=="));
  CHECK_FALSE(base64::decode_standard("Z==="));
  CHECK_FALSE(base64::decode_standard("===="));
  CHECK_FALSE(base64::decode_standard("Zg==Zg=="));
  CHECK_FALSE(base64::decode_standard("-_8="));  // url alphabet
}
