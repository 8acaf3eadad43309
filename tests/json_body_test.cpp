// The declarative JSON body reader, table-driven over good and bad bodies; every error names the
// member it is about.
#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/json_body.h"

namespace {

struct CreateBooking {
  std::string tutor_id;
  int64_t duration_minutes = 0;
  tl::Money price;
  std::optional<std::string> reason;
  std::optional<bool> urgent;
  std::optional<tl::Money> refund;
  std::optional<int64_t> stars;
};

tl::Status read(std::string_view body, CreateBooking& out) {
  return tl::read_json_body(body, {
                                      tl::json_field("tutor_id", out.tutor_id, 8),
                                      tl::json_field("duration_minutes", out.duration_minutes, 15, 240),
                                      tl::json_field("price", out.price, 1, 1'000'000'000'000),
                                      tl::json_field("reason", out.reason, 10),
                                      tl::json_field("urgent", out.urgent),
                                      tl::json_field("refund", out.refund, 0, 1'000'000'000'000),
                                      tl::json_field("stars", out.stars, 1, 5),
                                  });
}

const std::string good_members = R"("tutor_id":"t1","duration_minutes":60,"price":{"amount":35000,"currency":"ETB"})";

std::string with(std::string_view extra) { return "{" + good_members + "," + std::string(extra) + "}"; }

std::string nested_arrays(int levels) { return std::string(levels, '[') + std::string(levels, ']'); }

}  // namespace

TEST_CASE("GoodBodyFillsEveryDestination") {
  CreateBooking body;
  REQUIRE(read("{" + good_members + "}", body).is_ok());
  CHECK(body.tutor_id == "t1");
  CHECK(body.duration_minutes == 60);
  CHECK(body.price.amount == 35000);
  CHECK(body.price.currency.code() == "ETB");
  CHECK_FALSE(body.reason.has_value());
  CHECK_FALSE(body.urgent.has_value());
  CHECK_FALSE(body.refund.has_value());
  CHECK_FALSE(body.stars.has_value());
}

TEST_CASE("OptionalMembersAreReadWhenPresentAndNullMeansAbsent") {
  CreateBooking body;
  body.reason = "stale";  // must be reset by a read where it is absent
  REQUIRE(read(with(R"("reason":"late","urgent":true,"refund":{"currency":"JPY","amount":0},"stars":5)"), body).is_ok());
  CHECK(body.reason == "late");
  CHECK(body.urgent == true);
  REQUIRE(body.refund.has_value());
  CHECK(body.refund->amount == 0);
  CHECK(body.refund->currency.code() == "JPY");
  CHECK(body.stars == 5);
  REQUIRE(read(with(R"("reason":null,"urgent":null,"refund":null,"stars":null)"), body).is_ok());
  CHECK_FALSE(body.reason.has_value());
  CHECK_FALSE(body.urgent.has_value());
  CHECK_FALSE(body.refund.has_value());
  CHECK_FALSE(body.stars.has_value());
}

TEST_CASE("GoodBodiesThatLookUnusual") {
  const std::string good_bodies[] = {
      " \n{" + good_members + "}\n ",                                   // whitespace around
      R"({"tut\u006fr_id":"t1","duration_minutes":60,"price":{"amount":35000,"currency":"ETB"}})",  // escaped key
      with(R"("unknown":{"a":[1,2.5,-3e10,true,false,null,"x\n"]})"),   // unknown members of every kind
      with(R"("big":123456789012345678901234567890)"),                  // valid JSON, beyond int64, ignored
      with(R"("unknown":1,"unknown":2)"),                                // repeated unknown: ignored
      with(R"("deep":)" + nested_arrays(15)),                           // depth 16 exactly
      with(R"("reason":"caf\u00e9 \u00e9")"),                           // 8 bytes of UTF-8
      with(R"("duration_minutes_x":-0)"),
  };
  for (const std::string& text : good_bodies) {
    CAPTURE(text);
    CreateBooking body;
    const tl::Status status = read(text, body);
    CHECK_MESSAGE(status.is_ok(), status.message());
    CHECK(body.tutor_id == "t1");
  }
}

TEST_CASE("EmptyBodyReadsAsAnEmptyObject") {
  std::optional<std::string> reason = "x";
  CHECK(tl::read_json_body("", {tl::json_field("reason", reason, 100)}).is_ok());
  CHECK_FALSE(reason.has_value());
  std::string required;
  CHECK(tl::read_json_body("", {tl::json_field("reason", required, 100)}).message() == "field 'reason' is required");
}

TEST_CASE("BadBodiesAreRefusedWithAMessageNamingTheMember") {
  struct Case {
    std::string body;
    std::string message;  // exact
  };
  const std::string price = R"("price":{"amount":35000,"currency":"ETB"})";
  const std::string tutor = R"("tutor_id":"t1","duration_minutes":60)";
  const std::vector<Case> cases = {
      // Not JSON, or not an object.
      {"{", "body is not valid JSON"},
      {"{\"tutor_id\":\"t1\",}", "body is not valid JSON"},
      {"{\"tutor_id\" \"t1\"}", "body is not valid JSON"},
      {"   ", "body is not valid JSON"},
      {"{\"tutor_id\":\"t\xff\"}", "body is not valid UTF-8"},
      {"[]", "body must be a JSON object"},
      {"\"text\"", "body must be a JSON object"},
      {"null", "body must be a JSON object"},
      {"{" + good_members + "}}", "body has content after the JSON object"},
      {"{" + good_members + "} {}", "body has content after the JSON object"},
      {"{" + good_members + "} x", "body is not valid JSON"},
      // Missing and duplicate members.
      {"{}", "field 'tutor_id' is required"},
      {"{" + tutor + "}", "field 'price' is required"},
      {R"({"tutor_id":"t1",)" + price + "}", "field 'duration_minutes' is required"},
      {with(R"("tutor_id":"t2")"), "field 'tutor_id' appears more than once"},
      {with(R"("reason":null,"reason":"x")"), "field 'reason' appears more than once"},
      // Wrong types.
      {R"({"tutor_id":5})", "field 'tutor_id' must be a string"},
      {R"({"tutor_id":null})", "field 'tutor_id' must be a string, not null"},
      {R"({"tutor_id":"t1","duration_minutes":"60"})", "field 'duration_minutes' must be an integer"},
      {R"({"tutor_id":"t1","duration_minutes":null})", "field 'duration_minutes' must be an integer, not null"},
      {with(R"("urgent":"yes")"), "field 'urgent' must be true or false"},
      {with(R"("urgent":1)"), "field 'urgent' must be true or false"},
      // Numbers that are not exact int64 integers.
      {R"({"tutor_id":"t1","duration_minutes":60.0})",
       "field 'duration_minutes' must be an integer without fraction or exponent, within 64 bits"},
      {R"({"tutor_id":"t1","duration_minutes":6e1})",
       "field 'duration_minutes' must be an integer without fraction or exponent, within 64 bits"},
      {with(R"("stars":-0.5)"), "field 'stars' must be an integer without fraction or exponent, within 64 bits"},
      {with(R"("stars":9223372036854775808)"),
       "field 'stars' must be an integer without fraction or exponent, within 64 bits"},
      {with(R"("stars":-9223372036854775809)"),
       "field 'stars' must be an integer without fraction or exponent, within 64 bits"},
      {with(R"("stars":01)"), "field 'stars' must be an integer without fraction or exponent, within 64 bits"},
      // Ranges.
      {R"({"tutor_id":"t1","duration_minutes":14})", "field 'duration_minutes' must be from 15 to 240"},
      {R"({"tutor_id":"t1","duration_minutes":241})", "field 'duration_minutes' must be from 15 to 240"},
      {with(R"("stars":0)"), "field 'stars' must be from 1 to 5"},
      // Strings.
      {R"({"tutor_id":"123456789"})", "field 'tutor_id' is longer than 8 bytes"},
      {R"({"tutor_id":"\u00e9\u00e9\u00e9\u00e9\u00e9"})", "field 'tutor_id' is longer than 8 bytes"},
      {R"({"tutor_id":"\ud800"})", "field 'tutor_id' is not a valid JSON string"},
      {R"({"tutor_id":"\q"})", "field 'tutor_id' is not a valid JSON string"},
      // Money objects.
      {"{" + tutor + R"(,"price":"350.00 ETB"})",
       R"(field 'price' must be a money object {"amount": integer, "currency": "ISO 4217 code"})"},
      {"{" + tutor + R"(,"price":{"amount":35000})", "field 'price.currency' is required"},
      {"{" + tutor + R"(,"price":{"currency":"ETB"})", "field 'price.amount' is required"},
      {"{" + tutor + R"(,"price":{"amount":0,"currency":"ETB"})", "field 'price.amount' must be from 1 to 1000000000000"},
      {"{" + tutor + R"(,"price":{"amount":"35000","currency":"ETB"})", "field 'price.amount' must be an integer"},
      {"{" + tutor + R"(,"price":{"amount":350.00,"currency":"ETB"})",
       "field 'price.amount' must be an integer without fraction or exponent, within 64 bits"},
      {"{" + tutor + R"(,"price":{"amount":1,"currency":"ZZZ"})",
       "field 'price.currency' must be a known ISO 4217 currency code"},
      {"{" + tutor + R"(,"price":{"amount":1,"currency":"etb"})",
       "field 'price.currency' must be a known ISO 4217 currency code"},
      {"{" + tutor + R"(,"price":{"amount":1,"currency":5})", "field 'price.currency' must be a string"},
      {"{" + tutor + R"(,"price":{"amount":1,"currency":"ETB","scale":2})", "field 'price' has an unknown member 'scale'"},
      {"{" + tutor + R"(,"price":{"amount":1,"amount":2,"currency":"ETB"})", "field 'price.amount' appears more than once"},
      {with(R"("refund":{"amount":-1,"currency":"ETB"})"), "field 'refund.amount' must be from 0 to 1000000000000"},
      // Unknown members must still be valid JSON, and not too deep.
      {with(R"("x":tru)"), "field 'x' is not valid JSON"},
      {with(R"("x":nul)"), "field 'x' is not valid JSON"},
      {with(R"("x":[1,)"), "field 'x' is not valid JSON"},
      {with(R"("x":"\q")"), "field 'x' is not valid JSON"},
      {with(R"("x":-)"), "field 'x' is not valid JSON"},
      {with(R"("deep":)" + nested_arrays(16)), "field 'deep' is nested deeper than 16 levels"},
      {with(R"("deep":{"a":{"b":)" + nested_arrays(14) + "}}"), "field 'deep' is nested deeper than 16 levels"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.body);
    CreateBooking body;
    const tl::Status status = read(c.body, body);
    CHECK(status.code() == tl::Status::Code::invalid_argument);
    CHECK(status.message() == c.message);
  }
}

TEST_CASE("ClientKeysEchoedInMessagesAreBounded") {
  tl::Money price;
  const std::string key(200, 'k');
  const tl::Status status =
      tl::read_json_body(R"({"price":{"amount":1,"currency":"ETB",")" + key + R"(":1}})", {tl::json_field("price", price)});
  CHECK(status.message() == "field 'price' has an unknown member '" + std::string(64, 'k') + "'");
}

TEST_CASE("BodyOverTheParserLimitIsRefused") {
  std::optional<std::string> reason;
  const std::string huge = R"({"x":")" + std::string(tl::json_body_bytes_max, 'a') + R"("})";
  CHECK(tl::read_json_body(huge, {tl::json_field("reason", reason, 10)}).message().find("larger than") != std::string::npos);
}

TEST_CASE("ReadersOnSeveralThreadsDoNotShareAParser") {
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (size_t t = 0; t < failures.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        CreateBooking body;
        const std::string tutor = "t" + std::to_string(t);
        const tl::Status status =
            read(R"({"tutor_id":")" + tutor + R"(","duration_minutes":)" + std::to_string(15 + i % 200) +
                     R"(,"price":{"amount":1,"currency":"ETB"}})",
                 body);
        if (!status.is_ok() || body.tutor_id != tutor || body.duration_minutes != 15 + i % 200) ++failures[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int failed : failures) CHECK(failed == 0);
}
