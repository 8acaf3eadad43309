// Every error code of the contract, in its order of precedence, over HTTP.
#include <doctest/doctest.h>

#include <algorithm>
#include <latch>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "api/base64.h"
#include "api/hmac_sha256.h"
#include "support/api_fixture.h"

using namespace tl;
using namespace tl::test;

namespace {

const Actor s1 = student("s1");
const Actor s2 = student("s2");
const Actor t1 = tutor("t1");
const Actor t2 = tutor("t2");

std::string digest_bytes(const Digest& digest) { return std::string(reinterpret_cast<const char*>(digest.data()), digest.size()); }

std::string_view code_of(ApiFixture& api, const ClientResponse& r) {
  return std::string_view(api.json(r.body)["error"]["code"]);
}

// The ids of every page of a list, from `first` (a target with its query) following each
// next_cursor as `first` + "&cursor=...", at most `pages_max` pages.
std::vector<std::string> ids_of_all_pages(ApiFixture& api, const std::string& first, const Actor& as, int pages_max = 5) {
  std::vector<std::string> seen;
  std::string target = first;
  for (int page = 0; page < pages_max; ++page) {
    const auto r = api.call("GET", target, "", as);
    REQUIRE(r.status == 200);
    auto doc = api.json(r.body);
    for (auto item : doc["data"].get_array()) seen.emplace_back(std::string_view(item["id"]));
    if (doc["next_cursor"].is_null()) break;
    target = first + "&cursor=" + std::string(std::string_view(doc["next_cursor"]));
  }
  return seen;
}

const std::string good_booking = fmt::format(
    R"({{"tutor_id":"t1","subject":"Maths","scheduled_start":"{}","duration_minutes":60,"price":{{"amount":35000,"currency":"ETB"}}}})",
    format_rfc3339(example_start));

}  // namespace

TEST_CASE("MalformedBodiesAre400NamingTheField") {
  ApiFixture api;
  struct Case {
    std::string body;
    std::string names;
  };
  const std::vector<Case> cases = {
      {"{", ""},
      {"[]", ""},
      {good_booking + " trailing", ""},
      {R"({"tutor_id":7,"subject":"Maths","scheduled_start":"2026-11-24T10:00:00Z","duration_minutes":60,"price":{"amount":1,"currency":"ETB"}})", "tutor_id"},
      {R"({"subject":"Maths","scheduled_start":"2026-11-24T10:00:00Z","duration_minutes":60,"price":{"amount":1,"currency":"ETB"}})", "tutor_id"},
      {R"({"tutor_id":"t1","subject":"Maths","scheduled_start":"2026-11-24T10:00:00Z","duration_minutes":60.0,"price":{"amount":1,"currency":"ETB"}})", "duration_minutes"},
      {R"({"tutor_id":"t1","subject":"Maths","scheduled_start":"2026-11-24T10:00:00Z","duration_minutes":60,"price":{"amount":1e3,"currency":"ETB"}})", "price.amount"},
      {R"({"tutor_id":"t1","subject":"Maths","scheduled_start":"2026-11-24T10:00:00Z","duration_minutes":60,"price":{"amount":99999999999999999999,"currency":"ETB"}})", "price.amount"},
      {R"({"tutor_id":"t1","subject":"Maths","scheduled_start":"2026-11-24T10:00:00Z","duration_minutes":60,"price":{"amount":1,"currency":"XYZ"}})", "currency"},
      {R"({"tutor_id":"t1","subject":"Maths","scheduled_start":"tomorrow","duration_minutes":60,"price":{"amount":1,"currency":"ETB"}})", "scheduled_start"},
      {R"({"tutor_id":"t1","subject":"Maths","scheduled_start":"2026-11-24T10:00:00Z","duration_minutes":5,"price":{"amount":1,"currency":"ETB"}})", "duration_minutes"},
      {R"({"tutor_id":"t1","subject":"Maths","scheduled_start":"2026-11-24T10:00:00Z","duration_minutes":60,"price":{"amount":-1,"currency":"ETB"}})", "price.amount"},
      {R"({"tutor_id":"t1","subject":"Maths","scheduled_start":"2026-11-24T10:00:00Z","duration_minutes":60,"price":{"amount":1000000000001,"currency":"ETB"}})", "price.amount"},
      {R"({"tutor_id":"s1","subject":"Maths","scheduled_start":"2026-11-24T10:00:00Z","duration_minutes":60,"price":{"amount":1,"currency":"ETB"}})", "tutor_id"},
      {"{\"tutor_id\":\"t\xff\"}", ""},  // invalid UTF-8
  };
  for (const auto& c : cases) {
    CAPTURE(c.body);
    const auto r = api.call("POST", "/api/bookings", c.body, s1);
    CHECK(r.status == 400);
    CHECK(code_of(api, r) == "invalid_request");
    if (!c.names.empty()) CHECK(std::string_view(api.json(r.body)["error"]["message"]).find(c.names) != std::string_view::npos);
  }
  CHECK(api.engine->log().head().position == 0);  // nothing was appended
}

TEST_CASE("ABookingYearsAheadIs201") {
  // The contract's only rule on scheduled_start is that it lies in the future.
  ApiFixture api;
  const std::string far = format_rfc3339_seconds(example_start + 5 * 366 * ms_per_day);
  const auto r = api.call("POST", "/api/bookings",
                          fmt::format(R"({{"tutor_id":"t1","subject":"Maths","scheduled_start":"{}","duration_minutes":60,)"
                                      R"("price":{{"amount":35000,"currency":"ETB"}}}})",
                                      far),
                          s1);
  REQUIRE_MESSAGE(r.status == 201, r.body);
  CHECK(std::string_view(api.json(r.body)["scheduled_start"]) == far);
}

TEST_CASE("BadTokensAre401") {
  ApiFixture api;
  auto status_with = [&](const std::string& authorization) {
    return api.call("GET", "/api/bookings", "", std::nullopt, {{"Authorization", authorization}});
  };
  const auto without = api.call("GET", "/api/bookings");
  CHECK(without.status == 401);
  CHECK(without.header("WWW-Authenticate") == "Bearer");  // the scheme to use (RFC 9110, RFC 6750)
  CHECK(api.call("GET", "/api/nothing").header("WWW-Authenticate") == "Bearer");
  CHECK(status_with("Bearer not.a.jwt").header("WWW-Authenticate") == R"(Bearer error="invalid_token")");
  CHECK(status_with("Basic abc").status == 401);
  CHECK(status_with("Bearer not.a.jwt").status == 401);
  // Forged: signed with another secret.
  const int64_t exp = 4102444800;
  const std::string header = base64::encode_url(R"({"alg":"HS256","typ":"JWT"})");
  const std::string payload = base64::encode_url(fmt::format(R"({{"sub":"a1","role":"admin","exp":{}}})", exp));
  const std::string forged = header + "." + payload + "." + base64::encode_url(digest_bytes(hmac_sha256("wrong-secret", header + "." + payload)));
  CHECK(code_of(api, status_with("Bearer " + forged)) == "unauthorized");
  // alg none, with or without a signature.
  const std::string none = base64::encode_url(R"({"alg":"none","typ":"JWT"})") + "." + payload + ".";
  CHECK(status_with("Bearer " + none).status == 401);
  // Expired.
  CHECK(status_with("Bearer " + ApiFixture::token_for(s1, -10)).status == 401);
  // A valid one passes.
  CHECK(status_with("Bearer " + ApiFixture::token_for(s1)).status == 200);
  CHECK(status_with("bearer " + ApiFixture::token_for(s1)).status == 200);  // the scheme is case-insensitive
  CHECK(status_with("BEARER " + ApiFixture::token_for(s1)).status == 200);
  // Two Authorization lines, even two good ones, are a token problem: 401 (the contract's first
  // check), not the 400 of a repeated header the API reads.
  const std::string good = "Bearer " + ApiFixture::token_for(s1);
  const auto twice = api.call("GET", "/api/bookings", "", std::nullopt, {{"Authorization", good}, {"Authorization", good}});
  CHECK(twice.status == 401);
  CHECK(code_of(api, twice) == "unauthorized");
  const auto student_then_admin = api.call("GET", "/api/events", "", std::nullopt,
                                           {{"Authorization", good}, {"Authorization", "Bearer " + ApiFixture::token_for(admin())}});
  CHECK(student_then_admin.status == 401);
  // A route that needs no token does not read the header at all.
  CHECK(api.call("GET", "/healthz", "", std::nullopt, {{"Authorization", good}, {"Authorization", good}}).status == 200);
  CHECK(status_with("Basic " + ApiFixture::token_for(s1)).status == 401);
  CHECK(status_with("Bearer ").status == 401);
}

TEST_CASE("EveryRoleTryingEveryRouteItMustNotUseGets403BeforeAnythingElse") {
  ApiFixture api;
  const std::string id = api.create_booking(s1, "t1", example_start);
  struct Route {
    std::string method;
    std::string target;
    std::vector<Actor> forbidden;
  };
  const std::string b = "/api/bookings/" + id;
  const std::vector<Route> routes = {
      {"POST", "/api/bookings", {t1, admin()}},
      {"POST", b + "/accept", {s1, admin()}},
      {"POST", b + "/decline", {s1, admin()}},
      {"POST", b + "/cancel", {admin()}},
      {"POST", b + "/checkout", {t1, admin()}},
      {"POST", b + "/dispute", {t1, admin()}},
      {"POST", b + "/rating", {t1, admin()}},
      {"POST", "/api/admin/bookings/" + id + "/resolve", {s1, t1}},
      {"POST", "/api/sessions/" + id + "/start", {admin()}},
      {"POST", "/api/sessions/" + id + "/join", {admin()}},
      {"POST", "/api/sessions/" + id + "/end", {admin()}},
      {"GET", "/api/me/balance", {s1, admin()}},
      {"POST", "/api/me/withdrawals", {s1, admin()}},
      {"POST", "/api/admin/withdrawals/wd_x/complete", {s1, t1}},
      {"POST", "/api/admin/withdrawals/wd_x/fail", {s1, t1}},
      {"GET", "/api/events", {s1, t1}},
      {"GET", "/api/ledger/digest", {s1, t1}},
      {"POST", "/api/test/clock", {s1, t1}},
  };
  for (const auto& route : routes) {
    for (const auto& who : route.forbidden) {
      CAPTURE(route.method);
      CAPTURE(route.target);
      CAPTURE(actor_text(who));
      // A malformed body: the role check must win over the 400.
      const auto r = api.call(route.method, route.target, route.method == "POST" ? "{malformed" : "", who);
      CHECK(r.status == 403);
      CHECK(code_of(api, r) == "forbidden");
    }
  }
  CHECK(api.engine->log().head().position == 1);
}

TEST_CASE("AStrangerToABookingGets403AndNeverItsData") {
  ApiFixture api;
  const std::string id = api.create_booking(s1, "t1", example_start);
  for (const auto& [who, method, target] : std::vector<std::tuple<Actor, std::string, std::string>>{
           {s2, "GET", "/api/bookings/" + id},
           {t2, "GET", "/api/bookings/" + id},
           {s2, "GET", "/api/sessions/" + id + "/status"},
           {s2, "GET", "/api/bookings/" + id + "/events"},
           {t2, "POST", "/api/bookings/" + id + "/accept"},
           {s2, "POST", "/api/bookings/" + id + "/cancel"},
           {s2, "POST", "/api/sessions/" + id + "/start"},
       }) {
    CAPTURE(target);
    const auto r = api.call(method, target, "", who);
    CHECK(r.status == 403);
    CHECK(r.body.find("Maths") == std::string::npos);
    CHECK(r.body.find("35000") == std::string::npos);
  }
  // Admins may read it.
  CHECK(api.call("GET", "/api/bookings/" + id, "", admin()).status == 200);
  // A wrong id is 404 for anyone, before the party check.
  CHECK(api.call("GET", "/api/bookings/bk_nope", "", s2).status == 404);
  CHECK(code_of(api, api.call("POST", "/api/bookings/bk_nope/accept", "", t2)) == "not_found");
}

TEST_CASE("AUserIsARoleAndAnIdOnListsAndNotificationsToo") {
  // Tutor "bob" is booked; a student, or an admin, whose id is also "bob" is another user: the
  // lists and the notifications answer as the booking routes do (403 there), never with bob's data.
  ApiFixture api;
  const std::string id = api.create_booking(s1, "bob", example_start);
  const Actor student_bob = student("bob");
  const Actor admin_bob = admin("bob");
  CHECK(api.call("GET", "/api/bookings/" + id, "", student_bob).status == 403);
  CHECK(code_of(api, api.call("GET", "/api/bookings?role=tutor", "", student_bob)) == "forbidden");
  for (const Actor& other : {student_bob, admin_bob}) {
    CAPTURE(actor_text(other));
    const auto listed = api.call("GET", "/api/bookings", "", other);
    CHECK(listed.status == 200);
    CHECK(listed.body.find(id) == std::string::npos);
    const auto told = api.call("GET", "/api/me/notifications", "", other);
    CHECK(told.status == 200);
    CHECK(told.body == R"({"data":[],"next_cursor":null})");
  }
  // Tutor bob himself sees both.
  CHECK(api.call("GET", "/api/bookings", "", tutor("bob")).body.find(id) != std::string::npos);
  CHECK(api.call("GET", "/api/bookings?role=tutor", "", tutor("bob")).body.find(id) != std::string::npos);
  CHECK(api.call("GET", "/api/me/notifications", "", tutor("bob")).body.find("booking_requested") != std::string::npos);
}

TEST_CASE("NotFoundForUnknownRoutesBookingsAndWithdrawals") {
  ApiFixture api;
  CHECK(code_of(api, api.call("GET", "/api/nothing", "", s1)) == "not_found");
  CHECK(api.call("DELETE", "/api/bookings", "", s1).status == 404);
  CHECK(code_of(api, api.call("POST", "/api/admin/withdrawals/wd_nope/complete", "", admin())) == "not_found");
  CHECK(api.call("GET", "/api/sessions/bk_nope/status", "", s1).status == 404);
  // Every /api/ path needs a token, known or not (401 before 404); the webhook's path never does.
  CHECK(code_of(api, api.call("GET", "/api/nothing")) == "unauthorized");
  CHECK(api.call("DELETE", "/api/bookings").status == 401);
  CHECK(code_of(api, api.call("GET", "/api/payments/webhook")) == "not_found");
  CHECK(code_of(api, api.call("GET", "/nothing")) == "not_found");
}

TEST_CASE("AMalformedPathLosesToTheTokenAndRoleChecksAndALongIdIsNotFound") {
  // The contract's order: 401 -> 403 -> 400 -> 404, also when the 400 is the path's.
  ApiFixture api;
  CHECK(code_of(api, api.call("GET", "/api/bookings/%ZZ")) == "unauthorized");
  CHECK(code_of(api, api.call("GET", "/api/bookings/x%00")) == "unauthorized");
  CHECK(code_of(api, api.call("POST", "/api/admin/bookings/%ZZ/resolve", "", t1)) == "forbidden");
  const auto malformed = api.call("GET", "/api/bookings/%ZZ", "", s1);
  CHECK(malformed.status == 400);
  CHECK(malformed.body.find("the request path is malformed") != std::string::npos);
  CHECK(code_of(api, api.call("GET", "/api/nothing%ZZ", "", s1)) == "not_found");
  // Longer than any path a route takes: no such booking, not a malformed request.
  const std::string long_id(2100, 'a');
  CHECK(code_of(api, api.call("GET", "/api/bookings/" + long_id)) == "unauthorized");
  CHECK(code_of(api, api.call("GET", "/api/bookings/" + long_id, "", s1)) == "not_found");
}

TEST_CASE("StateConflictsAre409WithTheirCodes") {
  ApiFixture api;
  const std::string id = api.create_booking(s1, "t1", example_start);
  // Starting an unpaid booking: invalid_transition, even inside the window.
  auto r = api.call("POST", "/api/sessions/" + id + "/start", "", s1);
  CHECK(r.status == 409);
  CHECK(code_of(api, r) == "invalid_transition");
  r = api.call("POST", "/api/bookings/" + id + "/checkout", "", s1);
  CHECK(code_of(api, r) == "invalid_transition");  // not accepted yet
  r = api.call("POST", "/api/me/withdrawals", R"({"amount":{"amount":1,"currency":"ETB"},"destination":"x"})", t1);
  CHECK(code_of(api, r) == "insufficient_funds");
}

TEST_CASE("IdempotentRetriesGetTheFirstAnswerAndConflictsAre409") {
  ApiFixture api;
  const HeaderList key = {{"Idempotency-Key", "create-1"}};
  const auto first = api.call("POST", "/api/bookings", good_booking, s1, key);
  REQUIRE(first.status == 201);
  const auto again = api.call("POST", "/api/bookings", good_booking, s1, key);
  CHECK(again.status == 201);
  CHECK(again.body == first.body);
  CHECK(api.engine->log().head().position == 1);
  const auto different = api.call("POST", "/api/bookings", good_booking + " ", s1, key);
  CHECK(different.status == 409);
  CHECK(code_of(api, different) == "idempotency_conflict");
  // A different request that is refused before deciding gets that refusal, as the contract's
  // order ranks 400, 404 and 403 above 409; the key still holds the first answer.
  std::string too_short = good_booking;
  too_short.replace(too_short.find(R"("duration_minutes":60)"), 21, R"("duration_minutes":5)");
  CHECK(code_of(api, api.call("POST", "/api/bookings", too_short, s1, key)) == "invalid_request");
  CHECK(api.call("POST", "/api/bookings/bk_nope/cancel", "", s1, key).status == 404);
  const std::string strangers = api.create_booking(s2, "t1", example_start);
  CHECK(api.call("POST", "/api/bookings/" + strangers + "/cancel", "", s1, key).status == 403);
  CHECK(api.call("POST", "/api/bookings", good_booking, s1, key).body == first.body);
  // The same key from another user is not a conflict.
  CHECK(api.call("POST", "/api/bookings", good_booking, s2, key).status == 201);
  // A refused request (400) is not stored: the key stays free.
  const HeaderList other = {{"Idempotency-Key", "create-2"}};
  CHECK(api.call("POST", "/api/bookings", "{bad", s1, other).status == 400);
  CHECK(api.call("POST", "/api/bookings", good_booking, s1, other).status == 201);
  // A decided 409 is stored and replayed.
  const HeaderList third = {{"Idempotency-Key", "cancel-x"}};
  const std::string id{std::string_view(api.json(first.body)["id"])};
  REQUIRE(api.call("POST", "/api/bookings/" + id + "/decline", "", t1).status == 200);
  const auto refused = api.call("POST", "/api/bookings/" + id + "/cancel", "", s1, third);
  CHECK(refused.status == 409);
  CHECK(api.call("POST", "/api/bookings/" + id + "/cancel", "", s1, third).body == refused.body);
  // Keys must be 1..255 characters of text: an empty header is not "no key".
  const uint64_t head_before = api.engine->log().head().position;
  const auto accented = [](int chars) {
    std::string text;
    for (int i = 0; i < chars; ++i) text += "\xc3\xa9";  // é: one character, two bytes
    return text;
  };
  for (const std::string& bad : {std::string(256, 'k'), std::string(), std::string("a\x01b"),
                                 std::string("a\xc2\x85" "b"),  // U+0085, a C1 control character
                                 std::string("\xff\xfe"), accented(256)}) {
    CAPTURE(bad);
    const auto refused_key = api.call("POST", "/api/bookings", good_booking, s1, {{"Idempotency-Key", bad}});
    CHECK(refused_key.status == 400);
    CHECK(code_of(api, refused_key) == "invalid_request");
  }
  CHECK(api.engine->log().head().position == head_before);
  // Spaces inside and characters beyond ASCII are characters too: 255 of them, whatever their bytes.
  for (const std::string& good : {std::string("order 42"), std::string("commande-n\xc2\xb0" "7"), accented(255)}) {
    CAPTURE(good);
    const auto created = api.call("POST", "/api/bookings", good_booking, s1, {{"Idempotency-Key", good}});
    CHECK(created.status == 201);
    CHECK(api.call("POST", "/api/bookings", good_booking, s1, {{"Idempotency-Key", good}}).body == created.body);
  }
  // Survives a restart.
  api.restart();
  CHECK(api.call("POST", "/api/bookings", good_booking, s1, key).body == first.body);
}

TEST_CASE("OversizedBodiesAre413") {
  ApiFixture api;
  const std::string huge(70 * 1024, 'x');
  const auto r = api.call("POST", "/api/bookings", huge, s1);
  CHECK(r.status == 413);
  CHECK(code_of(api, r) == "payload_too_large");
}

TEST_CASE("WebhookSignaturesAmountsAndRepeatDeliveries") {
  ApiFixture api;
  const std::string id = api.create_booking(s1, "t1", example_start);
  REQUIRE(api.call("POST", "/api/bookings/" + id + "/accept", "", t1).status == 200);
  REQUIRE(api.call("POST", "/api/bookings/" + id + "/checkout", "", s1).status == 200);
  auto body = [&](std::string_view amount, std::string_view reference, std::string_view tx_ref = "") {
    return fmt::format(R"({{"event":"charge.success","tx_ref":"{}","amount":"{}","currency":"ETB","status":"success","reference":"{}"}})",
                       tx_ref.empty() ? "tx-" + id : std::string(tx_ref), amount, reference);
  };
  auto r = api.webhook(body("350.00", "ch_1"), "00");
  CHECK(r.status == 401);
  CHECK(code_of(api, r) == "bad_signature");
  r = api.call("POST", "/api/payments/webhook", body("350.00", "ch_1"));  // no signature at all
  CHECK(code_of(api, r) == "bad_signature");
  r = api.webhook(body("349.99", "ch_1"));
  CHECK(r.body == R"({"accepted":false,"reason":"amount_mismatch"})");
  CHECK(api.call("GET", "/api/bookings/" + id, "", s1).body.find(R"("status":"accepted")") != std::string::npos);
  r = api.webhook(body("abc", "ch_2"));
  CHECK(r.status == 400);
  // Control characters in what the provider sends are refused by name, and nothing is kept.
  r = api.webhook(body("350.00", "ch\\u0001x"));
  CHECK(r.status == 400);
  CHECK(std::string_view(api.json(r.body)["error"]["message"]).starts_with("reference:"));
  std::string odd_status = body("350.00", "ch_7");
  odd_status.replace(odd_status.find(R"("status":"success")"), 18, R"("status":"fail\u001bed")");
  r = api.webhook(odd_status);
  CHECK(std::string_view(api.json(r.body)["error"]["message"]).starts_with("status:"));
  // A delivery that is not a successful charge names what it is.
  std::string failed = body("350.00", "ch_5");
  failed.replace(failed.find("charge.success"), 14, "charge.failed");
  CHECK(api.webhook(failed).body == R"({"accepted":false,"reason":"provider_event:charge.failed"})");
  std::string pending = body("350.00", "ch_6");
  pending.replace(pending.find(R"("status":"success")"), 18, R"("status":"pending")");
  CHECK(api.webhook(pending).body == R"({"accepted":false,"reason":"provider_status:pending"})");
  r = api.webhook(body("350.00", "ch_3", "tx-unknown"));
  CHECK(r.body == R"({"accepted":false,"reason":"unknown_tx_ref"})");
  r = api.webhook(body("350.00", "ch_4"));
  CHECK(r.body == R"({"accepted":true})");
  r = api.webhook(body("350.00", "ch_4"));
  CHECK(r.body == R"({"accepted":true,"duplicate":true})");
  r = api.webhook(body("349.99", "ch_1"));
  CHECK(r.body == R"({"accepted":false,"reason":"amount_mismatch","duplicate":true})");
  CHECK(api.call("GET", "/api/bookings/" + id, "", s1).body.find(R"("status":"confirmed")") != std::string::npos);

  // ch_4 paid this booking: for another booking's tx_ref it is not a repeat delivery, and that
  // booking stays unpaid.
  const std::string other = api.create_booking(s1, "t1", example_start + ms_per_hour);
  REQUIRE(api.call("POST", "/api/bookings/" + other + "/accept", "", t1).status == 200);
  REQUIRE(api.call("POST", "/api/bookings/" + other + "/checkout", "", s1).status == 200);
  r = api.webhook(body("350.00", "ch_4", "tx-" + other));
  CHECK(r.body == R"({"accepted":false,"reason":"reference_already_used"})");
  CHECK(api.call("GET", "/api/bookings/" + other, "", s1).body.find(R"("status":"accepted")") != std::string::npos);
}

TEST_CASE("StartingOrJoiningAPaidSessionOutsideItsWindowIsOutsideWindow") {
  ApiFixture api;  // two days before example_start
  const std::string id = api.create_booking(s1, "t1", example_start);
  api.accept_and_pay(id, t1, s1);
  auto r = api.call("POST", "/api/sessions/" + id + "/join", "", t1);
  CHECK(r.status == 409);
  CHECK(code_of(api, r) == "outside_window");
  api.advance_seconds(2 * 24 * 3600);  // inside the window, not started yet
  r = api.call("POST", "/api/sessions/" + id + "/join", "", t1);
  CHECK(code_of(api, r) == "invalid_transition");
  // After it closes: the clock's move fires the no-show first, and start and join are still
  // outside_window, as the error table says.
  api.advance_seconds(15 * 60);
  REQUIRE(api.call("GET", "/api/bookings/" + id, "", s1).body.find(R"("status":"no_show")") != std::string::npos);
  for (const std::string path : {"/start", "/join"}) {
    r = api.call("POST", "/api/sessions/" + id + path, "", s1);
    CHECK(r.status == 409);
    CHECK(code_of(api, r) == "outside_window");
  }
}

// HTTP speaks whole seconds: a time sent with a fraction is taken to its second, so that what the
// server shows (the booking, its window, the clock) is exactly what it decides with.
TEST_CASE("TimesSentWithAFractionOfASecondAreTakenToTheirSecond") {
  ApiFixture api;
  REQUIRE(format_rfc3339(example_start + 900).ends_with(".900Z"));  // what create_booking sends
  const std::string id = api.create_booking(s1, "t1", example_start + 900);
  auto r = api.call("GET", "/api/bookings/" + id, "", s1);
  CHECK(std::string_view(api.json(r.body)["scheduled_start"]) == format_rfc3339_seconds(example_start));
  api.accept_and_pay(id, t1, s1);
  r = api.call("POST", "/api/test/clock", fmt::format(R"({{"set":"{}"}})", format_rfc3339(example_start - 5 * ms_per_minute + 750)), admin());
  CHECK(r.body == fmt::format(R"({{"now":"{}"}})", format_rfc3339_seconds(example_start - 5 * ms_per_minute)));
  r = api.call("GET", "/api/sessions/" + id + "/status", "", s1);
  CHECK(api.json(r.body)["can_start_now"].get_bool().value());
  CHECK(api.call("POST", "/api/sessions/" + id + "/start", "", s1).status == 200);
  // Microseconds (Python's isoformat) and an offset: the same second, not a 400.
  const std::string start_text = format_rfc3339_seconds(example_start + ms_per_day);
  const std::string micros = start_text.substr(0, 19) + ".123456+00:00";
  r = api.call("POST", "/api/bookings",
               fmt::format(R"({{"tutor_id":"t1","subject":"Maths","scheduled_start":"{}","duration_minutes":60,)"
                           R"("price":{{"amount":35000,"currency":"ETB"}}}})", micros),
               s1);
  REQUIRE_MESSAGE(r.status == 201, r.body);
  CHECK(std::string_view(api.json(r.body)["scheduled_start"]) == start_text);
  r = api.call("POST", "/api/test/clock", fmt::format(R"({{"set":"{}"}})", micros), admin());
  CHECK(r.body == fmt::format(R"({{"now":"{}"}})", start_text));
}

TEST_CASE("TheTestClockRouteExistsOnlyWithTheFlagAndNeverGoesBack") {
  {
    ApiFixture api(example_start, /*test_clock=*/false);
    CHECK(api.call("POST", "/api/test/clock", R"({"advance_seconds":1})", admin()).status == 404);
  }
  ApiFixture api;
  CHECK(api.call("POST", "/api/test/clock", R"({"set":"2020-01-01T00:00:00Z"})", admin()).status == 400);
  CHECK(api.call("POST", "/api/test/clock", R"({"advance_seconds":-1})", admin()).status == 400);
  CHECK(api.call("POST", "/api/test/clock", R"({})", admin()).status == 400);
  const auto r = api.call("POST", "/api/test/clock", R"({"set":"2026-11-30T00:00:00Z"})", admin());
  CHECK(r.body == R"({"now":"2026-11-30T00:00:00Z"})");
  // The last second RFC 3339 can show, and not one past it: the clock would read year 0000.
  auto last = api.call("POST", "/api/test/clock", R"({"set":"9999-12-31T23:59:59Z"})", admin());
  CHECK(last.body == R"({"now":"9999-12-31T23:59:59Z"})");
  last = api.call("POST", "/api/test/clock", R"({"advance_seconds":1})", admin());
  CHECK(last.status == 400);
  CHECK(last.body.find("time cannot pass 9999-12-31T23:59:59Z") != std::string::npos);
  last = api.call("POST", "/api/test/clock", R"({"advance_seconds":0})", admin());
  CHECK(last.body == R"({"now":"9999-12-31T23:59:59Z"})");
}

TEST_CASE("ConcurrentAdvancesOfTheTestClockAddUp") {
  // Each advance counts from the clock the writer finds, not from a now() read while an earlier
  // advance was still queued: a harness moving the clock from several threads gets all its time.
  ApiFixture api;
  const TimeMs before = api.engine->now();
  constexpr int callers = 16;
  std::latch go(callers);
  std::vector<std::string> answers(callers);
  std::vector<int> statuses(callers);
  std::vector<std::thread> threads;
  for (int i = 0; i < callers; ++i) {
    threads.emplace_back([&, i] {
      go.arrive_and_wait();
      const auto r = api.call("POST", "/api/test/clock", R"({"advance_seconds":7})", admin());
      statuses[i] = r.status;
      answers[i] = r.body;
    });
  }
  for (auto& thread : threads) thread.join();
  for (int i = 0; i < callers; ++i) CHECK_MESSAGE(statuses[i] == 200, answers[i]);
  CHECK(api.engine->now() == before + callers * 7 * ms_per_second);
  std::sort(answers.begin(), answers.end());
  CHECK(std::adjacent_find(answers.begin(), answers.end()) == answers.end());  // each caller its own step
}

TEST_CASE("AnIdempotencyKeyAnswersRetriesForAWeekThenIsFree") {
  ApiFixture api;
  const auto booking_at = [](TimeMs start) {
    return fmt::format(
        R"({{"tutor_id":"t1","subject":"Maths","scheduled_start":"{}","duration_minutes":60,"price":{{"amount":35000,"currency":"ETB"}}}})",
        format_rfc3339(start));
  };
  const std::string first_body = booking_at(example_start + 30 * ms_per_day);  // still ahead a week later
  const std::string second_body = booking_at(example_start + 31 * ms_per_day);
  const HeaderList key = {{"Idempotency-Key", "weekly-1"}};
  const auto advance = [&](int64_t seconds) {
    REQUIRE(api.call("POST", "/api/test/clock", fmt::format(R"({{"advance_seconds":{}}})", seconds), admin()).status == 200);
  };
  const auto first = api.call("POST", "/api/bookings", first_body, s1, key);
  REQUIRE_MESSAGE(first.status == 201, first.body);
  constexpr int64_t week_seconds = 7 * 24 * 3600;
  advance(24 * 3600);  // API.md: kept at least 24 h
  CHECK(api.call("POST", "/api/bookings", first_body, s1, key).body == first.body);
  advance(week_seconds - 24 * 3600 - 1);
  CHECK(api.call("POST", "/api/bookings", first_body, s1, key).body == first.body);
  CHECK(code_of(api, api.call("POST", "/api/bookings", second_body, s1, key)) == "idempotency_conflict");
  advance(1);
  const auto fresh = api.call("POST", "/api/bookings", second_body, s1, key);
  CHECK(fresh.status == 201);
  const std::string first_id{std::string_view(api.json(first.body)["id"])};
  CHECK(std::string_view(api.json(fresh.body)["id"]) != first_id);  // a new booking
  CHECK(api.call("POST", "/api/bookings", second_body, s1, key).body == fresh.body);
}

TEST_CASE("TheTestClockTakesAnIdempotencyKeyLikeEveryPost") {
  ApiFixture api;
  const HeaderList key = {{"Idempotency-Key", "tick-1"}};
  const auto first = api.call("POST", "/api/test/clock", R"({"advance_seconds":60})", admin(), key);
  REQUIRE_MESSAGE(first.status == 200, first.body);
  const TimeMs after_first = api.engine->now();
  const auto retry = api.call("POST", "/api/test/clock", R"({"advance_seconds":60})", admin(), key);
  CHECK(retry.status == 200);
  CHECK(retry.body == first.body);
  CHECK(api.engine->now() == after_first);  // the retry did not move the clock again
  const auto other = api.call("POST", "/api/test/clock", R"({"advance_seconds":30})", admin(), key);
  CHECK(other.status == 409);
  CHECK(code_of(api, other) == "idempotency_conflict");
  // A refused request (400) is not stored; without a key every call moves the clock.
  const HeaderList back = {{"Idempotency-Key", "tick-2"}};
  CHECK(api.call("POST", "/api/test/clock", R"({"set":"2020-01-01T00:00:00Z"})", admin(), back).status == 400);
  CHECK(api.call("POST", "/api/test/clock", R"({"advance_seconds":1})", admin(), back).status == 200);
  CHECK(api.engine->now() == after_first + 1000);
  CHECK(api.call("POST", "/api/test/clock", R"({"advance_seconds":1})", admin()).status == 200);
  CHECK(api.engine->now() == after_first + 2000);
  CHECK(api.call("POST", "/api/test/clock", R"({"advance_seconds":1})", admin(), {{"Idempotency-Key", ""}}).status == 400);
}

TEST_CASE("ListsPageWithLimitAndCursor") {
  ApiFixture api;
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(api.create_booking(s1, "t1", example_start + i * ms_per_hour));
  CHECK(api.call("GET", "/api/bookings?limit=0", "", s1).status == 400);
  CHECK(api.call("GET", "/api/bookings?limit=201", "", s1).status == 400);
  CHECK(api.call("GET", "/api/bookings?status=bogus", "", s1).status == 400);
  const std::vector<std::string> seen = ids_of_all_pages(api, "/api/bookings?limit=2", s1);
  CHECK(seen == std::vector<std::string>(ids.rbegin(), ids.rend()));  // newest first, each once
  CHECK(api.call("GET", "/api/bookings?role=tutor", "", t1).body.find(ids[0]) != std::string::npos);
  auto events = api.call("GET", "/api/events?from=2&limit=2", "", admin());
  CHECK(int64_t(api.json(events.body)["data"].at(0)["position"]) == 2);
  CHECK(std::string_view(api.json(events.body)["next_cursor"]) == "p4");
  // Positions start at 1: from=0 is the start of the log too; below that is bad input.
  CHECK(api.call("GET", "/api/events?from=0&limit=3", "", admin()).body ==
        api.call("GET", "/api/events?from=1&limit=3", "", admin()).body);
  CHECK(api.call("GET", "/api/events?from=-1", "", admin()).status == 400);
  auto digest = api.call("GET", "/api/ledger/digest", "", admin());
  CHECK(int64_t(api.json(digest.body)["position"]) == 5);
  CHECK(std::string_view(api.json(digest.body)["hash"]) == to_hex(api.engine->log().head().hash));
}

TEST_CASE("ACursorFromAnotherListOrPastItsListIs400") {
  ApiFixture api;
  for (int i = 0; i < 3; ++i) api.create_booking(s1, "t1", example_start + i * ms_per_hour);
  const auto page = api.call("GET", "/api/bookings?limit=1", "", s1);
  const std::string bookings_cursor(std::string_view(api.json(page.body)["next_cursor"]));
  const auto notices = api.call("GET", "/api/me/notifications?limit=1", "", t1);
  const std::string notifications_cursor(std::string_view(api.json(notices.body)["next_cursor"]));
  const auto events = api.call("GET", "/api/events?limit=1", "", admin());
  const std::string events_cursor(std::string_view(api.json(events.body)["next_cursor"]));
  REQUIRE(api.call("GET", "/api/bookings?cursor=" + bookings_cursor, "", s1).status == 200);
  const auto refused = [&](const std::string& target, const Actor& as) {
    const auto r = api.call("GET", target, "", as);
    CAPTURE(target);
    CHECK(r.status == 400);
    CHECK(std::string_view(api.json(r.body)["error"]["message"]).starts_with("cursor:"));
  };
  refused("/api/bookings?cursor=" + events_cursor, s1);
  refused("/api/bookings?cursor=" + notifications_cursor, s1);
  refused("/api/bookings?cursor=2", s1);    // a bare number is no cursor of ours
  refused("/api/bookings?cursor=b999", s1);  // past the end of the caller's list
  refused("/api/bookings?cursor=b0", s1);
  refused("/api/bookings?cursor=" + bookings_cursor, s2);  // s2 has no bookings to page through
  refused("/api/events?cursor=" + notifications_cursor, admin());
  refused("/api/events?cursor=" + bookings_cursor, admin());
  refused("/api/me/notifications?cursor=" + events_cursor, t1);
  refused("/api/me/withdrawals?cursor=" + bookings_cursor, t1);
  refused("/api/bookings/" + api.create_booking(s1, "t1", example_start + 9 * ms_per_hour) + "/events?cursor=" + events_cursor, s1);
}

TEST_CASE("ABadQueryIs400BeforeTheRoleItNamesIs403") {
  // The contract's order: 400 (query) comes before a 403 that is not about the route itself.
  ApiFixture api;
  CHECK(api.call("GET", "/api/bookings?role=student&status=bogus", "", t1).status == 400);
  CHECK(api.call("GET", "/api/bookings?role=student&cursor=zzz", "", t1).status == 400);
  CHECK(api.call("GET", "/api/bookings?role=student&limit=abc", "", t1).status == 400);
  const auto forbidden = api.call("GET", "/api/bookings?role=student", "", t1);
  CHECK(forbidden.status == 403);
  const auto admin_asks = api.call("GET", "/api/bookings?role=tutor", "", admin());
  CHECK(admin_asks.status == 403);
  CHECK(std::string_view(api.json(admin_asks.body)["error"]["message"]).starts_with("an admin lists"));
}

TEST_CASE("ARoleRefusedByTheRouteIsNamedWithItsArticle") {
  ApiFixture api;
  const auto admin_books = api.call("POST", "/api/bookings", "{}", admin());
  CHECK(admin_books.status == 403);
  CHECK(std::string_view(api.json(admin_books.body)["error"]["message"]) == "an admin may not use this route");
  const auto student_balance = api.call("GET", "/api/me/balance", "", s1);
  CHECK(std::string_view(api.json(student_balance.body)["error"]["message"]) == "a student may not use this route");
}

TEST_CASE("NotificationsFollowTheCursorAlsoWhenTheFirstRequestGaveAfter") {
  // A client that keeps ?after= and adds each page's cursor must reach the end, not get the
  // first page again forever.
  ApiFixture api;
  for (int i = 0; i < 5; ++i) api.create_booking(s1, "t1", example_start + i * ms_per_hour);  // one notice each for t1
  const auto all = api.call("GET", "/api/me/notifications", "", t1);
  std::vector<std::string> expected;
  for (auto item : api.json(all.body)["data"].get_array()) expected.emplace_back(std::string_view(item["id"]));
  REQUIRE(expected.size() == 5);
  const std::vector<std::string> seen = ids_of_all_pages(api, "/api/me/notifications?limit=2&after=" + expected[0], t1);
  CHECK(seen == std::vector<std::string>(expected.begin() + 1, expected.end()));
  CHECK(api.call("GET", "/api/me/notifications?cursor=n_x", "", t1).status == 400);
}
