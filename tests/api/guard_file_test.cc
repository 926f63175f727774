#include "api/guard_file.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "testing/seed.h"

namespace idrecon {
namespace {

std::vector<GuardFileEntry> ParseOk(std::string_view text) {
  std::vector<GuardFileEntry> entries;
  const Status s = ParseGuardFile(text, &entries);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return entries;
}

// The error message of a rejected text (fails the test if it is accepted).
std::string ParseError(std::string_view text) {
  std::vector<GuardFileEntry> entries{{GuardField::kEmail, "left over", 9}};
  const Status s = ParseGuardFile(text, &entries);
  EXPECT_FALSE(s.ok()) << "accepted: " << text;
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_TRUE(entries.empty()) << "entries left behind on error";
  return s.message();
}

void ExpectEntry(const GuardFileEntry& e, GuardField field, std::string_view value, int line) {
  EXPECT_EQ(e.field, field);
  EXPECT_EQ(e.value, value);
  EXPECT_EQ(e.line, line);
}

TEST(GuardFileTest, EmailAndPhoneLinesInFileOrder) {
  const auto entries = ParseOk("email:info@shop.com\nphone:0000000000\nemail:noreply@x.org\n");
  ASSERT_EQ(entries.size(), 3u);
  ExpectEntry(entries[0], GuardField::kEmail, "info@shop.com", 1);
  ExpectEntry(entries[1], GuardField::kPhone, "0000000000", 2);
  ExpectEntry(entries[2], GuardField::kEmail, "noreply@x.org", 3);
}

TEST(GuardFileTest, EmptyTextAndBlankLinesGiveNothing) {
  EXPECT_TRUE(ParseOk("").empty());
  EXPECT_TRUE(ParseOk("\n\n").empty());
  EXPECT_TRUE(ParseOk("   \n\t\n \r\n\r").empty());
}

TEST(GuardFileTest, LineNumbersCountBlankAndCommentLines) {
  const auto entries = ParseOk("\n# shared mailbox\n   \nemail:a@x\n\n\nphone:1");
  ASSERT_EQ(entries.size(), 2u);
  ExpectEntry(entries[0], GuardField::kEmail, "a@x", 4);
  ExpectEntry(entries[1], GuardField::kPhone, "1", 7);  // the last line needs no '\n'
}

TEST(GuardFileTest, CrlfLinesReadTheSame) {
  const auto entries = ParseOk("email:a@x\r\n# c\r\nphone:123\r\n");
  ASSERT_EQ(entries.size(), 2u);
  ExpectEntry(entries[0], GuardField::kEmail, "a@x", 1);
  ExpectEntry(entries[1], GuardField::kPhone, "123", 3);
}

TEST(GuardFileTest, CommentLinesMayBeIndented) {
  EXPECT_TRUE(ParseOk("# email:a@x\n  # phone:1\n\t#\n#no space needed").empty());
}

TEST(GuardFileTest, WhitespacePrecededHashStartsATrailingComment) {
  const auto entries = ParseOk("email:a@x # the front desk\nphone:123\t#tab too\nemail:b@x  ##\n");
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].value, "a@x");
  EXPECT_EQ(entries[1].value, "123");
  EXPECT_EQ(entries[2].value, "b@x");
}

TEST(GuardFileTest, HashInsideAValueIsKept) {
  const auto entries = ParseOk("email:a#b@x.com\nemail:#c@x\nphone:12#34 # note\n");
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].value, "a#b@x.com");
  EXPECT_EQ(entries[1].value, "#c@x");
  EXPECT_EQ(entries[2].value, "12#34");
}

TEST(GuardFileTest, ValuesAreTrimmedButOtherwiseKeptAsWritten) {
  const auto entries = ParseOk("   email:   Info@Shop.COM  \n\tphone: +1 (555) 010-0000 \t\n");
  ASSERT_EQ(entries.size(), 2u);
  ExpectEntry(entries[0], GuardField::kEmail, "Info@Shop.COM", 1);
  ExpectEntry(entries[1], GuardField::kPhone, "+1 (555) 010-0000", 2);
}

TEST(GuardFileTest, NonAsciiUtf8IsAccepted) {
  const auto entries = ParseOk("email:j\xC3\xBCrgen@b\xC3\xA4" "ckerei.de\n");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].value, "j\xC3\xBCrgen@b\xC3\xA4" "ckerei.de");
}

TEST(GuardFileTest, DuplicatesAreKept) {
  const auto entries = ParseOk("email:a@x\nemail:a@x\nphone:1\nphone:1\n");
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[1].line, 2);
  EXPECT_EQ(entries[3].line, 4);
}

TEST(GuardFileTest, OnlyTheExactLowerCasePrefixesAreAccepted) {
  for (const char* bad : {"Email:a@x", "EMAIL:a@x", "email :a@x", "e-mail:a@x", "mail:a@x", "phoneNumber:1",
                          "a@x", "email", "phone", "email=a@x", ":a@x", "\vemail:a@x", "x email:a@x"}) {
    const std::string msg = ParseError(std::string("# header\n") + bad + "\n");
    EXPECT_EQ(msg, "guard file line 2: expected a line starting with \"email:\" or \"phone:\"") << bad;
  }
}

TEST(GuardFileTest, EmptyValueIsRejected) {
  EXPECT_EQ(ParseError("email:"), "guard file line 1: email is empty");
  EXPECT_EQ(ParseError("email:a@x\nphone:   \t"), "guard file line 2: phone is empty");
  EXPECT_EQ(ParseError("\n\nemail: # nothing here"), "guard file line 3: email is empty");
  EXPECT_EQ(ParseError("phone:\r\n"), "guard file line 1: phone is empty");
}

TEST(GuardFileTest, ValuesUpToTheIdentifyLimitsAreAccepted) {
  const std::string email(kMaxEmailBytes, 'e'), phone(kMaxPhoneBytes, '7');
  const auto entries = ParseOk("email:" + email + "\nphone:  " + phone + "  \n");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].value, email);
  EXPECT_EQ(entries[1].value, phone);
}

TEST(GuardFileTest, ValuesOverTheIdentifyLimitsAreRejected) {
  EXPECT_EQ(ParseError("email:" + std::string(kMaxEmailBytes + 1, 'e')),
            "guard file line 1: email is longer than 320 bytes");
  EXPECT_EQ(ParseError("phone:1\nphone:" + std::string(kMaxPhoneBytes + 1, '7')),
            "guard file line 2: phone is longer than 64 bytes");
}

TEST(GuardFileTest, InvalidUtf8IsRejected) {
  EXPECT_EQ(ParseError("email:a\xFF@x"), "guard file line 1: email is not valid UTF-8");
  EXPECT_EQ(ParseError("phone:1\nphone:\xC0\xAF"), "guard file line 2: phone is not valid UTF-8");  // overlong
  EXPECT_EQ(ParseError("email:a@x\xC3"), "guard file line 1: email is not valid UTF-8");         // cut short
}

TEST(GuardFileTest, ControlCharactersInsideAValueAreRejected) {
  for (const std::string& bad : {std::string("a\tb@x"), std::string("a\x01@x"), std::string("a\x7f@x"),
                                std::string("a\r@x"), std::string("a@x\0y", 5), std::string("a\x1b[0m@x")}) {
    EXPECT_EQ(ParseError("\nemail:" + bad + "\n"), "guard file line 2: email contains a control character");
  }
  EXPECT_EQ(ParseError("phone:12\t34"), "guard file line 1: phone contains a control character");
}

TEST(GuardFileTest, TheFirstBadLineIsReported) {
  EXPECT_EQ(ParseError("email:a@x\nbogus\nemail:\n"),
            "guard file line 2: expected a line starting with \"email:\" or \"phone:\"");
}

TEST(GuardFileTest, ErrorsNeverEchoTheValue) {
  const std::string secret = "jane.doe.private";
  for (const std::string& text :
       {"email:" + secret + "\x01", "email:" + secret + "\xFF", "email:" + secret + std::string(400, 'x'),
        secret + "@x", "Email:" + secret}) {
    const std::string msg = ParseError(text);
    EXPECT_EQ(msg.find(secret), std::string::npos) << msg;
    EXPECT_EQ(msg.find("jane"), std::string::npos) << msg;
  }
}

TEST(GuardFileTest, PreviousContentsOfOutAreReplaced) {
  std::vector<GuardFileEntry> entries{{GuardField::kPhone, "old", 1}};
  ASSERT_TRUE(ParseGuardFile("email:new@x", &entries).ok());
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].value, "new@x");
}

TEST(GuardFileTest, RandomTextNeverBreaksTheOutputRules) {
  const std::uint64_t seed = testing::TestSeed();
  std::printf("IDRECON_SEED=%llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  const std::vector<std::string> pieces = {"email:", "phone:", "#", " ", "\t", "\r", "\n", "a", "@", "\xC3\xA9",
                                           "\xFF", "\x01", "x.com", "0000000000"};
  for (int round = 0; round < 5000; ++round) {
    std::string text;
    const int n = static_cast<int>(rng() % 24);
    for (int i = 0; i < n; ++i) text += pieces[rng() % pieces.size()];
    std::vector<GuardFileEntry> entries;
    const Status s = ParseGuardFile(text, &entries);
    if (!s.ok()) {
      ASSERT_TRUE(s.IsInvalidArgument());
      ASSERT_EQ(s.message().rfind("guard file line ", 0), 0u) << s.message();
      continue;
    }
    int lines = 1;
    for (const char c : text) lines += c == '\n';
    for (const auto& e : entries) {
      ASSERT_FALSE(e.value.empty());
      ASSERT_EQ(TrimAsciiWhitespace(e.value), e.value);
      ASSERT_GE(e.line, 1);
      ASSERT_LE(e.line, lines);
    }
  }
}

TEST(GuardFilePrefix, IsTheLinePrefix) {
  EXPECT_EQ(GuardFilePrefix(GuardField::kEmail), "email");
  EXPECT_EQ(GuardFilePrefix(GuardField::kPhone), "phone");
}

}  // namespace
}  // namespace idrecon
