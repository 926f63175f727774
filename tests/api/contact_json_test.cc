// AppendContactJson: the docs/api.md §1 row shared by GET /contacts/{id} and
// `idrecon-tool export --format jsonl`.
#include "api/contact_json.h"

#include <gtest/gtest.h>

#include <string>

namespace idrecon {
namespace {

TEST(ContactJsonTest, APrimaryWithOnlyAnEmailHasNullPhoneLinkAndDeletion) {
  ContactRow row;
  row.id = 7;
  row.email = "lorraine@hillvalley.edu";
  row.created_at = 1'700'000'000'123;
  row.updated_at = 1'700'000'000'456;
  std::string out = "prefix:";
  AppendContactJson(row, &out);
  EXPECT_EQ(out,
            "prefix:{\"id\":7,\"phoneNumber\":null,\"email\":\"lorraine@hillvalley.edu\",\"linkedId\":null,"
            "\"linkPrecedence\":\"primary\",\"createdAt\":\"2023-11-14T22:13:20.123Z\","
            "\"updatedAt\":\"2023-11-14T22:13:20.456Z\",\"deletedAt\":null}");
}

TEST(ContactJsonTest, ADeletedSecondaryShowsItsLinkAndDeletionTime) {
  ContactRow row;
  row.id = 23;
  row.phone = "123456";
  row.email = "mcfly@hillvalley.edu";
  row.linked_id = 1;
  row.is_primary = false;
  row.created_at = 0;
  row.updated_at = 86'400'000;
  row.deleted_at = 86'400'001;
  std::string out;
  AppendContactJson(row, &out);
  EXPECT_EQ(out,
            "{\"id\":23,\"phoneNumber\":\"123456\",\"email\":\"mcfly@hillvalley.edu\",\"linkedId\":1,"
            "\"linkPrecedence\":\"secondary\",\"createdAt\":\"1970-01-01T00:00:00.000Z\","
            "\"updatedAt\":\"1970-01-02T00:00:00.000Z\",\"deletedAt\":\"1970-01-02T00:00:00.001Z\"}");
}

TEST(ContactJsonTest, ValuesAreEscaped) {
  ContactRow row;
  row.id = 1;
  row.email = "a\"b\\c@x.io";
  std::string out;
  AppendContactJson(row, &out);
  EXPECT_NE(out.find("\"email\":\"a\\\"b\\\\c@x.io\""), std::string::npos) << out;
}

}  // namespace
}  // namespace idrecon
