// Route() for docs/api.md §6–§8 over a real Engine: exact bodies of
// /lookup, /guard, the guard's 422 and the cluster cap's 409, and the
// "canonical" field with normalisation on.
#include <gtest/gtest.h>

#include <string>

#include "engine/clock.h"
#include "engine/engine.h"
#include "server/router.h"

namespace idrecon {
namespace {

constexpr Millis kStart = 1795310419123;  // 2026-11-22T01:20:19.123Z

class RouterMatchingTest : public ::testing::Test {
 protected:
  explicit RouterMatchingTest(NormalizationSettings norm = {}, GuardSettings guard = {0, 3})
      : clock_(kStart), engine_(MakeOptions(&clock_, norm, guard)), context_{engine_} {}

  static Engine::Options MakeOptions(Clock* clock, NormalizationSettings norm, GuardSettings guard) {
    Engine::Options options;
    options.clock = clock;
    options.normalization = norm;
    options.guard = guard;
    return options;
  }
  HttpResponse Call(std::string_view method, std::string_view target, std::string_view body = "") {
    return Route(HttpRequest{method, target, body}, context_);
  }

  ManualClock clock_;
  Engine engine_;
  ServiceContext context_;
};

TEST_F(RouterMatchingTest, LookupExactBodiesAndNoChange) {
  Call("POST", "/identify", R"({"email":"a@x","phoneNumber":"1"})");
  Call("POST", "/identify", R"({"email":"b@x","phoneNumber":"2"})");
  const std::size_t contacts = engine_.contact_count();
  HttpResponse r = Call("POST", "/lookup", R"({"email":"a@x","phoneNumber":"2"})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            R"({"clusters":[{"primaryContatctId":1,"primaryContactId":1,"emails":["a@x"],"phoneNumbers":["1"],)"
            R"("secondaryContactIds":[]},{"primaryContatctId":2,"primaryContactId":2,"emails":["b@x"],)"
            R"("phoneNumbers":["2"],"secondaryContactIds":[]}],"identify":{"creates":"none","merges":[1,2],)"
            R"("primaryContactId":1}})");
  r = Call("POST", "/lookup", R"({"email":"new@x"})");
  EXPECT_EQ(r.body, R"({"clusters":[],"identify":{"creates":"primary","merges":[],"primaryContactId":null}})");
  EXPECT_EQ(engine_.contact_count(), contacts);
  EXPECT_EQ(Call("POST", "/lookup", "{}").status, 400);
  EXPECT_EQ(Call("GET", "/lookup").status, 405);
}

TEST_F(RouterMatchingTest, ClusterCapIs409WithBothPrimaries) {
  Call("POST", "/identify", R"({"email":"a@x","phoneNumber":"1"})");
  Call("POST", "/identify", R"({"email":"a2@x","phoneNumber":"1"})");
  Call("POST", "/identify", R"({"email":"b@x","phoneNumber":"2"})");
  Call("POST", "/identify", R"({"email":"b2@x","phoneNumber":"2"})");
  HttpResponse r = Call("POST", "/identify", R"({"email":"a@x","phoneNumber":"2"})");
  EXPECT_EQ(r.status, 409);
  EXPECT_TRUE(r.body.starts_with(R"({"error":")")) << r.body;
  EXPECT_TRUE(r.body.ends_with(R"(","clusters":[1,3]})")) << r.body;
  r = Call("POST", "/lookup", R"({"email":"a@x","phoneNumber":"2"})");
  EXPECT_NE(r.body.find(R"("identify":{"creates":"none","merges":[],"primaryContactId":null,"refused":"cluster cap"})"),
            std::string::npos)
      << r.body;
}

TEST_F(RouterMatchingTest, GuardEndpointsAnd422) {
  HttpResponse r = Call("PUT", "/guard", R"({"phoneNumber":"0000000000"})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            R"({"phoneNumber":"0000000000","reason":"api","contacts":0,"split":false,"since":"2026-11-22T01:20:19.123Z"})");
  r = Call("POST", "/identify", R"({"email":"a@x","phoneNumber":"0000000000"})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"contact":{"primaryContatctId":1,"primaryContactId":1,"emails":["a@x"],"phoneNumbers":[],)"
                    R"("secondaryContactIds":[]},"guarded":["phoneNumber"]})");
  r = Call("POST", "/identify", R"({"phoneNumber":"0000000000"})");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.body, R"({"error":"phoneNumber is a guarded value"})");
  EXPECT_EQ(Call("POST", "/lookup", R"({"phoneNumber":"0000000000"})").status, 422);
  r = Call("GET", "/guard");
  EXPECT_EQ(r.body, R"({"values":[{"phoneNumber":"0000000000","reason":"api","contacts":0,"split":false,)"
                    R"("since":"2026-11-22T01:20:19.123Z"}]})");
  EXPECT_EQ(Call("PUT", "/guard", R"({"email":"a@x","phoneNumber":"1"})").status, 400);
  EXPECT_EQ(Call("PUT", "/guard", R"({})").status, 400);
  EXPECT_EQ(Call("PUT", "/guard", R"({"email":"a@x","split":"yes"})").status, 400);
  EXPECT_EQ(Call("PUT", "/guard", R"({"email":"   "})").status, 400);
  EXPECT_EQ(Call("DELETE", "/guard", R"({"email":"never@x"})").status, 404);
  EXPECT_EQ(Call("DELETE", "/guard", R"({"phoneNumber":"0000000000"})").status, 200);
  EXPECT_EQ(Call("GET", "/guard").body, R"({"values":[]})");
  r = Call("POST", "/guard");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.allow, "GET, HEAD, PUT, DELETE");
}

TEST_F(RouterMatchingTest, SplitAndItsUndoingShowTheClusters) {
  Call("POST", "/identify", R"({"email":"a@x","phoneNumber":"0000"})");
  Call("POST", "/identify", R"({"email":"b@x","phoneNumber":"0000"})");
  clock_.Advance(5);
  HttpResponse r = Call("PUT", "/guard", R"({"phoneNumber":"0000","split":true})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"phoneNumber":"0000","reason":"api","contacts":2,"split":true,"since":"2026-11-22T01:20:19.128Z",)"
                    R"("clusters":[{"primaryContatctId":1,"primaryContactId":1,"emails":["a@x"],"phoneNumbers":["0000"],)"
                    R"("secondaryContactIds":[]},{"primaryContatctId":2,"primaryContactId":2,"emails":["b@x"],)"
                    R"("phoneNumbers":["0000"],"secondaryContactIds":[]}]})");
  r = Call("DELETE", "/guard", R"({"phoneNumber":"0000"})");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find(R"("clusters":[{"primaryContatctId":1,"primaryContactId":1,"emails":["a@x","b@x"],)"),
            std::string::npos)
      << r.body;
}

class RouterNormalizedTest : public RouterMatchingTest {
 protected:
  RouterNormalizedTest() : RouterMatchingTest(NormalizationSettings{true, "IN"}, GuardSettings{}) {}
};

TEST_F(RouterNormalizedTest, CanonicalKeysBesideTheContact) {
  HttpResponse r = Call("POST", "/identify", R"({"email":"Doc@X.com","phoneNumber":"+91 98765 43210"})");
  EXPECT_EQ(r.body, R"({"contact":{"primaryContatctId":1,"primaryContactId":1,"emails":["Doc@X.com"],)"
                    R"("phoneNumbers":["+91 98765 43210"],"secondaryContactIds":[]},)"
                    R"("canonical":{"email":"doc@x.com","phoneNumber":"+919876543210"}})");
  r = Call("POST", "/identify", R"({"phoneNumber":"9876543210"})");
  EXPECT_EQ(r.body, R"({"contact":{"primaryContatctId":1,"primaryContactId":1,"emails":["Doc@X.com"],)"
                    R"("phoneNumbers":["+91 98765 43210"],"secondaryContactIds":[]},)"
                    R"("canonical":{"email":null,"phoneNumber":"+919876543210"}})");
}

}  // namespace
}  // namespace idrecon
