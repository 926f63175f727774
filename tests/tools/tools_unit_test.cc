// Unit tests of idrecon-tool's library files: timestamps, CSV, SHA-256, row
// parsing and reconciliation (issue 4).
#include <gtest/gtest.h>

#include <map>

#include "tools/contact_rows.h"
#include "tools/csv_reader.h"
#include "tools/reconciler.h"
#include "tools/sha256.h"
#include "tools/timestamp_parser.h"

namespace idrecon::tools {
namespace {

Millis Ts(std::string_view text) {
  Millis t = 0;
  Status s = ParseTimestamp(text, &t);
  EXPECT_TRUE(s.ok()) << text << ": " << s.ToString();
  return t;
}

TEST(TimestampParserTest, TheFormsDatabasesWrite) {
  const Millis base = 1795313100567;  // 2026-11-22T02:05:00.567Z
  EXPECT_EQ(Ts("2026-11-22T02:05:00.567Z"), base);
  EXPECT_EQ(Ts("2026-11-22 02:05:00.567+00"), base);          // PostgreSQL timestamptz
  EXPECT_EQ(Ts("2026-11-22 02:05:00.567 +00:00"), base);      // Sequelize on SQLite
  EXPECT_EQ(Ts("2026-11-22 07:35:00.567+05:30"), base);       // offsets are honoured
  EXPECT_EQ(Ts("2026-11-21 21:05:00.567-05"), base);
  EXPECT_EQ(Ts("2026-11-22 03:05:00.567 +0100"), base);
  EXPECT_EQ(Ts("2026-11-22 02:05:00.5671239+00"), base);      // truncated to ms
  EXPECT_EQ(Ts("2026-11-22 02:05:00.56+00"), base - 7);       // 0–6 fraction digits
  EXPECT_EQ(Ts("2026-11-22 02:05:00+00"), base - 567);
  EXPECT_EQ(Ts("2026-11-22 02:05:00"), base - 567);           // no offset: UTC
  EXPECT_EQ(Ts("1970-01-01T00:00:00.000Z"), 0);
  EXPECT_EQ(Ts("1969-12-31T23:59:59.999Z"), -1);
  EXPECT_EQ(Ts("2024-02-29T00:00:00Z"), 1709164800000);
}

TEST(TimestampParserTest, RejectsWithAReason) {
  for (const char* bad : {"", "2026-11-22", "2026-13-01 00:00:00", "2026-02-30 00:00:00", "2026-11-22 24:00:00",
                          "2026-11-22 02:05:00.+00", "2026-11-22 02:05:00 +0", "2026-11-22 02:05:00 UTC",
                          "2026-11-22 02:05:00+00 junk", "infinity", "2026/11/22 02:05:00", "2025-02-29 00:00:00"}) {
    Millis t;
    Status s = ParseTimestamp(bad, &t);
    EXPECT_TRUE(s.IsInvalidArgument()) << bad;
    EXPECT_NE(s.message().find("bad timestamp"), std::string::npos);
  }
}

TEST(CsvReaderTest, QuotesNullsLinesAndErrors) {
  const std::string csv = "a,b,c\r\n1,\"x,\"\"y\"\"\",\n\n2,\"multi\nline\",\"\"\n3,\"bad\"x,4\n5,6,7";
  CsvReader reader(csv);
  std::vector<CsvField> f;
  Status s;
  ASSERT_TRUE(reader.Next(&f, &s));
  EXPECT_EQ(f.size(), 3u);
  EXPECT_EQ(f[2].text, "c");  // CR stripped
  ASSERT_TRUE(reader.Next(&f, &s));
  EXPECT_EQ(reader.line(), 2u);
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[1].text, "x,\"y\"");
  EXPECT_TRUE(f[1].quoted);
  EXPECT_TRUE(f[2].text.empty());
  EXPECT_FALSE(f[2].quoted);  // NULL
  ASSERT_TRUE(reader.Next(&f, &s));
  EXPECT_EQ(reader.line(), 4u);  // the blank line 3 is skipped
  EXPECT_EQ(f[1].text, "multi\nline");
  EXPECT_TRUE(f[2].quoted);  // "" = empty string
  EXPECT_FALSE(reader.Next(&f, &s));
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("line 6"), std::string::npos) << s.message();
  ASSERT_TRUE(reader.Next(&f, &s));  // goes on after a bad record
  EXPECT_EQ(reader.line(), 7u);
  EXPECT_EQ(f[2].text, "7");
  EXPECT_FALSE(reader.Next(&f, &s));
  EXPECT_TRUE(s.ok());
}

// Found while fuzzing CSV import: a lone CR after a closing quote acted as a
// field separator ("a"<CR>b read as two fields). Only CRLF (or CR at the end
// of the input) may follow a quoted field, besides ',' and LF.
TEST(CsvReaderTest, LoneCrAfterAClosingQuoteIsAnError) {
  std::vector<CsvField> f;
  Status s;
  CsvReader bad("\"a\"\rb,c\nd\n");
  EXPECT_FALSE(bad.Next(&f, &s));
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("text after a closing quote"), std::string::npos) << s.message();
  ASSERT_TRUE(bad.Next(&f, &s)) << s.ToString();  // the reader goes on with the next line
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].text, "d");

  for (std::string_view ok : {"\"a\"\r\n", "\"a\"\r", "\"a\",\"b\"\r\n"}) {
    CsvReader reader(ok);
    ASSERT_TRUE(reader.Next(&f, &s)) << s.ToString();
    EXPECT_EQ(f[0].text, "a");
    EXPECT_FALSE(reader.Next(&f, &s));
    EXPECT_TRUE(s.ok());
  }
}

TEST(Sha256Test, KnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  Sha256 h;  // a million 'a', fed in odd pieces
  const std::string chunk(997, 'a');
  std::size_t left = 1'000'000;
  while (left > 0) {
    const std::size_t n = std::min(left, chunk.size());
    h.Update(std::string_view(chunk).substr(0, n));
    left -= n;
  }
  const auto d = h.Finish();
  EXPECT_EQ(d[0], 0xcd);
  EXPECT_EQ(d[31], 0xd0);
}

const char* kHeader = "id,phoneNumber,email,linkedId,linkPrecedence,createdAt,updatedAt,deletedAt\n";

TEST(ContactCsvTest, MalformedRowsAreReportedWithLineAndReason) {
  const std::string csv = std::string(kHeader) +
                          "1,111,a@x,,primary,2026-01-01 00:00:00+00,2026-01-01 00:00:00+00,\n"  // line 2
                          "x,111,a@x,,primary,2026-01-01 00:00:00+00,2026-01-01 00:00:00+00,\n"  // 3: id
                          "3,,,,primary,2026-01-01 00:00:00+00,2026-01-01 00:00:00+00,\n"        // 4: no value
                          "4,1,b@x,,tertiary,2026-01-01 00:00:00+00,2026-01-01 00:00:00+00,\n"   // 5: precedence
                          "5,1,b@x,,primary,yesterday,2026-01-01 00:00:00+00,\n"                 // 6: time
                          "1,1,b@x,,primary,2026-01-01 00:00:00+00,2026-01-01 00:00:00+00,\n"    // 7: repeat
                          "6,1,b@x,,primary,2026-01-01 00:00:00+00\n"                            // 8: width
                          "7,\\N,\" c@x \",\\N,primary,2026-01-01 00:00:00+00,2026-01-01 00:00:00+00,\\N\n";
  ContactRows rows;
  CsvParseResult result;
  ASSERT_TRUE(ParseContactCsv(csv, false, &rows, &result, {}, "\\N").ok());
  ASSERT_EQ(rows.rows.size(), 2u);
  EXPECT_EQ(rows.rows[1].email, "c@x");
  EXPECT_TRUE(rows.rows[1].phone.empty());
  EXPECT_TRUE(rows.rows[1].live());
  ASSERT_EQ(result.trimmed.size(), 1u);
  std::map<std::uint64_t, std::string> bad;
  for (const LineNote& n : result.malformed) bad[n.line] = n.what;
  ASSERT_EQ(bad.size(), 6u);
  EXPECT_NE(bad[3].find("id 'x'"), std::string::npos);
  EXPECT_NE(bad[4].find("neither email nor phoneNumber"), std::string::npos);
  EXPECT_NE(bad[5].find("linkPrecedence"), std::string::npos);
  EXPECT_NE(bad[6].find("createdAt"), std::string::npos);
  EXPECT_NE(bad[7].find("repeats the row on line 2"), std::string::npos);
  EXPECT_NE(bad[8].find("fields"), std::string::npos);

  ContactRows strict_rows;
  CsvParseResult strict_result;
  Status s = ParseContactCsv(csv, true, &strict_rows, &strict_result);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_EQ(s.message().rfind("line 3: ", 0), 0u) << s.message();
}

// Found while fuzzing CSV import (fuzz/csv_import_fuzzer.cc): a Latin-1
// value was imported as is, and the server then answered /contacts and
// /identify with bodies that are not valid UTF-8 (not JSON). Such a row is
// now malformed, like /identify's 400 for invalid UTF-8 (SPEC §2).
TEST(ContactCsvTest, InvalidUtf8ValuesAreMalformed) {
  const std::string csv = std::string(kHeader) +
                          "1,111,caf\xE9@x,,primary,2026-01-01 00:00:00+00,2026-01-01 00:00:00+00,\n"  // 2: email
                          "2,\xC3,b@x,,primary,2026-01-01 00:00:00+00,2026-01-01 00:00:00+00,\n"      // 3: phone
                          "3,333,caf\xC3\xA9@x,,primary,2026-01-01 00:00:00+00,2026-01-01 00:00:00+00,\n";
  ContactRows rows;
  CsvParseResult result;
  ASSERT_TRUE(ParseContactCsv(csv, false, &rows, &result).ok());
  ASSERT_EQ(rows.rows.size(), 1u);
  EXPECT_EQ(rows.rows[0].email, "caf\xC3\xA9@x");
  ASSERT_EQ(result.malformed.size(), 2u);
  EXPECT_EQ(result.malformed[0].line, 2u);
  EXPECT_EQ(result.malformed[0].what, "email is not valid UTF-8");
  EXPECT_EQ(result.malformed[1].line, 3u);
  EXPECT_EQ(result.malformed[1].what, "phoneNumber is not valid UTF-8");
}

InputRow R(ContactId id, std::string_view email, std::string_view phone, ContactId linked, bool secondary,
           Millis created, Millis deleted = kNoTime) {
  InputRow r;
  r.id = id;
  r.line = id + 1;
  r.email = email;
  r.phone = phone;
  r.linked_id = linked;
  r.secondary = secondary;
  r.created_at = created;
  r.updated_at = created;
  r.deleted_at = deleted;
  return r;
}

TEST(ReconcileTest, RestoresEveryInvariantAndReportsEachRepair) {
  std::vector<InputRow> rows = {
      R(12, "k@x", "", 11, true, 110),    // joined to 11 only by its link
      R(1, "a@x", "1", 0, false, 10),
      R(2, "b@x", "1", 1, true, 20),
      R(3, "c@x", "3", 2, true, 30),      // a chain 3 → 2 → 1
      R(4, "d@x", "4", 0, false, 40),
      R(5, "e@x", "4", 0, false, 50),     // two primaries sharing phone 4
      R(6, "f@x", "6", 99, true, 60),     // links to a missing row
      R(7, "g@x", "7", 0, false, 80),
      R(8, "h@x", "7", 7, true, 70),      // older than its primary
      R(9, "i@x", "9", 0, false, 90),
      R(10, "i@x", "9", 0, false, 90),    // a concurrent duplicate
      R(11, "j@x", "", 0, false, 100),
      R(13, "z@x", "1", 1, true, 120, 130),  // deleted: keeps its link, takes no part
      R(14, "y@x", "14", 13, true, 140),  // links to a deleted row
  };
  ReconcileResult result;
  Reconcile(&rows, 1000, &result);
  std::map<ContactId, InputRow> by_id;
  for (const InputRow& r : rows) by_id[r.id] = r;
  auto link = [&](ContactId id) { return by_id[id].secondary ? by_id[id].linked_id : 0u; };
  EXPECT_EQ(link(2), 1u);
  EXPECT_EQ(link(3), 1u);
  EXPECT_EQ(link(5), 4u);
  EXPECT_EQ(link(6), 0u);
  EXPECT_EQ(link(8), 0u);
  EXPECT_EQ(link(7), 8u);
  EXPECT_EQ(link(10), 9u);
  EXPECT_EQ(link(12), 11u);
  EXPECT_EQ(link(14), 0u);
  EXPECT_EQ(by_id[13].linked_id, 1u);
  EXPECT_TRUE(by_id[13].secondary);
  EXPECT_EQ(by_id[3].updated_at, 1000);
  EXPECT_EQ(by_id[2].updated_at, 20);  // unchanged rows keep their updatedAt
  EXPECT_EQ(result.clusters, 7u);      // 1, 4, 6, 8, 9, 11, 14
  EXPECT_EQ(result.deleted, 1u);
  std::map<ContactId, std::string> notes;
  for (const LineNote& n : result.repairs) notes[n.id] = n.what;
  EXPECT_EQ(notes.size(), 7u);
  EXPECT_NE(notes[3].find("a chain"), std::string::npos) << notes[3];
  EXPECT_NE(notes[5].find("two primaries"), std::string::npos) << notes[5];
  EXPECT_NE(notes[6].find("names no contact"), std::string::npos) << notes[6];
  EXPECT_NE(notes[7].find("now secondary of 8"), std::string::npos) << notes[7];
  EXPECT_NE(notes[8].find("older than its primary"), std::string::npos) << notes[8];
  EXPECT_NE(notes[10].find("two primaries"), std::string::npos) << notes[10];
  EXPECT_NE(notes[14].find("deleted contact"), std::string::npos) << notes[14];
  EXPECT_EQ(notes[14].rfind("was secondary of 13, now primary", 0), 0u) << notes[14];

  // Deterministic whatever the input order, and idempotent.
  std::vector<InputRow> again = rows;
  std::reverse(again.begin(), again.end());
  ReconcileResult second;
  Reconcile(&again, 2000, &second);
  EXPECT_TRUE(second.repairs.empty());
}

}  // namespace
}  // namespace idrecon::tools
