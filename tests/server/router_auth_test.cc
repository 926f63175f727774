// Bearer-token auth in the router: every endpoint but /health needs it.
#include <gtest/gtest.h>

#include "engine/engine.h"
#include "server/router.h"

namespace idrecon {
namespace {

class RouterAuthTest : public ::testing::Test {
 protected:
  RouterAuthTest() : engine_(Engine::Options{&clock_, nullptr, 4, nullptr}), context_{engine_} {
    context_.auth_token = "correct-horse-battery-staple";
  }
  HttpResponse Call(std::string_view method, std::string_view target, std::string_view auth,
                    std::string_view body = "") {
    return Route(HttpRequest{method, target, body, auth}, context_);
  }
  ManualClock clock_{0};
  Engine engine_;
  ServiceContext context_;
};

TEST_F(RouterAuthTest, MissingOrWrongTokenIs401AndChangesNothing) {
  for (std::string_view auth : {"", "Bearer ", "Bearer wrong", "Bearer correct-horse-battery-stapl",
                                "Bearer correct-horse-battery-staplex", "bearer correct-horse-battery-staple",
                                "Basic Y29ycmVjdA=="}) {
    HttpResponse r = Call("POST", "/identify", auth, R"({"email":"a@x"})");
    EXPECT_EQ(r.status, 401) << auth;
    EXPECT_EQ(r.www_authenticate, R"(Bearer realm="idrecon")");
    EXPECT_TRUE(r.body.starts_with(R"({"error":")")) << r.body;
    EXPECT_EQ(Call("GET", "/contacts/1", auth).status, 401) << auth;
    EXPECT_EQ(Call("GET", "/nope", auth).status, 401) << "even unknown paths: no probing";
  }
  EXPECT_EQ(engine_.contact_count(), 0u);
}

TEST_F(RouterAuthTest, RightTokenPassesAndHealthIsOpen) {
  EXPECT_EQ(Call("POST", "/identify", "Bearer correct-horse-battery-staple", R"({"email":"a@x"})").status, 200);
  EXPECT_EQ(Call("GET", "/contacts/1", "Bearer correct-horse-battery-staple").status, 200);
  EXPECT_EQ(Call("GET", "/health", "").status, 200);
  EXPECT_EQ(Call("GET", "/health", "Bearer wrong").status, 200);
}

TEST(TokenMatchesTest, ComparesWholeTokens) {
  EXPECT_TRUE(TokenMatches("abc", "abc"));
  EXPECT_FALSE(TokenMatches("abd", "abc"));
  EXPECT_FALSE(TokenMatches("ab", "abc"));
  EXPECT_FALSE(TokenMatches("abcd", "abc"));
  EXPECT_FALSE(TokenMatches("", "abc"));
  EXPECT_TRUE(TokenMatches("", ""));
}

TEST(RouterEndpointTest, ResponsesNameTheirEndpointForMetrics) {
  ManualClock clock(0);
  Engine engine(Engine::Options{&clock, nullptr, 4, nullptr});
  ServiceContext context{engine};
  EXPECT_EQ(Route({"POST", "/identify", R"({"email":"a@x"})"}, context).endpoint, "identify");
  EXPECT_EQ(Route({"GET", "/identify", ""}, context).endpoint, "identify");
  EXPECT_EQ(Route({"GET", "/contacts/9", ""}, context).endpoint, "contacts");
  EXPECT_EQ(Route({"GET", "/health", ""}, context).endpoint, "health");
  EXPECT_EQ(Route({"GET", "/metrics", ""}, context).endpoint, "metrics");
  EXPECT_EQ(Route({"GET", "/metrics", ""}, context).status, 404) << "no metrics configured";
  EXPECT_EQ(Route({"GET", "/x", ""}, context).endpoint, "other");
}

}  // namespace
}  // namespace idrecon
