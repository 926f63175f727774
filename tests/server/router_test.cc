// Route() end to end over a real Engine with a ManualClock: exact response
// bodies for docs/api.md §2's worked example, GET /contacts/{id}, health, and every
// error the router sees.
#include "server/router.h"

#include <gtest/gtest.h>

#include <string>

#include "engine/clock.h"
#include "engine/engine.h"

namespace idrecon {
namespace {

constexpr Millis kStart = 1795310419123;  // 2026-11-22T01:20:19.123Z

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() : clock_(kStart), engine_(MakeOptions(&clock_)), context_{engine_} {}

  static Engine::Options MakeOptions(Clock* clock) {
    Engine::Options options;
    options.clock = clock;
    return options;
  }

  HttpResponse Call(std::string_view method, std::string_view target, std::string_view body = "") {
    return Route(HttpRequest{method, target, body}, context_);
  }
  HttpResponse Identify(std::string_view body) { return Call("POST", "/identify", body); }

  // A 400 from the identify endpoint: JSON error, and nothing changed.
  void ExpectBadRequest(std::string_view body) {
    const std::size_t before = engine_.contact_count();
    const HttpResponse r = Identify(body);
    EXPECT_EQ(r.status, 400) << body << " → " << r.body;
    ExpectJsonError(r);
    EXPECT_EQ(engine_.contact_count(), before) << body;
  }

  static void ExpectJsonError(const HttpResponse& r) {
    EXPECT_EQ(r.content_type, "application/json");
    EXPECT_TRUE(r.body.starts_with(R"({"error":")")) << r.body;
    EXPECT_TRUE(r.body.ends_with(R"("})")) << r.body;
    EXPECT_GT(r.body.size(), std::string_view(R"({"error":""})").size()) << "message must not be empty";
  }

  ManualClock clock_;
  Engine engine_;
  ServiceContext context_;
};

std::string Cluster(int primary, std::string_view emails, std::string_view phones, std::string_view secondaries) {
  const std::string id = std::to_string(primary);
  return R"({"contact":{"primaryContatctId":)" + id + R"(,"primaryContactId":)" + id + R"(,"emails":[)" +
         std::string(emails) + R"(],"phoneNumbers":[)" + std::string(phones) + R"(],"secondaryContactIds":[)" +
         std::string(secondaries) + "]}}";
}

TEST_F(RouterTest, SpecWorkedExampleExactBodies) {
  const std::string lorraine_and_mcfly =
      Cluster(1, R"("lorraine@hillvalley.edu","mcfly@hillvalley.edu")", R"("123456")", "2");
  struct Row {
    std::string request;
    std::string response;
  };
  const Row rows[] = {
      {R"({"email":"lorraine@hillvalley.edu","phoneNumber":"123456"})",
       Cluster(1, R"("lorraine@hillvalley.edu")", R"("123456")", "")},
      {R"({"email":"mcfly@hillvalley.edu","phoneNumber":"123456"})", lorraine_and_mcfly},
      {R"({"email":null,"phoneNumber":"123456"})", lorraine_and_mcfly},
      {R"({"email":"mcfly@hillvalley.edu"})", lorraine_and_mcfly},
      {R"({"email":"george@hillvalley.edu","phoneNumber":"919191"})",
       Cluster(3, R"("george@hillvalley.edu")", R"("919191")", "")},
      {R"({"email":"biffsucks@hillvalley.edu","phoneNumber":717171})",
       Cluster(4, R"("biffsucks@hillvalley.edu")", R"("717171")", "")},
      {R"({"email":"george@hillvalley.edu","phoneNumber":"717171"})",
       Cluster(3, R"("george@hillvalley.edu","biffsucks@hillvalley.edu")", R"("919191","717171")", "4")},
  };
  int number = 0;
  for (const Row& row : rows) {
    ++number;
    clock_.Advance(1000);
    const HttpResponse r = Identify(row.request);
    EXPECT_EQ(r.status, 200) << "row " << number;
    EXPECT_EQ(r.content_type, "application/json");
    EXPECT_TRUE(r.allow.empty());
    EXPECT_EQ(r.body, row.response) << "row " << number << ": " << row.request;
  }
  EXPECT_EQ(engine_.contact_count(), 4u);
}

TEST_F(RouterTest, GetContactExactBodies) {
  ASSERT_EQ(Identify(R"({"email":"lorraine@hillvalley.edu","phoneNumber":"123456"})").status, 200);
  clock_.Advance(1);
  ASSERT_EQ(Identify(R"({"email":"mcfly@hillvalley.edu","phoneNumber":"123456"})").status, 200);
  clock_.Advance(1000);
  ASSERT_EQ(Identify(R"({"phoneNumber":"999"})").status, 200);
  clock_.Advance(60'000);
  // Merges cluster 3 into cluster 1: contact 3 is demoted at this time.
  ASSERT_EQ(Identify(R"({"email":"mcfly@hillvalley.edu","phoneNumber":"999"})").status, 200);

  HttpResponse r = Call("GET", "/contacts/1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body,
            R"({"id":1,"phoneNumber":"123456","email":"lorraine@hillvalley.edu","linkedId":null,)"
            R"("linkPrecedence":"primary","createdAt":"2026-11-22T01:20:19.123Z",)"
            R"("updatedAt":"2026-11-22T01:20:19.123Z","deletedAt":null})");

  r = Call("GET", "/contacts/2");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            R"({"id":2,"phoneNumber":"123456","email":"mcfly@hillvalley.edu","linkedId":1,)"
            R"("linkPrecedence":"secondary","createdAt":"2026-11-22T01:20:19.124Z",)"
            R"("updatedAt":"2026-11-22T01:20:19.124Z","deletedAt":null})");

  r = Call("GET", "/contacts/3");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            R"({"id":3,"phoneNumber":"999","email":null,"linkedId":1,)"
            R"("linkPrecedence":"secondary","createdAt":"2026-11-22T01:20:20.124Z",)"
            R"("updatedAt":"2026-11-22T01:21:20.124Z","deletedAt":null})");

  // The query string is ignored; leading zeros name the same id.
  EXPECT_EQ(Call("GET", "/contacts/3?pretty=1").body, r.body);
  EXPECT_EQ(Call("GET", "/contacts/003").body, r.body);
}

TEST_F(RouterTest, GetContactNotFoundOrMalformedIdIs404) {
  ASSERT_EQ(Identify(R"({"email":"a@b.c"})").status, 200);
  for (std::string_view target :
       {"/contacts/2", "/contacts/0", "/contacts/00", "/contacts/4294967295", "/contacts/4294967296",
        "/contacts/99999999999999999999999", "/contacts/-1", "/contacts/abc", "/contacts/1a", "/contacts/+1",
        "/contacts/%31", "/contacts/ 1", "/contacts/1.0"}) {
    const HttpResponse r = Call("GET", target);
    EXPECT_EQ(r.status, 404) << target;
    ExpectJsonError(r);
  }
  EXPECT_EQ(Call("GET", "/contacts/2").body, R"({"error":"no contact with id 2"})");
  EXPECT_EQ(Call("GET", "/contacts/abc").body, R"({"error":"no contact with id 'abc'"})");
}

TEST_F(RouterTest, Health) {
  HttpResponse r = Call("GET", "/health");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, R"({"status":"ok"})");
  EXPECT_EQ(Call("GET", "/health?probe=k8s").body, R"({"status":"ok"})");
}

TEST_F(RouterTest, HeadIsAnsweredLikeGet) {
  // The transport drops the body of a HEAD response; Route builds it so the
  // Content-Length matches GET's.
  EXPECT_EQ(Call("HEAD", "/health").body, Call("GET", "/health").body);
  const HttpResponse r = Call("HEAD", "/contacts/1");
  EXPECT_EQ(r.status, 404);
  EXPECT_TRUE(r.allow.empty());
}

TEST_F(RouterTest, UnknownPathIs404) {
  for (std::string_view target : {"/", "/identify/", "/Identify", "/health/", "/contacts", "/contacts/",
                                  "/contacts/1/", "/contacts/1/x", "/metrics", "//identify", "identify", ""}) {
    const HttpResponse r = Call("GET", target);
    EXPECT_EQ(r.status, 404) << target;
    ExpectJsonError(r);
    EXPECT_TRUE(r.allow.empty());
  }
  EXPECT_EQ(Call("POST", "/nope").body, R"({"error":"no such endpoint: /nope"})");
  EXPECT_EQ(Call("GET", "/nope?x=\"1\"").body, R"({"error":"no such endpoint: /nope"})");
}

// Found by fuzz/http_request_fuzzer.cc: a request target is raw client bytes
// (Beast accepts obs-text, 0x80-0xFF), and echoing it in a 404 message made
// the body invalid UTF-8, i.e. not JSON. Invalid bytes now become U+FFFD.
TEST_F(RouterTest, NotFoundMessagesStayValidUtf8) {
  EXPECT_EQ(Call("GET", "/nope\xAF../x").body, "{\"error\":\"no such endpoint: /nope\xEF\xBF\xBD../x\"}");
  EXPECT_EQ(Call("GET", "/contacts/1\xC3").body, "{\"error\":\"no contact with id '1\xEF\xBF\xBD'\"}");
  // Well-formed UTF-8 is echoed as sent.
  EXPECT_EQ(Call("GET", "/caf\xC3\xA9").body, "{\"error\":\"no such endpoint: /caf\xC3\xA9\"}");
}

TEST_F(RouterTest, WrongMethodIs405WithAllow) {
  struct Case {
    std::string_view method, target, allow;
  };
  for (const Case& c : {Case{"GET", "/identify", "POST"}, Case{"PUT", "/identify", "POST"},
                        Case{"HEAD", "/identify", "POST"}, Case{"POST", "/health", "GET, HEAD"},
                        Case{"get", "/health", "GET, HEAD"}, Case{"DELETE", "/contacts/1", "GET, HEAD"},
                        Case{"POST", "/contacts/abc", "GET, HEAD"}, Case{"post", "/identify", "POST"},
                        Case{"GET", "/identify?x=1", "POST"}}) {
    const HttpResponse r = Call(c.method, c.target);
    EXPECT_EQ(r.status, 405) << c.method << " " << c.target;
    EXPECT_EQ(r.allow, c.allow) << c.method << " " << c.target;
    ExpectJsonError(r);
  }
  EXPECT_EQ(Call("GET", "/identify").body, R"({"error":"method not allowed; this path accepts POST"})");
  EXPECT_EQ(engine_.contact_count(), 0u);
}

TEST_F(RouterTest, IdentifyIgnoresQueryString) {
  const HttpResponse r = Call("POST", "/identify?debug=1", R"({"email":"q@x"})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, Cluster(1, R"("q@x")", "", ""));
}

TEST_F(RouterTest, BadBodiesAre400) {
  for (std::string_view body : {
           "",                                    // not JSON
           "not json",                            //
           R"({"email":"a@b.c")",                 // truncated
           R"({"email":"a@b.c"} trailing)",       // garbage after the object
           R"({"email":"a@b.c","x":tru})",        // invalid ignored value
           R"([{"email":"a@b.c"}])",              // not an object
           R"("a@b.c")",                          //
           R"({"email":42})",                     // wrong types
           R"({"email":["a@b.c"]})",              //
           R"({"phoneNumber":true})",             //
           R"({"phoneNumber":{"n":1}})",          //
           R"({"phoneNumber":-123})",             // negative / fraction / exponent
           R"({"phoneNumber":12.5})",             //
           R"({"phoneNumber":1e6})",              //
           "{\"email\":\"\xFF@b.c\"}",            // invalid UTF-8
           R"({})",                               // both absent
           R"({"email":null,"phoneNumber":null})",  // both null
           R"({"email":"","phoneNumber":""})",    // both empty
           R"({"email":" \t\r\n","phoneNumber":"  "})",  // whitespace only
           R"({"email":"   "})",                  //
           R"({"unrelated":"field"})",            //
       }) {
    ExpectBadRequest(body);
  }
}

TEST_F(RouterTest, ValueLimitsAre400) {
  const std::string email320 = std::string(310, 'e') + "@hill.edu";  // 319 + 1 below
  ASSERT_EQ(email320.size(), 319u);
  const std::string ok_email = email320 + "x";
  const std::string long_email = ok_email + "x";
  const std::string ok_phone(64, '7');
  const std::string long_phone(65, '7');

  ExpectBadRequest(R"({"email":")" + long_email + R"("})");
  ExpectBadRequest(R"({"phoneNumber":")" + long_phone + R"("})");
  ExpectBadRequest(R"({"phoneNumber":)" + long_phone + "}");
  ExpectBadRequest(R"({"email":"a@b.c","phoneNumber":")" + long_phone + R"("})");
  EXPECT_EQ(engine_.contact_count(), 0u);

  // Exactly at the limits is fine, and the limit applies after trimming.
  EXPECT_EQ(Identify(R"({"email":")" + ok_email + R"("})").status, 200);
  EXPECT_EQ(Identify(R"({"phoneNumber":)" + ok_phone + "}").status, 200);
  EXPECT_EQ(Identify(R"({"email":"  )" + ok_email + R"(  "})").status, 200);
  EXPECT_EQ(engine_.contact_count(), 2u);
}

TEST_F(RouterTest, ValuesAreTrimmedAndIntegerPhoneIsItsString) {
  EXPECT_EQ(Identify(R"({"email":"  doc@brown.edu\t","phoneNumber":" 555 "})").body,
            Cluster(1, R"("doc@brown.edu")", R"("555")", ""));
  EXPECT_EQ(Identify(R"({"phoneNumber":555})").body, Cluster(1, R"("doc@brown.edu")", R"("555")", ""));
  EXPECT_EQ(Identify(R"({"email":"","phoneNumber":555})").body, Cluster(1, R"("doc@brown.edu")", R"("555")", ""));
  EXPECT_EQ(Identify(R"({"phoneNumber":1234567890123456789012345})").body,
            Cluster(2, "", R"("1234567890123456789012345")", ""));
  EXPECT_EQ(engine_.contact_count(), 2u);
}

TEST_F(RouterTest, ResponseEscapesStoredStrings) {
  EXPECT_EQ(Identify(R"({"email":"we\"ird\\\u0001@x"})").body, Cluster(1, R"("we\"ird\\\u0001@x")", "", ""));
}

TEST(RouterHelpersTest, TransportErrorsUseTheJsonErrorFormat) {
  HttpResponse r = PayloadTooLargeResponse(16384);
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, R"({"error":"request body is larger than 16384 bytes"})");
  r = HeaderTooLargeResponse(8192);
  EXPECT_EQ(r.status, 431);
  EXPECT_EQ(r.body, R"({"error":"request header is larger than 8192 bytes"})");
  r = MalformedRequestResponse();
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"error":"malformed HTTP request"})");
  r = InternalErrorResponse();
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, R"({"error":"internal server error"})");
  r = ErrorResponse(404, "a \"quoted\"\nmessage");
  EXPECT_EQ(r.body, R"({"error":"a \"quoted\"\nmessage"})");
}

}  // namespace
}  // namespace idrecon
