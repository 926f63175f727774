#include "api/identify_request.h"

#include <gtest/gtest.h>

#include <string>

namespace idrecon {
namespace {

struct Parsed {
  bool ok = false;
  std::string email;
  std::string phone;
  std::string error;
};

Parsed Parse(std::string_view body) {
  IdentifyRequest request;
  request.email = "sentinel";  // must be overwritten on success
  request.phone = "sentinel";
  const Status s = ParseIdentifyRequest(body, &request);
  Parsed parsed;
  parsed.ok = s.ok();
  if (s.ok()) {
    parsed.email = request.email;
    parsed.phone = request.phone;
  } else {
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    EXPECT_FALSE(s.message().empty());
    parsed.error = s.message();
  }
  return parsed;
}

void ExpectOk(std::string_view body, std::string_view email, std::string_view phone) {
  const Parsed p = Parse(body);
  ASSERT_TRUE(p.ok) << body << " → " << p.error;
  EXPECT_EQ(p.email, email) << body;
  EXPECT_EQ(p.phone, phone) << body;
}

void ExpectRejected(std::string_view body, std::string_view error_contains = "") {
  const Parsed p = Parse(body);
  EXPECT_FALSE(p.ok) << "accepted: " << body;
  if (!p.ok) {
    EXPECT_NE(p.error.find(error_contains), std::string::npos) << body << " → " << p.error;
  }
}

TEST(IdentifyRequestTest, StringsAreReturnedRawUntrimmed) {
  ExpectOk(R"({"email":"a@b.c","phoneNumber":"123456"})", "a@b.c", "123456");
  ExpectOk(R"({"email":"  a@b.c \t","phoneNumber":" 12 "})", "  a@b.c \t", " 12 ");
  ExpectOk(R"({"email":"","phoneNumber":""})", "", "");
}

TEST(IdentifyRequestTest, EscapesAreDecoded) {
  ExpectOk(R"({"email":"a\"b\\c\u00e9\n"})", "a\"b\\c\xC3\xA9\n", "");
  ExpectOk(R"({"email":"\ud83d\ude00"})", "\xF0\x9F\x98\x80", "");
  ExpectOk(R"({"em\u0061il":"x"})", "x", "");  // an escaped key is still "email"
}

TEST(IdentifyRequestTest, Utf8PassesThrough) {
  ExpectOk("{\"email\":\"caf\xC3\xA9@x.fr\"}", "caf\xC3\xA9@x.fr", "");
}

TEST(IdentifyRequestTest, NullAndAbsentAreEmpty) {
  ExpectOk(R"({"email":null,"phoneNumber":"1"})", "", "1");
  ExpectOk(R"({"phoneNumber":"1"})", "", "1");
  ExpectOk(R"({"email":"e","phoneNumber":null})", "e", "");
  ExpectOk(R"({"email":"e"})", "e", "");
  // Both absent parses fine; the engine rejects it (router test covers the 400).
  ExpectOk(R"({})", "", "");
  ExpectOk(R"({"email":null,"phoneNumber":null})", "", "");
}

TEST(IdentifyRequestTest, IntegerPhoneIsItsDigitsAsWritten) {
  ExpectOk(R"({"phoneNumber":123456})", "", "123456");
  ExpectOk(R"({"phoneNumber":0})", "", "0");
  ExpectOk(R"({"phoneNumber":717171 })", "", "717171");
  ExpectOk("{\"phoneNumber\":\n 42\n}", "", "42");
  ExpectOk(R"({"phoneNumber":1234567890123456789012345})", "", "1234567890123456789012345");
  ExpectOk(R"({"phoneNumber":18446744073709551616})", "", "18446744073709551616");  // 2^64
}

TEST(IdentifyRequestTest, PhoneWithSignFractionOrExponentIsRejected) {
  ExpectRejected(R"({"phoneNumber":-1})", "phoneNumber");
  ExpectRejected(R"({"phoneNumber":-0})", "phoneNumber");
  ExpectRejected(R"({"phoneNumber":1.5})", "phoneNumber");
  ExpectRejected(R"({"phoneNumber":1.0})", "phoneNumber");
  ExpectRejected(R"({"phoneNumber":1e3})", "phoneNumber");
  ExpectRejected(R"({"phoneNumber":1E+3})", "phoneNumber");
  ExpectRejected(R"({"phoneNumber":12e-1})", "phoneNumber");
}

TEST(IdentifyRequestTest, MalformedNumbersAreInvalidJson) {
  ExpectRejected(R"({"phoneNumber":0123})", "not valid JSON");
  ExpectRejected(R"({"phoneNumber":12a})", "not valid JSON");
  ExpectRejected(R"({"phoneNumber":+1})", "not valid JSON");
  ExpectRejected(R"({"phoneNumber":1.})", "not valid JSON");
  ExpectRejected(R"({"phoneNumber":.5})", "not valid JSON");
  ExpectRejected(R"({"x":1e})", "not valid JSON");
  ExpectRejected(R"({"x":--1})", "not valid JSON");
}

TEST(IdentifyRequestTest, WrongTypesAreRejected) {
  ExpectRejected(R"({"email":1})", "email");
  ExpectRejected(R"({"email":true})", "email");
  ExpectRejected(R"({"email":["a"]})", "email");
  ExpectRejected(R"({"email":{"a":1}})", "email");
  ExpectRejected(R"({"phoneNumber":true})", "phoneNumber");
  ExpectRejected(R"({"phoneNumber":false})", "phoneNumber");
  ExpectRejected(R"({"phoneNumber":["1"]})", "phoneNumber");
  ExpectRejected(R"({"phoneNumber":{}})", "phoneNumber");
}

TEST(IdentifyRequestTest, BodyMustBeAnObject) {
  ExpectRejected(R"([])", "object");
  ExpectRejected(R"(["email"])", "object");
  ExpectRejected(R"("email")", "object");
  ExpectRejected(R"(42)", "object");
  ExpectRejected(R"(null)", "object");
  ExpectRejected(R"(true)", "object");
}

TEST(IdentifyRequestTest, InvalidJsonIsRejected) {
  ExpectRejected("", "not valid JSON");
  ExpectRejected("   ", "not valid JSON");
  ExpectRejected("{", "not valid JSON");
  ExpectRejected(R"({"email":"a")", "not valid JSON");
  ExpectRejected(R"({"email":"a)", "JSON");
  ExpectRejected(R"({"email" "a"})", "not valid JSON");
  ExpectRejected(R"({"email":"a",})", "not valid JSON");
  ExpectRejected(R"({"email":"a" "phoneNumber":"1"})", "not valid JSON");
  ExpectRejected(R"({email:"a"})", "not valid JSON");
  ExpectRejected(R"({'email':'a'})", "not valid JSON");
  ExpectRejected(R"({"email":"\x"})", "not valid JSON");
  ExpectRejected("{\"email\":\"a\nb\"}", "JSON");  // raw control character in a string
}

TEST(IdentifyRequestTest, GarbageAfterTheObjectIsRejected) {
  ExpectRejected(R"({"email":"a"} x)", "not valid JSON");
  ExpectRejected(R"({"email":"a"}})", "not valid JSON");
  ExpectRejected(R"({"email":"a"}{})", "not valid JSON");
  ExpectRejected(R"({"email":"a"} 1)", "not valid JSON");
  ExpectOk("{\"email\":\"a\"} \r\n\t", "a", "");  // trailing whitespace is fine
}

TEST(IdentifyRequestTest, IgnoredFieldsAreWalkedAndValidated) {
  ExpectOk(R"({"email":"a","x":{"y":[1,-2.5e3,"s",true,false,null,{"z":[]}]},"w":12345678901234567890123})", "a",
           "");
  ExpectRejected(R"({"email":"a","x":tru})", "not valid JSON");
  ExpectRejected(R"({"x":nul,"email":"a"})", "not valid JSON");
  ExpectRejected(R"({"x":truex,"email":"a"})", "not valid JSON");
  ExpectRejected(R"({"email":"a","x":[1,2,{"b":fals}]})", "not valid JSON");
  ExpectRejected(R"({"email":"a","x":[1,2,]})", "not valid JSON");
  ExpectRejected(R"({"email":"a","x":{"y":"\q"}})", "not valid JSON");
  ExpectRejected(R"({"email":"a","x":01})", "not valid JSON");
  // An ignored value in the wrong-type email must be valid JSON too.
  ExpectRejected(R"({"email":[tru],"email":"a"})", "not valid JSON");
}

TEST(IdentifyRequestTest, NestingIsLimited) {
  const auto nested = [](std::size_t depth) {
    return R"({"email":"a","x":)" + std::string(depth, '[') + std::string(depth, ']') + "}";
  };
  ExpectOk(nested(kMaxIgnoredDepth - 1), "a", "");
  ExpectRejected(nested(kMaxIgnoredDepth), "nested too deeply");
  ExpectRejected(nested(5000), "nested too deeply");
}

TEST(IdentifyRequestTest, InvalidUtf8IsRejected) {
  ExpectRejected("{\"email\":\"\xFF\"}", "UTF-8");
  ExpectRejected("{\"email\":\"\xC3\"}", "UTF-8");             // truncated sequence
  ExpectRejected("{\"email\":\"\xC0\xAF\"}", "UTF-8");         // overlong
  ExpectRejected("{\"email\":\"\xED\xA0\x80\"}", "UTF-8");     // encoded surrogate
  ExpectRejected("{\"email\":\"a\",\"x\":\"\xFE\"}", "UTF-8");  // in an ignored field
  ExpectRejected("{\"email\":\"a\"} \xFF", "UTF-8");           // after the object
}

TEST(IdentifyRequestTest, LoneSurrogateEscapeIsRejected) {
  ExpectRejected(R"({"email":"\ud800"})");
}

TEST(IdentifyRequestTest, DuplicateKeysLastWins) {
  ExpectOk(R"({"email":"first","email":"second"})", "second", "");
  ExpectOk(R"({"email":"first","email":null})", "", "");
  ExpectOk(R"({"phoneNumber":1,"phoneNumber":"2"})", "", "2");
  // An earlier wrong type is replaced by a later valid value, as in JSON.parse.
  ExpectOk(R"({"email":1,"email":"ok"})", "ok", "");
  ExpectOk(R"({"phoneNumber":-1,"phoneNumber":7})", "", "7");
  // ...and a later wrong type wins over an earlier valid value.
  ExpectRejected(R"({"email":"ok","email":1})", "email");
}

TEST(IdentifyRequestTest, ParserIsReusableAfterErrors) {
  for (int i = 0; i < 3; ++i) {
    ExpectRejected(R"({"email":)");
    ExpectOk(R"({"email":"again"})", "again", "");
  }
}

TEST(IdentifyRequestTest, LongStringsSurviveLaterParses) {
  IdentifyRequest first;
  ASSERT_TRUE(ParseIdentifyRequest(R"({"email":")" + std::string(1000, 'e') + R"("})", &first).ok());
  IdentifyRequest second;
  ASSERT_TRUE(ParseIdentifyRequest(R"({"email":"short"})", &second).ok());
  EXPECT_EQ(first.email, std::string(1000, 'e'));
}

// Every truncation of, and every single-byte substitution in, a few valid
// bodies must give OK or InvalidArgument — never a crash, hang or other code
// (run under ASan/UBSan in CI).
TEST(IdentifyRequestTest, MutatedBodiesNeverMisbehave) {
  const std::string seeds[] = {
      R"({"email":"a@b.c","phoneNumber":123,"x":[true,false,null,{"y":-1.5e3}]})",
      R"({"phoneNumber":"\u00e9\n","email":null,"z":{}})",
  };
  const char replacements[] = {'"', '\\', '{', '}', '[', ']', ':', ',', '0', '-', 'e', '.', ' ', '\0', '\xFF', 'n'};
  std::size_t accepted = 0;
  for (const std::string& seed : seeds) {
    for (std::size_t cut = 0; cut <= seed.size(); ++cut) {
      IdentifyRequest request;
      const Status s = ParseIdentifyRequest(seed.substr(0, cut), &request);
      EXPECT_TRUE(s.ok() || s.IsInvalidArgument()) << s.ToString();
      accepted += s.ok();
    }
    for (std::size_t i = 0; i < seed.size(); ++i) {
      for (char c : replacements) {
        std::string mutated = seed;
        mutated[i] = c;
        IdentifyRequest request;
        const Status s = ParseIdentifyRequest(mutated, &request);
        EXPECT_TRUE(s.ok() || s.IsInvalidArgument()) << s.ToString();
        accepted += s.ok();
      }
    }
  }
  EXPECT_GT(accepted, 0u);  // some mutations (e.g. inside strings) stay valid
}

}  // namespace
}  // namespace idrecon
