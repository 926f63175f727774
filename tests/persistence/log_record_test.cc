#include "persistence/log_record.h"

#include <gtest/gtest.h>

#include "persistence/crc32c.h"

namespace idrecon {
namespace {

Change Create(Seq seq, ContactId id, ContactId linked, std::string_view email, std::string_view phone) {
  Change c;
  c.kind = Change::Kind::kCreateContact;
  c.seq = seq;
  c.id = id;
  c.linked_to = linked;
  c.at = 1795310419123;
  c.email = email;
  c.phone = phone;
  return c;
}

TEST(Crc32cTest, KnownVector) {
  // RFC 3720 test vector: 32 bytes of zeros.
  EXPECT_EQ(crc32c::Value(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(crc32c::Value("123456789"), 0xE3069283u);
}

TEST(Crc32cTest, HardwareAndPortableAgree) {
  std::string data;
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<char>(i * 131 + 7));
  for (std::size_t start = 0; start < 9; ++start) {
    for (std::size_t len : {0u, 1u, 7u, 8u, 9u, 63u, 500u}) {
      EXPECT_EQ(crc32c::Extend(0x1234, data.data() + start, len), crc32c::ExtendPortable(0x1234, data.data() + start, len))
          << start << " " << len;
    }
  }
}

TEST(LogRecordTest, KeyIsBigEndianAndRoundTrips) {
  const auto key = EncodeLogKey(0x0102030405060708ull);
  EXPECT_EQ(std::string(key.data(), 8), std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  Seq seq = 0;
  ASSERT_TRUE(DecodeLogKey(std::string_view(key.data(), 8), &seq).ok());
  EXPECT_EQ(seq, 0x0102030405060708ull);
  EXPECT_TRUE(DecodeLogKey("short", &seq).IsCorruption());
}

TEST(LogRecordTest, CreateRoundTrips) {
  std::string value;
  EncodeLogValue(Create(7, 5, 2, "lorraine@hillvalley.edu", "123456"), &value);
  EXPECT_EQ(value.size(), 26u + 23 + 6);
  Change out;
  ASSERT_TRUE(DecodeLogValue(7, value, &out).ok());
  EXPECT_EQ(out.kind, Change::Kind::kCreateContact);
  EXPECT_EQ(out.seq, 7u);
  EXPECT_EQ(out.id, 5u);
  EXPECT_EQ(out.linked_to, 2u);
  EXPECT_EQ(out.at, 1795310419123);
  EXPECT_EQ(out.email, "lorraine@hillvalley.edu");
  EXPECT_EQ(out.phone, "123456");
}

TEST(LogRecordTest, NullValuesAndDemoteRoundTrip) {
  std::string value;
  EncodeLogValue(Create(1, 1, 0, "", "42"), &value);
  Change out;
  ASSERT_TRUE(DecodeLogValue(1, value, &out).ok());
  EXPECT_EQ(out.email, "");
  EXPECT_EQ(out.phone, "42");

  Change d;
  d.kind = Change::Kind::kDemote;
  d.seq = 9;
  d.id = 4;
  d.linked_to = 3;
  d.at = -5;
  d.email = "george@hillvalley.edu";  // the merge's evidence
  d.phone = "717171";
  value.clear();
  EncodeLogValue(d, &value);
  EXPECT_EQ(value.size(), 26u + d.email.size() + d.phone.size());
  ASSERT_TRUE(DecodeLogValue(9, value, &out).ok());
  EXPECT_EQ(out.kind, Change::Kind::kDemote);
  EXPECT_EQ(out.id, 4u);
  EXPECT_EQ(out.linked_to, 3u);
  EXPECT_EQ(out.at, -5);
  EXPECT_EQ(out.email, "george@hillvalley.edu");
  EXPECT_EQ(out.phone, "717171");
}

std::string Seal(Seq seq, std::string body);

TEST(LogRecordTest, VersionOneRecordsStillDecode) {
  // A version 1 demote: 18 header bytes, no evidence, then the checksum.
  std::string body;
  body.push_back('\x01');
  body.push_back('\x02');
  for (std::uint32_t v : {4u, 3u}) {
    for (int i = 0; i < 4; ++i) body.push_back(static_cast<char>(v >> (8 * i)));
  }
  for (int i = 0; i < 8; ++i) body.push_back(static_cast<char>(i == 0 ? 7 : 0));
  Change out;
  ASSERT_TRUE(DecodeLogValue(9, Seal(9, body), &out).ok());
  EXPECT_EQ(out.kind, Change::Kind::kDemote);
  EXPECT_EQ(out.id, 4u);
  EXPECT_EQ(out.linked_to, 3u);
  EXPECT_EQ(out.at, 7);
  EXPECT_TRUE(out.email.empty() && out.phone.empty()) << "no evidence in version 1";
  // A version 1 record cannot be a guard.
  body[1] = '\x03';
  EXPECT_NE(DecodeLogValue(9, Seal(9, body), &out).message().find("kind"), std::string::npos);
}

TEST(LogRecordTest, GuardRecordsRoundTrip) {
  for (bool guard : {true, false}) {
    Change g;
    g.kind = guard ? Change::Kind::kGuard : Change::Kind::kUnguard;
    g.seq = 12;
    g.at = 1700000000123;
    g.guard_field = 2;
    g.guard_reason = guard ? 3 : 0;
    g.phone = "+10000000000";
    std::string value;
    EncodeLogValue(g, &value);
    Change out;
    ASSERT_TRUE(DecodeLogValue(12, value, &out).ok()) << guard;
    EXPECT_EQ(out.kind, g.kind);
    EXPECT_EQ(out.guard_field, 2);
    EXPECT_EQ(out.guard_reason, g.guard_reason);
    EXPECT_EQ(out.at, g.at);
    EXPECT_EQ(out.phone, "+10000000000");
    EXPECT_TRUE(out.email.empty());
    for (std::size_t i = 0; i < value.size(); ++i) {
      std::string bad = value;
      bad[i] = static_cast<char>(bad[i] ^ 0x01);
      EXPECT_FALSE(DecodeLogValue(12, bad, &out).ok()) << "flipped byte " << i;
    }
  }
  Change g;
  g.kind = Change::Kind::kGuard;
  g.seq = 1;
  g.guard_field = 1;
  g.guard_reason = 9;
  g.email = "test@test.com";
  std::string value;
  EncodeLogValue(g, &value);
  Change out;
  EXPECT_NE(DecodeLogValue(1, value, &out).message().find("reason"), std::string::npos);
  g.guard_reason = 2;
  g.guard_field = 5;
  value.clear();
  EncodeLogValue(g, &value);
  EXPECT_NE(DecodeLogValue(1, value, &out).message().find("field"), std::string::npos);
}

TEST(LogRecordTest, EveryFlippedByteIsDetected) {
  std::string value;
  EncodeLogValue(Create(3, 3, 1, "a@b.c", "555"), &value);
  for (std::size_t i = 0; i < value.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = value;
      damaged[i] = static_cast<char>(damaged[i] ^ (1 << bit));
      Change out;
      Status s = DecodeLogValue(3, damaged, &out);
      EXPECT_TRUE(s.IsCorruption()) << "byte " << i << " bit " << bit;
    }
  }
  Change out;
  EXPECT_TRUE(DecodeLogValue(4, value, &out).IsCorruption()) << "a record moved under another key";
}

TEST(LogRecordTest, TruncationIsDetectedWithAReason) {
  std::string value;
  EncodeLogValue(Create(3, 3, 1, "a@b.c", "555"), &value);
  for (std::size_t n = 0; n < value.size(); ++n) {
    Change out;
    Status s = DecodeLogValue(3, std::string_view(value).substr(0, n), &out);
    EXPECT_TRUE(s.IsCorruption()) << n;
    EXPECT_NE(s.message().find("seq 3"), std::string::npos) << s.message();
  }
}

// Well-formed checksums over bad contents: the decoder still says no.
std::string Seal(Seq seq, std::string body) {
  const auto key = EncodeLogKey(seq);
  std::uint32_t crc = crc32c::Extend(crc32c::Extend(0, key.data(), 8), body.data(), body.size());
  for (int i = 0; i < 4; ++i) body.push_back(static_cast<char>((crc >> (8 * i)) & 0xFF));
  return body;
}

TEST(LogRecordTest, RejectsBadFieldsEvenWithAValidChecksum) {
  std::string good;
  EncodeLogValue(Create(1, 1, 0, "a@b", "1"), &good);
  const std::string body = good.substr(0, good.size() - 4);
  Change out;
  auto with = [&](std::size_t pos, char c) {
    std::string b = body;
    b[pos] = c;
    return DecodeLogValue(1, Seal(1, b), &out);
  };
  EXPECT_NE(with(0, 3).message().find("version"), std::string::npos);
  EXPECT_NE(with(1, 9).message().find("kind"), std::string::npos);
  std::string zero_id = body;
  zero_id.replace(2, 4, std::string(4, '\0'));
  EXPECT_NE(DecodeLogValue(1, Seal(1, zero_id), &out).message().find("id 0"), std::string::npos);
  EXPECT_NE(DecodeLogValue(1, Seal(1, body + "x"), &out).message().find("stray"), std::string::npos);
  std::string empty_values = body.substr(0, 18) + std::string(4, '\0');
  EXPECT_NE(DecodeLogValue(1, Seal(1, empty_values), &out).message().find("neither"), std::string::npos);
  std::string long_email = body.substr(0, 18) + std::string("\x41\x01", 2) + std::string(321, 'e') + std::string(2, '\0');
  EXPECT_NE(DecodeLogValue(1, Seal(1, long_email), &out).message().find("limit"), std::string::npos);
  EXPECT_TRUE(DecodeLogValue(1, Seal(1, body), &out).ok());
}

}  // namespace
}  // namespace idrecon
