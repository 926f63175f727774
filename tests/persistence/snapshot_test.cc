#include "persistence/snapshot.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <random>

#include "persistence/crc32c.h"
#include "testing/temp_dir.h"

namespace idrecon {
namespace {

using testing::TempDir;

std::unique_ptr<Engine> NewEngine(Clock* clock) {
  return std::make_unique<Engine>(Engine::Options{clock, nullptr, 16, nullptr});
}

void Fill(Engine* engine, ManualClock* clock, int n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (int i = 0; i < n; ++i) {
    clock->Advance(static_cast<Millis>(rng() % 5));
    std::string e = rng() % 4 ? "e" + std::to_string(rng() % 300) : "";
    std::string p = rng() % 4 || e.empty() ? "p" + std::to_string(rng() % 300) : "";
    IdentifyOutcome out;
    ASSERT_TRUE(engine->Identify({e, p}, &out).ok());
  }
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

// LoadSnapshotBytes is LoadSnapshot without the file (the fuzz target uses
// it): the same bytes load the same state, and damage is Corruption.
TEST(SnapshotTest, LoadsFromBytesInMemory) {
  ManualClock clock(1000);
  auto engine = NewEngine(&clock);
  Fill(engine.get(), &clock, 200, 3);
  std::string bytes;
  EncodeSnapshot(*engine, engine->last_seq(), &bytes);

  auto loaded = NewEngine(&clock);
  SnapshotInfo info;
  ASSERT_TRUE(LoadSnapshotBytes(bytes, "mem", loaded.get(), &info).ok());
  EXPECT_EQ(info.path, "mem");
  EXPECT_EQ(info.contacts, engine->contact_count());
  EXPECT_EQ(info.bytes, bytes.size());
  std::string again;
  EncodeSnapshot(*loaded, loaded->last_seq(), &again);
  EXPECT_EQ(again, bytes);

  auto damaged = NewEngine(&clock);
  const Status s = LoadSnapshotBytes(std::string_view(bytes).substr(0, bytes.size() - 1), "mem", damaged.get(), &info);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("snapshot mem: "), std::string::npos) << s.message();
}

TEST(SnapshotTest, RoundTripsTheWholeState) {
  TempDir dir;
  ManualClock clock(1000);
  auto engine = NewEngine(&clock);
  Fill(engine.get(), &clock, 3000, 7);
  SnapshotInfo written;
  ASSERT_TRUE(WriteSnapshot(*engine, engine->last_seq(), dir.path(), &written).ok());
  EXPECT_EQ(written.contacts, engine->contact_count());

  auto loaded = NewEngine(&clock);
  SnapshotInfo info;
  ASSERT_TRUE(LoadSnapshot(written.path, loaded.get(), &info).ok());
  EXPECT_EQ(info.last_seq, engine->last_seq());
  EXPECT_EQ(loaded->last_seq(), engine->last_seq());
  EXPECT_EQ(loaded->cluster_count(), engine->cluster_count());
  // Same bytes again: the encoding is deterministic.
  std::string a, b;
  EncodeSnapshot(*engine, engine->last_seq(), &a);
  EncodeSnapshot(*loaded, loaded->last_seq(), &b);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a, ReadFile(written.path));
  // And the loaded engine answers like the original.
  IdentifyOutcome x, y;
  ASSERT_TRUE(engine->Identify({"e1", "p2"}, &x).ok());
  ASSERT_TRUE(loaded->Identify({"e1", "p2"}, &y).ok());
  EXPECT_EQ(x.cluster.primary_id, y.cluster.primary_id);
  EXPECT_EQ(x.cluster.secondary_ids, y.cluster.secondary_ids);
  EXPECT_EQ(x.cluster.emails, y.cluster.emails);
}

TEST(SnapshotTest, KeepsDeletedRowsLinksAndVacantIds) {
  TempDir dir;
  ManualClock clock(1000);
  auto engine = NewEngine(&clock);
  ContactRow row;
  row.id = 1;
  row.email = "a@x";
  row.created_at = row.updated_at = 10;
  ASSERT_TRUE(engine->RestoreContact(row).ok());
  row.id = 2;
  row.email = "b@x";
  row.linked_id = 1;  // deleted while a secondary of 1: history, not a link
  row.is_primary = false;
  row.deleted_at = 20;
  ASSERT_TRUE(engine->RestoreContact(row).ok());
  row = ContactRow{};
  row.id = 3;  // vacant
  row.deleted_at = 20;
  ASSERT_TRUE(engine->RestoreContact(row).ok());
  engine->FinishRestore(1);
  SnapshotInfo written, info;
  ASSERT_TRUE(WriteSnapshot(*engine, 1, dir.path(), &written).ok());
  auto loaded = NewEngine(&clock);
  ASSERT_TRUE(LoadSnapshot(written.path, loaded.get(), &info).ok());
  ContactRow got;
  ASSERT_TRUE(loaded->GetContact(2, &got).ok());
  EXPECT_EQ(got.linked_id, 1u);
  EXPECT_FALSE(got.is_primary);
  EXPECT_TRUE(loaded->GetContact(3, &got).IsNotFound());
  EXPECT_EQ(loaded->contact_count(), 3u);
  EXPECT_EQ(loaded->cluster_count(), 1u);
}

TEST(SnapshotTest, DamageIsDetected) {
  TempDir dir;
  ManualClock clock(1000);
  auto engine = NewEngine(&clock);
  Fill(engine.get(), &clock, 200, 8);
  SnapshotInfo written;
  ASSERT_TRUE(WriteSnapshot(*engine, 200, dir.path(), &written).ok());
  const std::string good = ReadFile(written.path);
  std::mt19937 rng(1);
  for (int i = 0; i < 50; ++i) {
    std::string bad = good;
    bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
    WriteFile(written.path, bad);
    auto e = NewEngine(&clock);
    SnapshotInfo info;
    EXPECT_TRUE(LoadSnapshot(written.path, e.get(), &info).IsCorruption());
  }
  WriteFile(written.path, good.substr(0, good.size() / 2));
  auto e = NewEngine(&clock);
  SnapshotInfo info;
  Status s = LoadSnapshot(written.path, e.get(), &info);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find(written.path), std::string::npos) << s.message();
}

TEST(SnapshotTest, ListsNewestFirstAndIgnoresOtherFiles) {
  TempDir dir;
  WriteFile(dir.path() + "/" + SnapshotFileName(5), "x");
  WriteFile(dir.path() + "/" + SnapshotFileName(12), "x");
  WriteFile(dir.path() + "/" + SnapshotFileName(7) + ".tmp", "x");
  WriteFile(dir.path() + "/notes.txt", "x");
  std::vector<SnapshotInfo> list;
  ASSERT_TRUE(ListSnapshots(dir.path(), &list).ok());
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].last_seq, 12u);
  EXPECT_EQ(list[1].last_seq, 5u);
  EXPECT_EQ(SnapshotFileName(12), "snapshot-00000000000000000012.snap");
}

}  // namespace
}  // namespace idrecon

namespace idrecon {
namespace {

// docs/api.md §8–§9: a snapshot keeps merge evidence, guards (split ones
// with the members they split) and the normalisation setting, and the
// loaded engine splits and unsplits exactly as the one that wrote it.
TEST(SnapshotLinksTest, KeepsLinksGuardsAndSplits) {
  ManualClock clock(1000);
  Engine::Options options{&clock, nullptr, 16, nullptr};
  options.normalization = NormalizationSettings{true, "US"};
  Engine engine(options);
  IdentifyOutcome out;
  for (auto [e, p] : std::vector<std::pair<const char*, const char*>>{
           {"a@x", "0000000000"}, {"b@x", "0000000000"}, {"c@x", "(201) 555-0123"}, {"B@X", "201-555-0123"},
           {"d@x", "201 555 0199"}, {"e@x", "201 555 0199"}}) {
    clock.Advance(10);
    ASSERT_TRUE(engine.Identify({e, p}, &out).ok());
  }
  GuardEntry entry;
  bool changed = false;
  std::vector<ClusterView> clusters;
  ASSERT_TRUE(engine.Guard(GuardField::kPhone, "0000000000", true, true, &entry, &changed, &clusters).ok());
  ASSERT_EQ(clusters.size(), 2u);
  ASSERT_TRUE(engine.Guard(GuardField::kEmail, "junk@x", false, true, &entry, &changed, nullptr).ok());
  std::string bytes;
  EncodeSnapshot(engine, engine.last_seq(), &bytes);

  Engine loaded(options);
  SnapshotInfo info;
  Status s = LoadSnapshotBytes(bytes, "mem", &loaded, &info);
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::string again;
  EncodeSnapshot(loaded, loaded.last_seq(), &again);
  EXPECT_EQ(again, bytes) << "the same state encodes to the same bytes";
  std::vector<GuardEntry> a, b;
  engine.ListGuards(&a);
  loaded.ListGuards(&b);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].value, b[i].value);
    EXPECT_EQ(a[i].split, b[i].split);
    EXPECT_EQ(a[i].split_members, b[i].split_members);
  }
  // The split value's answer lists it in each part, as before the snapshot.
  for (Engine* e : {&engine, &loaded}) {
    ASSERT_TRUE(e->Identify({"b@x", ""}, &out).ok());
    EXPECT_EQ(out.cluster.phone_numbers.size(), 2u);
  }
  // Unsplit on both: the same clusters.
  std::vector<ClusterView> x, y;
  ASSERT_TRUE(engine.Unguard(GuardField::kPhone, "0000000000", true, &entry, &x).ok());
  ASSERT_TRUE(loaded.Unguard(GuardField::kPhone, "0000000000", true, &entry, &y).ok());
  ASSERT_EQ(x.size(), y.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(x[i].primary_id, y[i].primary_id);
    EXPECT_EQ(x[i].secondary_ids, y[i].secondary_ids);
  }

  // Another setting refuses the snapshot.
  Engine other(Engine::Options{&clock, nullptr, 16, nullptr});
  s = LoadSnapshotBytes(bytes, "mem", &other, &info);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("normalisation"), std::string::npos);
}

}  // namespace
}  // namespace idrecon

namespace idrecon {
namespace {

// A format-1 snapshot recorded no links: its clusters stay together (every
// member legacy-linked, docs/api.md §9) whatever is split later.
TEST(SnapshotLinksTest, FormatOneClustersStayLinked) {
  ManualClock clock(1000);
  Engine engine(Engine::Options{&clock, nullptr, 16, nullptr});
  IdentifyOutcome out;
  for (auto [e, p] : std::vector<std::pair<const char*, const char*>>{
           {"george@x", "919191"}, {"biff@x", "717171"}, {"george@x", "717171"}}) {
    clock.Advance(10);
    ASSERT_TRUE(engine.Identify({e, p}, &out).ok());
  }
  // The same rows restored without their links (as an import without links
  // would make them), in format 2, then in format 1.
  Engine rows(Engine::Options{&clock, nullptr, 16, nullptr});
  engine.ForEachContact([&](const ContactRow& row) { ASSERT_TRUE(rows.RestoreContact(row).ok()); });
  ASSERT_TRUE(rows.RestoreLink(2, 1).ok());
  rows.FinishRestore(engine.last_seq());
  std::string v2;
  EncodeSnapshot(rows, rows.last_seq(), &v2);
  // The same rows in format 1: the old magic, no setting bytes, nothing
  // after the contacts (three empty counts in format 2), a new checksum.
  std::string v1 = v2.substr(0, v2.size() - 16);
  v1[7] = '\x01';
  v1.erase(24, 4);
  const std::uint32_t crc = crc32c::Value(v1);
  for (int i = 0; i < 4; ++i) v1.push_back(static_cast<char>(crc >> (8 * i)));
  Engine loaded(Engine::Options{&clock, nullptr, 16, nullptr});
  SnapshotInfo info;
  Status s = LoadSnapshotBytes(v1, "v1", &loaded, &info);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(loaded.cluster_count(), 1u);
  GuardEntry entry;
  bool changed = false;
  std::vector<ClusterView> clusters;
  ASSERT_TRUE(loaded.Guard(GuardField::kPhone, "919191", true, true, &entry, &changed, &clusters).ok());
  ASSERT_EQ(clusters.size(), 1u) << "the merge's link predates evidence: it never disappears";
  EXPECT_EQ(clusters[0].secondary_ids, (std::vector<ContactId>{2}));
  // With its evidence, the same split separates them.
  ASSERT_TRUE(engine.Guard(GuardField::kEmail, "george@x", true, true, &entry, &changed, &clusters).ok());
  EXPECT_EQ(clusters.size(), 2u);
}

}  // namespace
}  // namespace idrecon
