// MatchKeys: email keys lower-case ASCII, phone keys are libphonenumber's
// E.164 form or the value's digits, keys stay within the documented bound,
// and concurrent callers get the same keys. The expected phone keys are
// libphonenumber's own answers (8.12.57), checked by hand for sense.
#include "engine/match_key.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tests/testing/seed.h"

namespace idrecon {
namespace {

MatchKeys On(std::string region = "") { return MatchKeys(NormalizationSettings{true, std::move(region)}); }

std::string Email(const MatchKeys& keys, std::string_view value) {
  std::string scratch;
  return std::string(keys.EmailKey(value, &scratch));
}

std::string Phone(const MatchKeys& keys, std::string_view value) {
  std::string scratch;
  return std::string(keys.PhoneKey(value, &scratch));
}

bool IsViewOf(std::string_view view, std::string_view whole) {
  return view.data() == whole.data() && view.size() == whole.size();
}

TEST(MatchKeysTest, OffKeysAreTheValuesThemselves) {
  const MatchKeys keys{NormalizationSettings{}};
  EXPECT_FALSE(keys.normalizes());
  std::string scratch = "untouched";
  for (std::string_view v : {"Emma@Example.COM", "+91 98765 43210", "098765 43210", "abc", "\xc3\x89MMA@x.io"}) {
    EXPECT_TRUE(IsViewOf(keys.EmailKey(v, &scratch), v)) << v;
    EXPECT_TRUE(IsViewOf(keys.PhoneKey(v, &scratch), v)) << v;
    EXPECT_TRUE(keys.EmailKeyEquals(v, v)) << v;
  }
  EXPECT_FALSE(keys.EmailKeyEquals("Emma@Example.COM", "emma@example.com"));
  EXPECT_EQ(scratch, "untouched");
  // A default region does nothing while normalisation is off.
  const MatchKeys off_in{NormalizationSettings{false, "IN"}};
  std::string_view v = "098765 43210";
  EXPECT_TRUE(IsViewOf(off_in.PhoneKey(v, &scratch), v));
}

TEST(MatchKeysTest, EmailKeyLowerCasesAsciiLettersOnly) {
  const MatchKeys keys = On();
  EXPECT_TRUE(keys.normalizes());
  struct Case {
    std::string_view value, key;
  };
  const Case cases[] = {
      {"emma@example.com", "emma@example.com"},
      {"Emma@Example.COM", "emma@example.com"},
      {"EMMA.CHEN+TAG@GMAIL.COM", "emma.chen+tag@gmail.com"},
      {"A", "a"},
      {"z", "z"},
      {"@[]^_`{|}~", "@[]^_`{|}~"},  // the bytes either side of 'A'-'Z' and 'a'-'z'
      {"\xc3\x89MMA@X.IO", "\xc3\x89mma@x.io"},  // "ÉMMA": É (U+00C9) is not ASCII and stays
      {"\xc3\xa9mma@x.io", "\xc3\xa9mma@x.io"},
      {"\xff\x80Q", "\xff\x80q"},
      {"\xce\x91@X", "\xce\x91@x"},  // Greek capital alpha stays
  };
  for (const Case& c : cases) {
    std::string scratch;
    const std::string_view key = keys.EmailKey(c.value, &scratch);
    EXPECT_EQ(key, c.key) << c.value;
    // A view of the value when nothing changes, of the scratch otherwise.
    EXPECT_TRUE(c.value == c.key ? IsViewOf(key, c.value) : IsViewOf(key, scratch)) << c.value;
  }
}

TEST(MatchKeysTest, EmailKeyEqualsAgreesWithEmailKey) {
  const MatchKeys on = On();
  const MatchKeys off{NormalizationSettings{}};
  const std::vector<std::string> values = {
      "emma@example.com", "Emma@Example.COM", "EMMA@EXAMPLE.COM", "emma@example.co", "emma@example.comm",
      "\xc3\x89mma@x.io", "\xc3\xa9mma@x.io", "\xc3\x89MMA@X.IO", "@[]^_`{|}~", "@{}~^_`[]|", "a", "A", "b",
  };
  for (const MatchKeys* keys : {&on, &off}) {
    for (const std::string& value : values) {
      for (const std::string& other : values) {
        std::string scratch;
        const std::string key(keys->EmailKey(other, &scratch));
        EXPECT_EQ(keys->EmailKeyEquals(value, key), Email(*keys, value) == key)
            << "value " << value << " key " << key << " normalize " << keys->normalizes();
      }
    }
  }
  EXPECT_TRUE(on.EmailKeyEquals("Emma@Example.COM", "emma@example.com"));
  // The key is already lower case: an upper-case "key" is no key of anything.
  EXPECT_FALSE(on.EmailKeyEquals("Emma@Example.COM", "Emma@Example.COM"));
  EXPECT_FALSE(on.EmailKeyEquals("\xc3\x89mma@x.io", "\xc3\xa9mma@x.io"));
}

struct PhoneCase {
  std::string_view value, key;
};

void ExpectPhoneKeys(const std::string& region, const std::vector<PhoneCase>& cases) {
  const MatchKeys keys = On(region);
  for (const PhoneCase& c : cases) {
    std::string scratch;
    const std::string_view key = keys.PhoneKey(c.value, &scratch);
    EXPECT_EQ(key, c.key) << "region '" << region << "' value " << c.value;
    EXPECT_TRUE(c.value == c.key ? IsViewOf(key, c.value) : IsViewOf(key, scratch)) << c.value;
  }
}

TEST(MatchKeysTest, PhoneKeysWithRegionIN) {
  ExpectPhoneKeys("IN", {
                            {"+91 98765 43210", "+919876543210"},
                            {"098765 43210", "+919876543210"},
                            {"9876543210", "+919876543210"},
                            {"+919876543210", "+919876543210"},
                            {"0091 98765 43210", "+919876543210"},
                            {"tel:+91-98765-43210", "+919876543210"},
                            {"+91 98765 43210 ext 12", "+919876543210"},  // E.164 has no extension
                            {"+1 (650) 253-0000", "+16502530000"},
                            {"(650) 253-0000", "+916502530000"},
                            {"+44 (0)20 7031 3000", "+442070313000"},
                        });
}

TEST(MatchKeysTest, PhoneKeysWithRegionUS) {
  ExpectPhoneKeys("US", {
                            {"+1 (650) 253-0000", "+16502530000"},
                            {"(650) 253-0000", "+16502530000"},
                            {"650-253-0000", "+16502530000"},
                            {"1 650 253 0000", "+16502530000"},
                            {"+1-650-253-0000", "+16502530000"},
                            {"1-800-FLOWERS", "+18003569377"},  // libphonenumber reads vanity letters
                            {"9876543210", "+19876543210"},
                            {"+91 98765 43210", "+919876543210"},
                            {"098765 43210", "09876543210"},  // no US number: digits only
                        });
}

TEST(MatchKeysTest, PhoneKeysWithRegionGB) {
  ExpectPhoneKeys("GB", {
                            {"+44 20 7031 3000", "+442070313000"},
                            {"020 7031 3000", "+442070313000"},
                            {"+44 (0)20 7031 3000", "+442070313000"},
                            {"07700 900123", "+447700900123"},
                            {"+44 7700 900123", "+447700900123"},
                            {"0091 98765 43210", "+919876543210"},  // 00: GB's international prefix
                            {"1 650 253 0000", "16502530000"},
                        });
}

TEST(MatchKeysTest, PhoneKeysWithRegionDE) {
  ExpectPhoneKeys("DE", {
                            {"+49 30 123456", "+4930123456"},
                            {"030 123456", "+4930123456"},
                            {"+49 (0)30 1234567", "+49301234567"},
                            {"0049 30 1234567", "+49301234567"},
                            {"+4915123456789", "+4915123456789"},
                            {"12", "+4912"},  // a possible German number: the key is longer than the value
                        });
}

// libphonenumber strips a national prefix from an international number too,
// so its E.164 form is not always its own key: keys are computed from
// values, never from keys.
TEST(MatchKeysTest, AnE164KeyNeedNotBeItsOwnKey) {
  const MatchKeys de = On("DE");
  EXPECT_EQ(Phone(de, "000000"), "+4900000");
  EXPECT_EQ(Phone(de, "+4900000"), "+490000");
  EXPECT_EQ(Phone(de, "+490000"), "+490000");
}

TEST(MatchKeysTest, PhoneKeysWithoutRegion) {
  ExpectPhoneKeys("", {
                          {"+91 98765 43210", "+919876543210"},
                          {"+1 (650) 253-0000", "+16502530000"},
                          {"+44 (0)20 7031 3000", "+442070313000"},
                          {"+49 30 123456", "+4930123456"},
                          {"tel:+91-98765-43210", "+919876543210"},
                          // Without '+' there is no country: digits only.
                          {"098765 43210", "09876543210"},
                          {"(650) 253-0000", "6502530000"},
                          {"0049 30 1234567", "0049301234567"},
                          {"9876543210", "9876543210"},
                      });
}

TEST(MatchKeysTest, TheThreeIndianSpellingsShareOneKey) {
  const MatchKeys keys = On("IN");
  EXPECT_EQ(Phone(keys, "+91 98765 43210"), "+919876543210");
  EXPECT_EQ(Phone(keys, "098765 43210"), "+919876543210");
  EXPECT_EQ(Phone(keys, "9876543210"), "+919876543210");
  // Without the default region only the international spelling finds it.
  const MatchKeys none = On();
  EXPECT_EQ(Phone(none, "+91 98765 43210"), "+919876543210");
  EXPECT_NE(Phone(none, "098765 43210"), "+919876543210");
  EXPECT_NE(Phone(none, "9876543210"), "+919876543210");
}

TEST(MatchKeysTest, NumbersThatAreNotPossibleKeepDigitsAndLeadingPlus) {
  for (const std::string region : {"", "IN", "US", "GB", "DE"}) {
    ExpectPhoneKeys(region, {
                                {"+91 98765 43210 12345 6789", "+919876543210123456789"},  // too long
                                {"+919876543210123456789", "+919876543210123456789"},
                                {"+1 2", "+12"},  // too short
                                {"+0000", "+0000"},  // no country code 0
                                {"1234 5678 9012 3456 7890 1234", "123456789012345678901234"},
                                {"a1b2", "12"},
                                {"+x1", "+1"},
                            });
  }
  // Letters are digits to libphonenumber only in a number it reads as a
  // vanity number: without a region, "1-800-FLOWERS" is just "1800".
  ExpectPhoneKeys("", {{"1-800-FLOWERS", "1800"}});
}

TEST(MatchKeysTest, ValuesWithoutDigitsAreTheirOwnKeys) {
  for (const std::string region : {"", "IN", "US", "GB", "DE"}) {
    const MatchKeys keys = On(region);
    for (std::string_view v : {"abc", "xyz", "+", "+abc", "-", "()", "\xd9\xa0\xd9\xa1 no", "ext"}) {
      std::string scratch;
      EXPECT_TRUE(IsViewOf(keys.PhoneKey(v, &scratch), v)) << "region '" << region << "' value " << v;
    }
    EXPECT_NE(Phone(keys, "abc"), Phone(keys, "xyz"));
  }
}

// Each thread remembers recent phone keys by value and region: a value asked
// again, under another region in between, gets each region's own key.
TEST(MatchKeysTest, RememberedPhoneKeysAreEachRegionsOwn) {
  const MatchKeys in = On("IN"), us = On("US"), none = On();
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(Phone(in, "9876543210"), "+919876543210") << round;
    EXPECT_EQ(Phone(us, "9876543210"), "+19876543210") << round;
    EXPECT_EQ(Phone(none, "9876543210"), "9876543210") << round;
    std::string scratch = "stale";
    std::string_view v = "9876543210";
    EXPECT_TRUE(IsViewOf(none.PhoneKey(v, &scratch), v)) << round;
    EXPECT_EQ(in.PhoneKey(v, &scratch), "+919876543210") << round;
    // Longer than the memo keeps: parsed every time, same answer.
    EXPECT_EQ(Phone(in, "+91 98765 43210 ext. 1234567890123"), "+919876543210") << round;
  }
  // A MatchKeys made later, with the same region, agrees with the memo.
  EXPECT_EQ(Phone(On("US"), "9876543210"), "+19876543210");
}

TEST(ParseRegionTest, AcceptsKnownTwoLetterRegionsInAnyCase) {
  std::string region;
  ASSERT_TRUE(ParseRegion("in", &region).ok());
  EXPECT_EQ(region, "IN");
  ASSERT_TRUE(ParseRegion("IN", &region).ok());
  EXPECT_EQ(region, "IN");
  ASSERT_TRUE(ParseRegion("us", &region).ok());
  EXPECT_EQ(region, "US");
  ASSERT_TRUE(ParseRegion("gB", &region).ok());
  EXPECT_EQ(region, "GB");
}

TEST(ParseRegionTest, RejectsAnythingElse) {
  for (std::string_view text : {"", "I", "INDIA", "ZZ", "zz", "XX", "1N", "I\n", "001", "\xc3\x89S"}) {
    std::string region = "unchanged";
    const Status s = ParseRegion(text, &region);
    EXPECT_TRUE(s.IsInvalidArgument()) << text;
    EXPECT_FALSE(s.message().empty()) << text;
    EXPECT_EQ(region, "unchanged") << text;
  }
  std::string region;
  EXPECT_NE(ParseRegion("XX", &region).message().find("XX"), std::string::npos);
  // A control byte is shown escaped, not written to the person's terminal.
  EXPECT_NE(ParseRegion("I\x1b", &region).message().find("I\\x1b"), std::string::npos);
}

TEST(DescribeTest, NamesTheSetting) {
  EXPECT_EQ(Describe(NormalizationSettings{}), "off");
  EXPECT_EQ(Describe(NormalizationSettings{false, "IN"}), "off");
  EXPECT_EQ(Describe(NormalizationSettings{true, ""}), "on");
  EXPECT_EQ(Describe(NormalizationSettings{true, "IN"}), "on (default region IN)");
}

// Random values of up to 64 bytes drawn from what phone numbers are written
// with (and some of what they are not): the keys stay within the bound the
// header documents, so values of up to 64 bytes have keys of up to 64.
TEST(MatchKeysTest, KeysStayWithinTheDocumentedBound) {
  const std::uint64_t seed = testing::TestSeed();
  std::printf("IDRECON_SEED=%llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  static constexpr std::string_view kAlphabet = "0123456789000111+++   ()-.x/abcFLOWERS#*";
  const MatchKeys regions[] = {On(), On("IN"), On("US"), On("GB"), On("DE")};
  std::size_t longer = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string value;
    const std::size_t size = 1 + rng() % (i % 2 == 0 ? 64 : 20);
    while (value.size() < size) value.push_back(kAlphabet[rng() % kAlphabet.size()]);
    // Trimmed, as the contract requires.
    while (!value.empty() && value.back() == ' ') value.pop_back();
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    if (value.empty()) continue;
    for (const MatchKeys& keys : regions) {
      const std::string key = Phone(keys, value);
      ASSERT_FALSE(key.empty()) << value;
      ASSERT_LE(key.size(), std::max(value.size(), MatchKeys::kMaxE164KeySize)) << value;
      ASSERT_LE(key.size(), 64u) << value;
      if (key.size() > value.size()) ++longer;
      ASSERT_EQ(Email(keys, value).size(), value.size()) << value;
    }
  }
  EXPECT_GT(longer, 0u);  // the bound is not the value's own size
}

TEST(MatchKeysTest, ConcurrentCallersGetTheSameKeys) {
  const std::vector<std::string> values = {
      "+91 98765 43210", "098765 43210", "9876543210", "+1 (650) 253-0000", "(650) 253-0000", "020 7031 3000",
      "030 123456",      "1-800-FLOWERS", "abc",       "+0000",             "Emma@Example.COM", "12",
  };
  const MatchKeys regions[] = {On(), On("IN"), On("US"), On("GB"), On("DE")};
  std::vector<std::string> expected;
  for (const MatchKeys& keys : regions) {
    for (const std::string& v : values) {
      expected.push_back(Phone(keys, v));
      expected.push_back(Email(keys, v));
    }
  }
  // Each thread counts the rounds in which any key differed.
  std::vector<int> wrong_rounds(4, 0);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < wrong_rounds.size(); ++t) {
    threads.emplace_back([&, t] {
      std::string scratch;
      for (int round = 0; round < 200; ++round) {
        std::size_t i = 0;
        bool same = true;
        for (const MatchKeys& keys : regions) {
          for (const std::string& v : values) {
            same = same && keys.PhoneKey(v, &scratch) == expected[i];
            same = same && keys.EmailKey(v, &scratch) == expected[i + 1];
            i += 2;
          }
        }
        if (!same) ++wrong_rounds[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int wrong : wrong_rounds) EXPECT_EQ(wrong, 0);
}

TEST(MatchKeysTest, LibphonenumberPrintsNothing) {
  const MatchKeys keys = On("IN");
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  for (std::string_view v : {"", "+", "++", "abc", "+0000", "tel:;;", "+91 98765 43210 ext", "\xff\xfe"}) {
    if (v.empty()) continue;
    std::string scratch;
    keys.PhoneKey(v, &scratch);
  }
  std::string region;
  (void)ParseRegion("XX", &region);
  EXPECT_EQ(::testing::internal::GetCapturedStdout(), "");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

}  // namespace
}  // namespace idrecon
