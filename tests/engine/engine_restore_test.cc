// RestoreContact/RestoreLink for imported data: deleted rows keep
// the linkedId they had, vacant ids hold a place, and a primary may have a
// larger id than its secondaries when it is older.
#include <gtest/gtest.h>

#include "engine/engine.h"

namespace idrecon {
namespace {

ContactRow Row(ContactId id, std::string_view email, std::string_view phone, Millis created) {
  ContactRow r;
  r.id = id;
  r.email = email;
  r.phone = phone;
  r.created_at = created;
  r.updated_at = created;
  return r;
}

TEST(EngineRestoreTest, DeletedRowsKeepTheirLinkAndVacantIdsAreNotFound) {
  ManualClock clock(10'000);
  Engine engine(Engine::Options{&clock, nullptr, 16, nullptr});
  ASSERT_TRUE(engine.RestoreContact(Row(1, "a@x", "1", 100)).ok());
  ContactRow deleted = Row(2, "b@x", "1", 200);
  deleted.deleted_at = 300;
  deleted.linked_id = 1;
  deleted.is_primary = false;
  ASSERT_TRUE(engine.RestoreContact(deleted).ok());
  ContactRow vacant = Row(3, "", "", 200);
  vacant.deleted_at = 200;
  ASSERT_TRUE(engine.RestoreContact(vacant).ok());
  ContactRow live_without_values = Row(4, "", "", 200);
  EXPECT_TRUE(engine.RestoreContact(live_without_values).IsCorruption());
  engine.FinishRestore(1);

  ContactRow got;
  ASSERT_TRUE(engine.GetContact(2, &got).ok());
  EXPECT_EQ(got.linked_id, 1u);
  EXPECT_FALSE(got.is_primary);
  EXPECT_EQ(got.deleted_at, 300);
  EXPECT_TRUE(engine.GetContact(3, &got).IsNotFound());
  int seen = 0, vacant_seen = 0;
  engine.ForEachContact([&](const ContactRow& r) {
    ++seen;
    vacant_seen += IsVacant(r) ? 1 : 0;
  });
  EXPECT_EQ(seen, 3);
  EXPECT_EQ(vacant_seen, 1);
  EXPECT_EQ(engine.cluster_count(), 1u);

  // The deleted row takes no part: "b@x" is new; the next id follows the vacant one.
  IdentifyOutcome out;
  ASSERT_TRUE(engine.Identify({"b@x", "", true}, &out).ok());
  EXPECT_EQ(out.cluster.primary_id, 4u);
  ASSERT_TRUE(engine.Identify({"", "1", true}, &out).ok());
  EXPECT_EQ(out.cluster.primary_id, 1u);
  EXPECT_TRUE(out.cluster.secondary_ids.empty());
}

TEST(EngineRestoreTest, AnOlderPrimaryMayHaveALargerId) {
  ManualClock clock(10'000);
  Engine engine(Engine::Options{&clock, nullptr, 16, nullptr});
  ASSERT_TRUE(engine.RestoreContact(Row(1, "young@x", "7", 500)).ok());
  ASSERT_TRUE(engine.RestoreContact(Row(2, "old@x", "7", 100)).ok());
  ASSERT_TRUE(engine.RestoreLink(1, 2).ok());
  engine.FinishRestore(1);
  IdentifyOutcome out;
  ASSERT_TRUE(engine.Identify({"", "7", true}, &out).ok());
  EXPECT_EQ(out.cluster.primary_id, 2u);
  ASSERT_EQ(out.cluster.emails.size(), 2u);
  EXPECT_EQ(out.cluster.emails[0], "old@x");
  EXPECT_EQ(out.cluster.phone_numbers.size(), 1u);
  EXPECT_EQ(out.cluster.secondary_ids, std::vector<ContactId>{1});
  // A newer cluster merged in is demoted under the older primary 2.
  ASSERT_TRUE(engine.Identify({"n@x", "8", true}, &out).ok());
  ASSERT_TRUE(engine.Identify({"n@x", "7", true}, &out).ok());
  EXPECT_EQ(out.cluster.primary_id, 2u);
}

}  // namespace
}  // namespace idrecon
