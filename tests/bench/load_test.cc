#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "bench/load/histogram.h"
#include "bench/load/response_check.h"
#include "bench/load/settings.h"
#include "bench/load/workload.h"

namespace idrecon::load {
namespace {

TEST(LatencyHistogram, ExactBelowSixteenMilliseconds) {
  LatencyHistogram h;
  for (std::uint64_t v = 1; v <= 100; ++v) h.Record(v);
  EXPECT_EQ(h.count(), 100u);
  EXPECT_EQ(h.min(), 1u);
  EXPECT_EQ(h.max(), 100u);
  EXPECT_EQ(h.Percentile(50), 50u);
  EXPECT_EQ(h.Percentile(90), 90u);
  EXPECT_EQ(h.Percentile(99), 99u);
  EXPECT_EQ(h.Percentile(99.9), 100u);
  EXPECT_EQ(h.Percentile(100), 100u);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);
}

TEST(LatencyHistogram, BucketsAreMonotoneWithSmallRelativeError) {
  std::size_t last = 0;
  for (std::uint64_t v = 0; v < (std::uint64_t{1} << 30); v = v < 20000 ? v + 1 : v + v / 997) {
    const std::size_t i = LatencyHistogram::IndexOf(v);
    EXPECT_GE(i, last);
    last = i;
    const std::uint64_t upper = LatencyHistogram::UpperBoundOf(i);
    ASSERT_GE(upper, v);
    if (v < 16384) {
      ASSERT_EQ(upper, v);
    } else {
      ASSERT_LE(static_cast<double>(upper - v), static_cast<double>(v) / 8192.0 + 1) << v;
    }
  }
}

TEST(LatencyHistogram, MergeAndLargeValues) {
  LatencyHistogram a, b;
  for (int i = 0; i < 990; ++i) a.Record(100);
  for (int i = 0; i < 10; ++i) b.Record(5'000'000);  // 5 s
  a.Merge(b);
  EXPECT_EQ(a.count(), 1000u);
  EXPECT_EQ(a.Percentile(99), 100u);
  EXPECT_EQ(a.max(), 5'000'000u);
  EXPECT_EQ(a.Percentile(99.9), 5'000'000u);  // capped at the exact max
  a.Reset();
  EXPECT_EQ(a.count(), 0u);
  EXPECT_EQ(a.Percentile(50), 0u);
}

TEST(Mix, Parse) {
  Mix m;
  EXPECT_TRUE(Mix::Parse("repeat=50,new=50", &m));
  EXPECT_EQ(m.repeat, 50);
  EXPECT_EQ(m.add_new, 50);
  EXPECT_EQ(m.add_value, 0);
  EXPECT_EQ(m.join, 0);
  EXPECT_FALSE(Mix::Parse("repeat=x", &m));
  EXPECT_FALSE(Mix::Parse("bogus=1", &m));
  EXPECT_FALSE(Mix::Parse("repeat=0", &m));
}

TEST(Mix, ParsesTheBadDataKinds) {
  Mix m;
  ASSERT_TRUE(Mix::Parse("repeat=79,new=15,add=4,wildjoin=1,junk=1", &m));
  EXPECT_EQ(m.repeat, 79);
  EXPECT_EQ(m.join, 0);
  EXPECT_EQ(m.wild_join, 1);
  EXPECT_EQ(m.junk, 1);
  EXPECT_EQ(m.total(), 100);
  ASSERT_TRUE(Mix::Parse("junk=5", &m));
  EXPECT_EQ(m.repeat, 0);
  EXPECT_EQ(m.wild_join, 0);
  EXPECT_EQ(m.junk, 5);
  EXPECT_FALSE(Mix::Parse("wildjoin=-1", &m));
  EXPECT_FALSE(Mix::Parse("wild_join=1", &m));
  EXPECT_FALSE(Mix::Parse("junk=0,wildjoin=0", &m));
  EXPECT_STREQ(KindName(RequestKind::kWildJoin), "wildjoin");
  EXPECT_STREQ(KindName(RequestKind::kJunk), "junk");
}

TEST(ZipfSampler, SkewedAndInRange) {
  ZipfSampler z(0.99);
  std::mt19937_64 rng(7);
  std::map<std::uint64_t, int> counts;
  for (int i = 0; i < 100000; ++i) {
    const std::uint64_t r = z.Sample(1000, rng);
    ASSERT_GE(r, 1u);
    ASSERT_LE(r, 1000u);
    ++counts[r];
  }
  // P(1)/P(2) = 2^0.99 ≈ 1.99; rank 1 gets ~13% of 1000 ranks at s = 0.99.
  EXPECT_GT(counts[1], counts[2] * 1.7);
  EXPECT_GT(counts[1], 10000);
  EXPECT_LT(counts[1], 16000);
  EXPECT_EQ(z.Sample(1, rng), 1u);
}

TEST(Workload, DeterministicMixAndValueShapes) {
  Workload::Options o;
  o.seed = 42;
  Workload a(o), b(o);
  std::map<RequestKind, int> kinds;
  double email_bytes = 0;
  int emails = 0;
  for (int i = 0; i < 1000; ++i) a.NextNewCustomer(), b.NextNewCustomer();
  for (int i = 0; i < 20000; ++i) {
    const GeneratedRequest ra = a.Next(), rb = b.Next();
    ASSERT_EQ(ra.body, rb.body);
    ASSERT_FALSE(ra.email.empty() && ra.phone.empty());
    ++kinds[ra.kind];
    if (!ra.email.empty()) {
      email_bytes += static_cast<double>(ra.email.size());
      ++emails;
      ASSERT_NE(ra.email.find('@'), std::string::npos);
    }
    if (!ra.phone.empty()) {
      ASSERT_EQ(ra.phone.size(), 12u) << ra.phone;
    }
    if (ra.kind == RequestKind::kAdd || ra.kind == RequestKind::kJoin || ra.kind == RequestKind::kNew) {
      ASSERT_FALSE(ra.email.empty());
      ASSERT_FALSE(ra.phone.empty());
    }
  }
  EXPECT_NEAR(kinds[RequestKind::kRepeat], 16000, 600);
  EXPECT_NEAR(kinds[RequestKind::kNew], 3000, 300);
  EXPECT_NEAR(kinds[RequestKind::kAdd], 800, 150);
  EXPECT_NEAR(kinds[RequestKind::kJoin], 200, 80);
  EXPECT_NEAR(email_bytes / emails, 24, 3);
}

// Runs `mix` after `preload` customers; checks that two workloads with the
// same seed agree and that every wildjoin/junk request carries values the
// server was given (`known`) or a junk phone. Returns the kind counts.
std::map<RequestKind, int> RunBadDataMix(const std::string& mix, int preload, int requests, std::uint64_t seed) {
  Workload::Options o;
  o.seed = seed;
  EXPECT_TRUE(Mix::Parse(mix, &o.mix));
  Workload a(o), b(o);
  std::set<std::string> emails, phones;
  for (int i = 0; i < preload; ++i) {
    const GeneratedRequest r = a.NextNewCustomer();
    EXPECT_EQ(b.NextNewCustomer().body, r.body);
    emails.insert(r.email);
    phones.insert(r.phone);
  }
  const auto& junk = Workload::JunkPhones();
  std::map<RequestKind, int> kinds;
  for (int i = 0; i < requests; ++i) {
    const GeneratedRequest r = a.Next();
    EXPECT_EQ(b.Next().body, r.body) << "request " << i;
    ++kinds[r.kind];
    if (r.kind == RequestKind::kNew || r.kind == RequestKind::kAdd) {
      emails.insert(r.email);
      phones.insert(r.phone);
    }
    if (r.kind == RequestKind::kWildJoin) {
      EXPECT_TRUE(emails.count(r.email)) << r.body;
      EXPECT_TRUE(phones.count(r.phone)) << r.body;
    } else if (r.kind == RequestKind::kJunk) {
      EXPECT_TRUE(emails.count(r.email)) << r.body;
      EXPECT_NE(std::find(junk.begin(), junk.end(), r.phone), junk.end()) << r.body;
    }
    if (r.kind == RequestKind::kWildJoin || r.kind == RequestKind::kJunk) {
      EXPECT_EQ(r.body, "{\"email\":\"" + r.email + "\",\"phoneNumber\":\"" + r.phone + "\"}");
    }
  }
  return kinds;
}

TEST(Workload, WildJoinIgnoresTheClusterLimit) {
  // All wildjoin on 50 customers, max_cluster 20: a bounded join would run
  // out after ~25 merges and fall back to repeat; wildjoin never does
  // (except when it draws the same customer 4 times running).
  const auto kinds = RunBadDataMix("wildjoin=1", 50, 5000, 11);
  EXPECT_GE(kinds.at(RequestKind::kWildJoin), 4990);
  EXPECT_EQ(kinds.count(RequestKind::kJoin), 0u);
}

TEST(Workload, WildJoinAndJunkInTheirShareOfTheMix) {
  const auto kinds = RunBadDataMix("repeat=78,new=15,add=4,wildjoin=2,junk=1", 1000, 20000, 42);
  EXPECT_NEAR(kinds.at(RequestKind::kRepeat), 15600, 600);
  EXPECT_NEAR(kinds.at(RequestKind::kWildJoin), 400, 110);
  EXPECT_NEAR(kinds.at(RequestKind::kJunk), 200, 80);
}

TEST(Workload, JunkUsesEveryJunkPhoneAndNeverARealOne) {
  const auto& junk = Workload::JunkPhones();
  ASSERT_GE(junk.size(), 2u);
  for (std::uint64_t n : {0ULL, 1ULL, 1234567890ULL, 8999999999ULL}) {
    EXPECT_EQ(std::find(junk.begin(), junk.end(), Workload::PhoneFor(n)), junk.end()) << n;
  }
  Workload::Options o;
  o.seed = 3;
  ASSERT_TRUE(Mix::Parse("junk=1", &o.mix));
  Workload w(o);
  for (int i = 0; i < 10; ++i) w.NextNewCustomer();
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const GeneratedRequest r = w.Next();
    ASSERT_EQ(r.kind, RequestKind::kJunk);
    seen.insert(r.phone);
  }
  EXPECT_EQ(seen.size(), junk.size());
  EXPECT_EQ(w.customers(), 10u);  // junk does not change the model
}

TEST(Workload, ValuesAreDistinct) {
  std::set<std::string> seen;
  for (std::uint64_t n = 0; n < 50000; ++n) {
    ASSERT_TRUE(seen.insert(Workload::EmailFor(n)).second);
    ASSERT_TRUE(seen.insert(Workload::PhoneFor(n)).second);
  }
}

TEST(Workload, NewCustomerBodyIsJson) {
  Workload w(Workload::Options{});
  const GeneratedRequest r = w.NextNewCustomer();
  EXPECT_EQ(r.body, "{\"email\":\"" + r.email + "\",\"phoneNumber\":\"" + r.phone + "\"}");
  EXPECT_EQ(w.customers(), 1u);
}

TEST(CheckIdentifyResponse, AcceptsSpecShapeWithTheValues) {
  const std::string body =
      R"({"contact":{"primaryContatctId":1,"primaryContactId":1,"emails":["a@x","b@x"],)"
      R"("phoneNumbers":["123"],"secondaryContactIds":[2,5]}})";
  EXPECT_EQ(CheckIdentifyResponse(body, "b@x", "123", true), CheckResult::kOk);
  EXPECT_EQ(CheckIdentifyResponse(body, "", "123", true), CheckResult::kOk);
  EXPECT_EQ(CheckIdentifyResponse(body, "c@x", "123", true), CheckResult::kMissingValue);
  EXPECT_EQ(CheckIdentifyResponse(body, "a@x", "999", true), CheckResult::kMissingValue);
  EXPECT_EQ(CheckIdentifyResponse(body, "c@x", "999", false), CheckResult::kOk);
}

TEST(CheckIdentifyResponse, ReportsTheClusterSize) {
  const std::string body =
      R"({"contact":{"primaryContatctId":1,"primaryContactId":1,"emails":["a@x","b@x"],)"
      R"("phoneNumbers":["123"],"secondaryContactIds":[2,5]}})";
  CheckedAnswer answer;
  ASSERT_EQ(CheckIdentifyResponse(body, "a@x", "123", true, &answer), CheckResult::kOk);
  EXPECT_EQ(answer.cluster_values, 3u);
  EXPECT_FALSE(answer.email_guarded || answer.phone_guarded);
}

std::string GuardedBody(const std::string& guarded) {
  return R"({"contact":{"primaryContatctId":1,"primaryContactId":1,"emails":["a@x"],)"
         R"("phoneNumbers":["123"],"secondaryContactIds":[]},"guarded":)" +
         guarded + "}";
}

TEST(CheckIdentifyResponse, AGuardedValueNeedNotBeInTheCluster) {
  CheckedAnswer answer;
  // The junk phone was dropped: only the email must be there.
  ASSERT_EQ(CheckIdentifyResponse(GuardedBody(R"(["phoneNumber"])"), "a@x", "0000000000", true, &answer),
            CheckResult::kOk);
  EXPECT_TRUE(answer.phone_guarded);
  EXPECT_FALSE(answer.email_guarded);
  EXPECT_EQ(answer.cluster_values, 2u);
  ASSERT_EQ(CheckIdentifyResponse(GuardedBody(R"(["email"])"), "shared@x", "123", true, &answer), CheckResult::kOk);
  EXPECT_TRUE(answer.email_guarded);
  // A guarded value may still be listed (another contact of the cluster has it).
  EXPECT_EQ(CheckIdentifyResponse(GuardedBody(R"(["email"])"), "a@x", "123", true), CheckResult::kOk);
  EXPECT_EQ(CheckIdentifyResponse(GuardedBody("[]"), "a@x", "123", true), CheckResult::kOk);
}

TEST(CheckIdentifyResponse, ValuesNotGuardedAreStillRequired) {
  EXPECT_EQ(CheckIdentifyResponse(GuardedBody(R"(["phoneNumber"])"), "zz@x", "0000000000", true),
            CheckResult::kMissingValue);
  EXPECT_EQ(CheckIdentifyResponse(GuardedBody(R"(["email"])"), "shared@x", "999", true), CheckResult::kMissingValue);
  EXPECT_EQ(CheckIdentifyResponse(GuardedBody("[]"), "a@x", "0000000000", true), CheckResult::kMissingValue);
}

TEST(CheckIdentifyResponse, GuardedMustNameOnlySentFieldsAndLeaveOne) {
  // Every value guarded is a 422, never a 200.
  EXPECT_EQ(CheckIdentifyResponse(GuardedBody(R"(["email","phoneNumber"])"), "a@x", "123", true),
            CheckResult::kBadShape);
  EXPECT_EQ(CheckIdentifyResponse(GuardedBody(R"(["phoneNumber"])"), "", "123", true), CheckResult::kBadShape);
  // A field the request did not carry.
  EXPECT_EQ(CheckIdentifyResponse(GuardedBody(R"(["email"])"), "", "123", true), CheckResult::kBadShape);
  // Not an array of the two field names.
  for (const char* bad : {R"("email")", R"(["phone"])", R"([1])", "null", R"({"email":true})"}) {
    EXPECT_EQ(CheckIdentifyResponse(GuardedBody(bad), "a@x", "123", false), CheckResult::kBadShape) << bad;
  }
}

TEST(CheckIdentifyResponse, RejectsBadShapes) {
  EXPECT_EQ(CheckIdentifyResponse("{", "", "1", false), CheckResult::kNotJson);
  EXPECT_EQ(CheckIdentifyResponse("[]", "", "1", false), CheckResult::kBadShape);
  EXPECT_EQ(CheckIdentifyResponse(R"({"error":"x"})", "", "1", false), CheckResult::kBadShape);
  // Ids differ.
  EXPECT_EQ(CheckIdentifyResponse(R"({"contact":{"primaryContatctId":1,"primaryContactId":2,"emails":[],)"
                                  R"("phoneNumbers":[],"secondaryContactIds":[]}})",
                                  "", "", false),
            CheckResult::kBadShape);
  // A number among the emails.
  EXPECT_EQ(CheckIdentifyResponse(R"({"contact":{"primaryContatctId":1,"primaryContactId":1,"emails":[3],)"
                                  R"("phoneNumbers":[],"secondaryContactIds":[]}})",
                                  "", "", false),
            CheckResult::kBadShape);
  // Secondaries not ascending.
  EXPECT_EQ(CheckIdentifyResponse(R"({"contact":{"primaryContatctId":1,"primaryContactId":1,"emails":[],)"
                                  R"("phoneNumbers":[],"secondaryContactIds":[3,2]}})",
                                  "", "", false),
            CheckResult::kBadShape);
  // Missing a field.
  EXPECT_EQ(CheckIdentifyResponse(R"({"contact":{"primaryContatctId":1,"primaryContactId":1,"emails":[]}})", "", "",
                                  false),
            CheckResult::kBadShape);
}

TEST(ParseTarget, HostAndPortOfAnHttpUrl) {
  std::string host, port;
  ASSERT_TRUE(ParseTarget("http://127.0.0.1:8080", &host, &port));
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, "8080");
  ASSERT_TRUE(ParseTarget("http://localhost:80/identify", &host, &port));
  EXPECT_EQ(host, "localhost");
  EXPECT_EQ(port, "80");
  ASSERT_TRUE(ParseTarget("http://[::1]:9000", &host, &port));
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, "9000");
  for (const char* bad : {"127.0.0.1:80", "https://127.0.0.1:80", "http://127.0.0.1", "http://:80", "http://[::1]",
                          "http://[::1]9000", "http://127.0.0.1:"}) {
    EXPECT_FALSE(ParseTarget(bad, &host, &port)) << bad;
  }
}

}  // namespace
}  // namespace idrecon::load
