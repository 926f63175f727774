// Engine behaviour against docs/api.md §1–§2, one scenario a test.
#include "engine/engine.h"

#include <gtest/gtest.h>

#include "engine_test_util.h"

namespace idrecon {
namespace {

using testing::OwnedView;
using testing::Own;

class EngineTest : public ::testing::Test {
 protected:
  EngineTest() : clock_(1'000'000), engine_(Engine::Options{&clock_, nullptr, 64, nullptr}) {}

  OwnedView Identify(std::string_view email, std::string_view phone) {
    IdentifyOutcome out;
    Status s = engine_.Identify({email, phone}, &out);
    EXPECT_TRUE(s.ok()) << s.ToString();
    last_ = out;
    clock_.Advance(1000);
    return Own(out.cluster);
  }

  ContactRow Row(ContactId id) {
    ContactRow row;
    Status s = engine_.GetContact(id, &row);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return row;
  }

  ManualClock clock_;
  Engine engine_;
  IdentifyOutcome last_;
};

TEST_F(EngineTest, SpecWorkedExample) {
  OwnedView two{1, {"lorraine@hillvalley.edu", "mcfly@hillvalley.edu"}, {"123456"}, {2}};
  EXPECT_EQ(Identify("lorraine@hillvalley.edu", "123456"),
            (OwnedView{1, {"lorraine@hillvalley.edu"}, {"123456"}, {}}));
  EXPECT_EQ(Identify("mcfly@hillvalley.edu", "123456"), two);
  EXPECT_TRUE(last_.created_contact);
  EXPECT_EQ(Identify("", "123456"), two);
  EXPECT_FALSE(last_.created_contact);
  EXPECT_EQ(Identify("mcfly@hillvalley.edu", ""), two);
  EXPECT_FALSE(last_.created_contact);
  EXPECT_EQ(Identify("george@hillvalley.edu", "919191"), (OwnedView{3, {"george@hillvalley.edu"}, {"919191"}, {}}));
  EXPECT_EQ(Identify("biffsucks@hillvalley.edu", "717171"),
            (OwnedView{4, {"biffsucks@hillvalley.edu"}, {"717171"}, {}}));
  EXPECT_EQ(Identify("george@hillvalley.edu", "717171"),
            (OwnedView{3, {"george@hillvalley.edu", "biffsucks@hillvalley.edu"}, {"919191", "717171"}, {4}}));
  EXPECT_TRUE(last_.merged);
  EXPECT_FALSE(last_.created_contact);
  EXPECT_EQ(engine_.contact_count(), 4u);
  EXPECT_EQ(engine_.cluster_count(), 2u);

  ContactRow four = Row(4);
  EXPECT_FALSE(four.is_primary);
  EXPECT_EQ(four.linked_id, 3u);
  EXPECT_EQ(four.created_at, 1'000'000 + 5 * 1000);
  EXPECT_EQ(four.updated_at, 1'000'000 + 6 * 1000);
  ContactRow one = Row(1);
  EXPECT_TRUE(one.is_primary);
  EXPECT_EQ(one.linked_id, 0u);
  EXPECT_EQ(one.email, "lorraine@hillvalley.edu");
  EXPECT_EQ(one.phone, "123456");
  EXPECT_EQ(one.created_at, one.updated_at);
  EXPECT_FALSE(one.deleted_at.has_value());
}

TEST_F(EngineTest, MergeChainJoinsThreeClustersWithTwoRequests) {
  Identify("a@x", "1");  // 1
  Identify("b@x", "2");  // 2
  Identify("c@x", "3");  // 3
  EXPECT_EQ(Identify("b@x", "3"), (OwnedView{2, {"b@x", "c@x"}, {"2", "3"}, {3}}));
  EXPECT_EQ(Identify("a@x", "3"), (OwnedView{1, {"a@x", "b@x", "c@x"}, {"1", "2", "3"}, {2, 3}}));
  EXPECT_EQ(engine_.cluster_count(), 1u);
  EXPECT_EQ(engine_.contact_count(), 3u);
  EXPECT_EQ(Row(3).linked_id, 1u) << "no chains: 3 links to the primary, not to 2";
}

TEST_F(EngineTest, DemotedPrimarySecondariesRelinkAndGetUpdatedAt) {
  Identify("old@x", "100");   // 1 primary
  Identify("new@x", "200");   // 2 primary
  Identify("new2@x", "200");  // 3 secondary of 2
  Identify("new3@x", "200");  // 4 secondary of 2
  const Millis merge_time = clock_.NowMillis();
  EXPECT_EQ(Identify("new3@x", "100"),
            (OwnedView{1, {"old@x", "new@x", "new2@x", "new3@x"}, {"100", "200"}, {2, 3, 4}}));
  for (ContactId id : {2u, 3u, 4u}) {
    ContactRow r = Row(id);
    EXPECT_FALSE(r.is_primary) << id;
    EXPECT_EQ(r.linked_id, 1u) << id;
    EXPECT_EQ(r.updated_at, merge_time) << id;
  }
  EXPECT_EQ(Row(1).updated_at, Row(1).created_at) << "the survivor's own row did not change";
}

TEST_F(EngineTest, BothValuesKnownInTwoClustersMergesWithoutNewRow) {
  Identify("e1@x", "p1");
  Identify("e2@x", "p2");
  EXPECT_EQ(Identify("e2@x", "p1"), (OwnedView{1, {"e1@x", "e2@x"}, {"p1", "p2"}, {2}}));
  EXPECT_TRUE(last_.merged);
  EXPECT_FALSE(last_.created_contact);
  EXPECT_EQ(engine_.contact_count(), 2u);
}

TEST_F(EngineTest, MergeThenNewValueCreatesSecondaryLinkedToSurvivor) {
  Identify("e1@x", "p1");
  Identify("", "p2");
  // Email e1 (cluster 1) and phone p2 (cluster 2): merge, both known, no row.
  EXPECT_EQ(Identify("e1@x", "p2"), (OwnedView{1, {"e1@x"}, {"p1", "p2"}, {2}}));
  // A new email with a known phone: a secondary with both values.
  EXPECT_EQ(Identify("e3@x", "p2"), (OwnedView{1, {"e1@x", "e3@x"}, {"p1", "p2"}, {2, 3}}));
  ContactRow r = Row(3);
  EXPECT_EQ(r.email, "e3@x");
  EXPECT_EQ(r.phone, "p2");
  EXPECT_EQ(r.linked_id, 1u);
}

TEST_F(EngineTest, OlderPrimarySurvivesWhicheverSideItIsOn) {
  Identify("first@x", "");   // 1
  Identify("", "999");       // 2
  EXPECT_EQ(Identify("first@x", "999").primary, 1u);
  Identify("third@x", "");   // 3
  Identify("", "888");       // 4
  EXPECT_EQ(Identify("third@x", "888").primary, 3u);
  EXPECT_EQ(Identify("", "888").primary, 3u);
}

TEST_F(EngineTest, TrimsValuesAndTreatsWhitespaceOnlyAsAbsent) {
  EXPECT_EQ(Identify(" \t a@x \r\n", "  42 "), (OwnedView{1, {"a@x"}, {"42"}, {}}));
  EXPECT_EQ(Identify("a@x", " \t\r\n"), (OwnedView{1, {"a@x"}, {"42"}, {}}));
  EXPECT_EQ(engine_.contact_count(), 1u);
  EXPECT_EQ(Row(1).email, "a@x");
  // Only ASCII whitespace is trimmed; inner spaces and case are significant.
  EXPECT_EQ(Identify("A@x", "").primary, 2u);
  EXPECT_EQ(Identify("a @x", "").primary, 3u);
}

TEST_F(EngineTest, RejectsInvalidQueriesAndChangesNothing) {
  IdentifyOutcome out;
  EXPECT_TRUE(engine_.Identify({"", ""}, &out).IsInvalidArgument());
  EXPECT_TRUE(engine_.Identify({"  ", "\t\n"}, &out).IsInvalidArgument());
  std::string long_email(kMaxEmailBytes + 1, 'e');
  std::string long_phone(kMaxPhoneBytes + 1, '1');
  Status s = engine_.Identify({long_email, "1"}, &out);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("320"), std::string::npos) << s.message();
  s = engine_.Identify({"a@x", long_phone}, &out);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("64"), std::string::npos) << s.message();
  EXPECT_EQ(engine_.contact_count(), 0u);
  EXPECT_EQ(engine_.last_seq(), 0u);
  // Exactly at the limit is fine.
  EXPECT_TRUE(engine_.Identify({std::string(kMaxEmailBytes, 'e'), std::string(kMaxPhoneBytes, '1')}, &out).ok());
}

TEST_F(EngineTest, ReadOnlyQueriesAnswerReadsAndRefuseChanges) {
  Identify("a@x", "1");
  Identify("b@x", "2");
  IdentifyOutcome out;
  IdentifyQuery q{"a@x", "", false};
  ASSERT_TRUE(engine_.Identify(q, &out).ok());
  EXPECT_EQ(out.cluster.primary_id, 1u);
  q = {"a@x", "1", false};
  EXPECT_TRUE(engine_.Identify(q, &out).ok()) << "everything known: no change";
  for (IdentifyQuery change : {IdentifyQuery{"new@x", "", false}, IdentifyQuery{"a@x", "9", false},
                               IdentifyQuery{"a@x", "2", false}}) {
    EXPECT_TRUE(engine_.Identify(change, &out).IsUnavailable()) << change.email << " " << change.phone;
  }
  EXPECT_EQ(engine_.contact_count(), 2u);
  EXPECT_EQ(engine_.cluster_count(), 2u);
  EXPECT_EQ(engine_.last_seq(), 2u);
}

TEST_F(EngineTest, GetContactOfUnknownIdIsNotFound) {
  ContactRow row;
  EXPECT_TRUE(engine_.GetContact(0, &row).IsNotFound());
  EXPECT_TRUE(engine_.GetContact(1, &row).IsNotFound());
  Identify("a@x", "");
  EXPECT_TRUE(engine_.GetContact(1, &row).ok());
  EXPECT_TRUE(engine_.GetContact(2, &row).IsNotFound());
  EXPECT_TRUE(engine_.GetContact(4'000'000'000u, &row).IsNotFound());
}

TEST_F(EngineTest, ClockSteppingBackIsClamped) {
  Identify("a@x", "");
  clock_.Set(5);  // far in the past
  Identify("b@x", "");
  EXPECT_EQ(Row(2).created_at, Row(1).created_at);
  EXPECT_EQ(Identify("a@x", "").primary, 1u);
  // Equal timestamps: the smaller id is older.
  EXPECT_EQ(Identify("b@x", "7").primary, 2u);
  EXPECT_EQ(Identify("a@x", "7").primary, 1u);
}

TEST_F(EngineTest, SequenceNumbersAndDependencies) {
  Identify("a@x", "1");
  EXPECT_EQ(last_.first_change_seq, 1u);
  EXPECT_EQ(last_.depends_on_seq, 1u);
  Identify("b@x", "2");
  EXPECT_EQ(last_.depends_on_seq, 2u);
  Identify("a@x", "");
  EXPECT_EQ(last_.first_change_seq, 0u);
  EXPECT_EQ(last_.depends_on_seq, 1u) << "a read depends on the cluster's own last change";
  Identify("a@x", "2");  // merge: seq 3 (demote of 2)
  EXPECT_EQ(last_.first_change_seq, 3u);
  EXPECT_EQ(last_.depends_on_seq, 3u);
  Identify("", "1");
  EXPECT_EQ(last_.depends_on_seq, 3u);
  EXPECT_EQ(engine_.last_seq(), 3u);
}

TEST(EngineSinkTest, EveryChangeReachesTheSinkInSeqOrder) {
  ManualClock clock(100);
  testing::RecordingSink sink;
  Engine engine(Engine::Options{&clock, &sink, 8, nullptr});
  IdentifyOutcome out;
  ASSERT_TRUE(engine.Identify({"a@x", "1"}, &out).ok());
  clock.Advance(5);
  ASSERT_TRUE(engine.Identify({"b@x", "2"}, &out).ok());
  clock.Advance(5);
  ASSERT_TRUE(engine.Identify({"c@x", "1"}, &out).ok());  // secondary 3 → 1
  clock.Advance(5);
  ASSERT_TRUE(engine.Identify({"a@x", "2"}, &out).ok());  // demote 2 → 1
  ASSERT_TRUE(engine.Identify({"a@x", "1"}, &out).ok());  // nothing
  ASSERT_EQ(sink.size(), 4u);
  for (std::size_t i = 0; i < sink.size(); ++i) EXPECT_EQ(sink.at(i).seq, i + 1);
  const Change c3 = sink.at(2);
  EXPECT_EQ(c3.kind, Change::Kind::kCreateContact);
  EXPECT_EQ(c3.id, 3u);
  EXPECT_EQ(c3.linked_to, 1u);
  EXPECT_EQ(c3.at, 110);
  EXPECT_EQ(c3.email, "c@x");
  EXPECT_EQ(c3.phone, "1");
  const Change d = sink.at(3);
  EXPECT_EQ(d.kind, Change::Kind::kDemote);
  EXPECT_EQ(d.id, 2u);
  EXPECT_EQ(d.linked_to, 1u);
  EXPECT_EQ(d.at, 115);
  EXPECT_EQ(sink.at(0).linked_to, 0u);
}

// Every value hashes alike: the index must still keep them apart.
std::uint64_t ConstantHash(std::string_view) { return 42; }

TEST(EngineCollisionTest, ValuesWithEqualHashesNeverMerge) {
  ManualClock clock(0);
  Engine engine(Engine::Options{&clock, nullptr, 4, &ConstantHash});
  IdentifyOutcome out;
  for (int i = 0; i < 50; ++i) {
    std::string email = "user" + std::to_string(i) + "@x";
    ASSERT_TRUE(engine.Identify({email, std::to_string(1000 + i)}, &out).ok());
    EXPECT_EQ(out.cluster.primary_id, static_cast<ContactId>(i + 1));
    EXPECT_TRUE(out.cluster.secondary_ids.empty());
  }
  EXPECT_EQ(engine.cluster_count(), 50u);
  ASSERT_TRUE(engine.Identify({"user7@x", ""}, &out).ok());
  EXPECT_EQ(out.cluster.primary_id, 8u);
  ASSERT_TRUE(engine.Identify({"", "1049"}, &out).ok());
  EXPECT_EQ(out.cluster.primary_id, 50u);
  ASSERT_TRUE(engine.Identify({"user7@x", "1049"}, &out).ok());
  EXPECT_EQ(out.cluster.primary_id, 8u);
  EXPECT_EQ(out.cluster.secondary_ids, std::vector<ContactId>{50});
}

}  // namespace
}  // namespace idrecon
