// Unit tests of idrecon-tool's library files: timestamps, CSV, SHA-256, row
// parsing, reconciliation, the invariant check and the export file.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "engine/engine.h"
#include "testing/temp_dir.h"
#include "tools/cli.h"
#include "tools/contact_rows.h"
#include "tools/csv_reader.h"
#include "tools/exporter.h"
#include "tools/reconciler.h"
#include "tools/sha256.h"
#include "tools/timestamp_parser.h"
#include "tools/verifier.h"

namespace idrecon::tools {
namespace {

// 2026-11-22T02:05:00.567Z: "now" for the parses below.
constexpr Millis kNow = 1795313100567;

Status Parse(std::string_view csv, ContactRows* rows, CsvParseResult* result, bool strict = false,
             std::string_view null_marker = {}) {
  static ManualClock clock(kNow);
  CsvParseOptions options;
  options.strict = strict;
  options.null_marker = null_marker;
  options.clock = &clock;
  return ParseContactCsv(csv, options, rows, result);
}

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

// A timestamp is a field of a personal record: a message never repeats it.
TEST(TimestampParserTest, MessagesDoNotEchoTheText) {
  for (const char* bad : {"2026-11-22 02:05:00 SECRET", "SECRET", "2026-11-22XSECRET", "2026-11-22 02:05:00.5S"}) {
    Millis t;
    Status s = ParseTimestamp(bad, &t);
    ASSERT_TRUE(s.IsInvalidArgument()) << bad;
    EXPECT_EQ(s.message().find("SECRET"), std::string::npos) << s.message();
    EXPECT_EQ(s.message().find("5S"), std::string::npos) << s.message();
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
  ASSERT_TRUE(Parse(csv, &rows, &result, false, "\\N").ok());
  ASSERT_EQ(rows.rows.size(), 2u);
  EXPECT_EQ(rows.rows[1].email, "c@x");
  EXPECT_TRUE(rows.rows[1].phone.empty());
  EXPECT_TRUE(rows.rows[1].live());
  ASSERT_EQ(result.trimmed.size(), 1u);
  std::map<std::uint64_t, std::string> bad;
  for (const LineNote& n : result.malformed) bad[n.line] = n.what;
  ASSERT_EQ(bad.size(), 6u);
  EXPECT_EQ(bad[3], "id is not an integer in 1..4294967295");
  EXPECT_NE(bad[4].find("neither email nor phoneNumber"), std::string::npos);
  EXPECT_NE(bad[5].find("linkPrecedence"), std::string::npos);
  EXPECT_NE(bad[6].find("createdAt"), std::string::npos);
  EXPECT_NE(bad[7].find("repeats the row on line 2"), std::string::npos);
  EXPECT_NE(bad[8].find("fields"), std::string::npos);

  ContactRows strict_rows;
  CsvParseResult strict_result;
  Status s = Parse(csv, &strict_rows, &strict_result, true);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_EQ(s.message().rfind("line 3: ", 0), 0u) << s.message();
}

// Found while fuzzing CSV import (fuzz/csv_import_fuzzer.cc): a Latin-1
// value was imported as is, and the server then answered /contacts and
// /identify with bodies that are not valid UTF-8 (not JSON). Such a row is
// now malformed, like /identify's 400 for invalid UTF-8 (docs/api.md §2).
TEST(ContactCsvTest, InvalidUtf8ValuesAreMalformed) {
  const std::string csv = std::string(kHeader) +
                          "1,111,caf\xE9@x,,primary,2026-01-01 00:00:00+00,2026-01-01 00:00:00+00,\n"  // 2: email
                          "2,\xC3,b@x,,primary,2026-01-01 00:00:00+00,2026-01-01 00:00:00+00,\n"      // 3: phone
                          "3,333,caf\xC3\xA9@x,,primary,2026-01-01 00:00:00+00,2026-01-01 00:00:00+00,\n";
  ContactRows rows;
  CsvParseResult result;
  ASSERT_TRUE(Parse(csv, &rows, &result).ok());
  ASSERT_EQ(rows.rows.size(), 1u);
  EXPECT_EQ(rows.rows[0].email, "caf\xC3\xA9@x");
  ASSERT_EQ(result.malformed.size(), 2u);
  EXPECT_EQ(result.malformed[0].line, 2u);
  EXPECT_EQ(result.malformed[0].what, "email is not valid UTF-8");
  EXPECT_EQ(result.malformed[1].line, 3u);
  EXPECT_EQ(result.malformed[1].what, "phoneNumber is not valid UTF-8");
}

std::string Row(std::uint64_t id, std::string_view email, std::string_view created = "2026-01-01 00:00:00+00",
                std::string_view updated = "2026-01-01 00:00:00+00", std::string_view deleted = "") {
  return std::to_string(id) + ",," + std::string(email) + ",,primary," + std::string(created) + "," +
         std::string(updated) + "," + std::string(deleted) + "\n";
}

// Every repeat of an id names the row it repeats; finding those rows is one
// pass over the rows however many repeats there are (it was a scan of every
// row per repeat: quadratic on a file of duplicates).
TEST(ContactCsvTest, RepeatedIdsCostOnePassOverTheRows) {
  std::string csv = kHeader;
  constexpr std::uint64_t kRows = 2000, kRepeats = 3000;
  for (std::uint64_t id = 1; id <= kRows; ++id) csv += Row(id, "u" + std::to_string(id) + "@x");  // lines 2..2001
  for (std::uint64_t i = 0; i < kRepeats; ++i) csv += Row(1 + i % 7, "dup@x");  // ids 1..7 again
  ContactRows rows;
  CsvParseResult result;
  ASSERT_TRUE(Parse(csv, &rows, &result).ok());
  EXPECT_EQ(rows.rows.size(), kRows);
  ASSERT_EQ(result.malformed.size(), kRepeats);
  for (const LineNote& note : result.malformed) {
    EXPECT_EQ(note.what, "id " + std::to_string(note.id) + " repeats the row on line " + std::to_string(note.id + 1));
  }
  EXPECT_LE(result.rows_visited_for_repeats, kRows) << "more than one pass over the rows";

  ContactRows strict_rows;
  CsvParseResult strict_result;
  const Status s = Parse(csv, &strict_rows, &strict_result, true);
  EXPECT_EQ(s.message(), "line 2002: id 1 repeats the row on line 2");
  EXPECT_LE(strict_result.rows_visited_for_repeats, kRows);
}

// A row dated 9999-12-31 would hold every later createdAt at that date (the
// engine never lets createdAt decrease): more than a day ahead of the clock
// is malformed, in every timestamp column.
TEST(ContactCsvTest, TimestampsMoreThanADayInTheFutureAreMalformed) {
  const std::string now = "2026-11-22T02:05:00.567Z";
  const std::string day_later = "2026-11-23T02:05:00.567Z";
  const std::string just_over = "2026-11-23T02:05:00.568Z";
  const std::string csv = std::string(kHeader) + Row(1, "a@x", day_later, day_later, day_later) +  // 2: fine
                          Row(2, "b@x", "9999-12-31 00:00:00+00") +                               // 3
                          Row(3, "c@x", now, just_over) +                                          // 4
                          Row(4, "d@x", now, now, "9999-12-31T23:59:59.999Z") +                    // 5
                          Row(5, "e@x", now, now);                                                 // 6: fine
  ContactRows rows;
  CsvParseResult result;
  ASSERT_TRUE(Parse(csv, &rows, &result).ok());
  ASSERT_EQ(rows.rows.size(), 2u);
  EXPECT_EQ(rows.rows[0].created_at, kNow + kMaxFutureMillis);
  std::map<std::uint64_t, std::string> bad;
  for (const LineNote& n : result.malformed) bad[n.line] = n.what;
  ASSERT_EQ(bad.size(), 3u);
  EXPECT_EQ(bad[3], "createdAt is more than a day in the future");
  EXPECT_EQ(bad[4], "updatedAt is more than a day in the future");
  EXPECT_EQ(bad[5], "deletedAt is more than a day in the future");

  ContactRows strict_rows;
  CsvParseResult strict_result;
  EXPECT_EQ(Parse(csv, &strict_rows, &strict_result, true).message(),
            "line 3: createdAt is more than a day in the future");
}

TEST(ContactCsvTest, ARepairTimeInTheFutureIsRefused) {
  EXPECT_EQ(RunTool({"import", "--data-dir", "/nonexistent", "--csv", "/nonexistent.csv", "--repair-time",
                     "9999-12-31 00:00:00+00"}),
            2);
}

// Notes go to terminals and logs; the input is personal data. No reason and
// no warning may carry a field's bytes, whatever is wrong with the row.
TEST(ContactCsvTest, NotesNameLinesAndIdsNeverValues) {
  const std::string csv = std::string(kHeader) +
                          "SECRETID,+15550001,secret1@x,,primary,2026-01-01 00:00:00+00,2026-01-01 00:00:00+00,\n"
                          "2,+15550002,secret2@x,SECRETLINK,primary,2026-01-01 00:00:00+00,2026-01-01 00:00:00+00,\n"
                          "3,+15550003,secret3@x,,SECRETPREC,2026-01-01 00:00:00+00,2026-01-01 00:00:00+00,\n"
                          "4,+15550004,secret4@x,,primary,SECRET-TS,2026-01-01 00:00:00+00,\n"
                          "5,+15550005,secret5@x,,primary,2026-01-01 00:00:00+00,2026-01-01 00:00:00 SECRET,\n"
                          "6,+15550006,secret6@x,,primary,2026-01-01 00:00:00+00,2026-01-01 00:00:00+00,\n"
                          "6,+15550007,secret7@x,,primary,2026-01-01 00:00:00+00,2026-01-01 00:00:00+00,\n"
                          "7,+15550008,\"secret8@x\"SECRET,,primary,2026-01-01 00:00:00+00,2026-01-01 00:00:00+00,\n"
                          "8,+15550009,secret9@x,,primary,9999-01-01 00:00:00+00,2026-01-01 00:00:00+00,\n";
  ContactRows rows;
  CsvParseResult result;
  ASSERT_TRUE(Parse(csv, &rows, &result).ok());
  EXPECT_EQ(result.malformed.size(), 8u);
  // A file without a header: its first data row is read as the header.
  const std::string headerless = "1,+15550001,secret1@x,,primary,2026-01-01 00:00:00+00,2026-01-01 00:00:00+00,\n";
  ContactRows headerless_rows;
  CsvParseResult headerless_result;
  const Status headerless_status = Parse(headerless, &headerless_rows, &headerless_result);
  EXPECT_TRUE(headerless_status.IsInvalidArgument());

  std::vector<std::string> messages = result.warnings;
  for (const LineNote& n : result.malformed) messages.push_back(n.what);
  messages.insert(messages.end(), headerless_result.warnings.begin(), headerless_result.warnings.end());
  messages.push_back(headerless_status.message());
  for (bool strict : {true}) {
    ContactRows strict_rows;
    CsvParseResult strict_result;
    messages.push_back(Parse(csv, &strict_rows, &strict_result, strict).message());
  }
  EXPECT_FALSE(headerless_result.warnings.empty());
  for (const std::string& m : messages) {
    for (std::string_view value : {"SECRET", "secret", "1555", "9999", "2026"}) {
      EXPECT_EQ(m.find(value), std::string::npos) << "'" << value << "' in: " << m;
    }
  }
  // The header's own names are no personal data and still help.
  ContactRows named_rows;
  CsvParseResult named;
  ASSERT_TRUE(Parse("id,phoneNumber,email,linkedId,linkPrecedence,createdAt,updatedAt,deletedAt,notes\n", &named_rows,
                    &named)
                  .ok());
  ASSERT_EQ(named.warnings.size(), 1u);
  EXPECT_EQ(named.warnings[0], "ignoring unknown column 9 'notes'");
}

// verify's invariant messages name contacts and clusters by id only.
TEST(CheckInvariantsTest, ViolationsNameIdsNeverValues) {
  ManualClock clock(kNow);
  Engine engine(Engine::Options{&clock, nullptr, 4, nullptr});
  auto contact = [&](ContactId id, std::string_view email, std::string_view phone, Millis created) {
    ContactRow row;
    row.id = id;
    row.email = email;
    row.phone = phone;
    row.created_at = row.updated_at = created;
    ASSERT_TRUE(engine.RestoreContact(row).ok());
  };
  contact(1, "secret-shared@x", "+15550001", 2000);
  contact(2, "secret-shared@x", "+15550002", 3000);  // a second primary with 1's email: inv. 4
  contact(3, "secret-three@x", "+15550001", 1000);   // older than 1, which it will link to: inv. 2
  ASSERT_TRUE(engine.RestoreLink(3, 1).ok());
  engine.FinishRestore(1);
  std::vector<std::string> violations;
  CheckInvariants(engine, "state: ", &violations);
  ASSERT_EQ(violations.size(), 2u);
  EXPECT_EQ(violations[0], "state: contact 2 (cluster 2) has the email of contact 1 (cluster 1) (docs/api.md §1 inv. 4)");
  EXPECT_EQ(violations[1], "state: contact 3 is older than its primary 1 (docs/api.md §1 inv. 2)");
  for (const std::string& v : violations) {
    for (std::string_view value : {"secret", "1555", "1970"}) EXPECT_EQ(v.find(value), std::string::npos) << v;
  }
}

// An export holds every contact's email and phone: it is created 0600,
// whatever the umask, even over a leftover temporary with a wider mode.
TEST(ExportTest, TheFileIsPrivateWhateverTheUmask) {
  testing::TempDir dir;
  const std::string data = dir.path() + "/data";
  ASSERT_EQ(::mkdir(data.c_str(), 0700), 0);
  for (mode_t mask : {mode_t{0}, mode_t{0777}}) {
    const std::string out = dir.path() + "/export-" + std::to_string(mask) + ".csv";
    std::ofstream(out + ".tmp") << "leftover";
    ::chmod((out + ".tmp").c_str(), 0666);
    const mode_t old_mask = ::umask(mask);
    ExportOptions options;
    options.data_dir = data;
    options.out_path = out;
    ExportSummary summary;
    const Status s = Export(options, &summary);
    ::umask(old_mask);
    ASSERT_TRUE(s.ok()) << s.ToString();
    struct stat st;
    ASSERT_EQ(::stat(out.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u) << "umask " << mask;
  }
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
