#include "api/json_writer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace idrecon {
namespace {

std::string Quoted(std::string_view value) {
  std::string out;
  AppendJsonString(out, value);
  return out;
}

TEST(JsonWriterTest, EscapesQuoteAndBackslash) {
  EXPECT_EQ(Quoted(R"(say "hi")"), R"("say \"hi\"")");
  EXPECT_EQ(Quoted(R"(C:\path\)"), R"("C:\\path\\")");
  EXPECT_EQ(Quoted(""), R"("")");
}

TEST(JsonWriterTest, EscapesEveryControlCharacter) {
  for (int c = 0; c < 0x20; ++c) {
    std::string expected;
    switch (c) {
      case '\b': expected = R"(\b)"; break;
      case '\f': expected = R"(\f)"; break;
      case '\n': expected = R"(\n)"; break;
      case '\r': expected = R"(\r)"; break;
      case '\t': expected = R"(\t)"; break;
      default: {
        static constexpr char kHex[] = "0123456789abcdef";
        expected = "\\u00";
        expected += kHex[c >> 4];
        expected += kHex[c & 0xF];
      }
    }
    // Built by appending: GCC 12 -O3 misreports -Wrestrict on "lit" + string.
    std::string input = "a";
    input.push_back(static_cast<char>(c));
    input.push_back('b');
    std::string quoted = "\"a";
    quoted.append(expected).append("b\"");
    EXPECT_EQ(Quoted(input), quoted) << "control character " << c;
  }
}

TEST(JsonWriterTest, NulByteInTheMiddleIsEscaped) {
  EXPECT_EQ(Quoted(std::string_view("x\0y", 3)), R"("x\u0000y")");
}

TEST(JsonWriterTest, Utf8AndDelPassThroughUnchanged) {
  const std::string text = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \x7F";  // café € 😀 DEL
  EXPECT_EQ(Quoted(text), "\"" + text + "\"");
  EXPECT_EQ(Quoted("/<>'"), R"("/<>'")");
}

TEST(JsonWriterTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("ascii \x7F \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF"));
  for (std::string_view bad : {"\x80", "\xC3", "\xC0\xAF", "\xC1\xBF", "\xE0\x80\xAF", "\xED\xA0\x80",
                               "\xF0\x80\x80\xAF", "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\xFF", "a\xE2\x82"}) {
    EXPECT_FALSE(IsValidUtf8(bad)) << ::testing::PrintToString(bad);
  }
  EXPECT_EQ(ReplaceInvalidUtf8("a\xFF\xC3\xA9\xE2\x82"), "a\xEF\xBF\xBD\xC3\xA9\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(ReplaceInvalidUtf8("plain"), "plain");
}

TEST(JsonWriterTest, ObjectsArraysAndCommas) {
  std::string out;
  JsonWriter json(out);
  json.BeginObject();
  json.Key("a");
  json.Int(-1);
  json.Key("b");
  json.BeginArray();
  json.Uint(1);
  json.String("two");
  json.Null();
  json.Bool(true);
  json.Bool(false);
  json.BeginArray();
  json.EndArray();
  json.BeginObject();
  json.EndObject();
  json.EndArray();
  json.Key("c");
  json.BeginObject();
  json.Key("d\"");
  json.Null();
  json.EndObject();
  json.EndObject();
  EXPECT_EQ(out, R"({"a":-1,"b":[1,"two",null,true,false,[],{}],"c":{"d\"":null}})");
}

TEST(JsonWriterTest, IntegerExtremes) {
  std::string out;
  JsonWriter json(out);
  json.BeginArray();
  json.Int(std::numeric_limits<std::int64_t>::min());
  json.Uint(std::numeric_limits<std::uint64_t>::max());
  json.Int(0);
  json.EndArray();
  EXPECT_EQ(out, "[-9223372036854775808,18446744073709551615,0]");
}

TEST(JsonWriterTest, AppendsToExistingText) {
  std::string out = "prefix:";
  JsonWriter json(out);
  json.String("x");
  EXPECT_EQ(out, R"(prefix:"x")");
}

}  // namespace
}  // namespace idrecon
