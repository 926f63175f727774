// RestoreAll, the bulk snapshot path, must build exactly the state that
// RestoreContact + RestoreLink build one row at a time: the same rows, the
// same answer to every later /identify (which shows the index, the first-
// carrier flags and the cluster lists), the same handling of hash collisions
// and the same Corruption for a bad row. Randomized; the seed is printed;
// rerun one with IDRECON_SEED=<seed>.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine_test_util.h"

namespace idrecon {
namespace {

using testing::Own;
using testing::OwnedRow;
using testing::Rows;
using testing::VectorRows;
using testing::View;

std::uint64_t SeedFromEnvOr(std::uint64_t fallback) {
  const char* s = std::getenv("IDRECON_SEED");
  return s ? std::strtoull(s, nullptr, 10) : fallback;
}

std::uint64_t StdHash(std::string_view s) { return std::hash<std::string_view>{}(s); }
// Only 4096 distinct hashes, spread over the top bits: many collisions,
// spread over many of RestoreAll's partitions.
std::uint64_t TopBitsHash(std::string_view s) { return (StdHash(s) >> 52) << 52; }
// Every value of one length collides: everything in one partition.
std::uint64_t LengthHash(std::string_view s) { return s.size(); }

std::string Email(int k) { return "user" + std::to_string(k) + "@example.com"; }
std::string Phone(int k) { return "+1555" + std::to_string(k); }

// A snapshot's worth of rows: built through Identify like a shop's traffic
// (new customers, customers adding a value, a few joins of two customers;
// values are numbered, `pool` of each in all), then deleted and vacant rows
// mixed in at random places (ids renumbered, links remapped).
std::vector<OwnedRow> MakeRows(std::mt19937_64& rng, int requests, int pool, std::uint64_t (*hash)(std::string_view)) {
  ManualClock clock(1'000'000);
  Engine source(Engine::Options{&clock, nullptr, 16, hash});
  IdentifyOutcome out;
  int emails = 0, phones = 0;  // values handed out so far
  auto known = [&](int issued) { return static_cast<int>(rng() % static_cast<unsigned>(std::max(issued, 1))); };
  for (int i = 0; i < requests && emails < pool && phones < pool; ++i) {
    clock.Advance(1 + rng() % 3);
    std::string email, phone;
    const int roll = static_cast<int>(rng() % 100);
    if (roll < 60) {  // a new customer, sometimes with one value only
      if (rng() % 8 != 0) email = Email(emails++);
      if (email.empty() || rng() % 8 != 0) phone = Phone(phones++);
    } else if (roll < 90) {  // an existing customer brings a new value
      if (rng() % 2) {
        email = Email(known(emails));
        phone = Phone(phones++);
      } else {
        email = Email(emails++);
        phone = Phone(known(phones));
      }
    } else if (roll < 95) {  // joins two customers (or looks one up)
      email = Email(known(emails));
      phone = Phone(known(phones));
    } else {  // a lookup by one value
      email = Email(known(emails));
    }
    EXPECT_TRUE(source.Identify({email, phone, true}, &out).ok());
  }
  const std::vector<OwnedRow> live = Rows(source);
  std::vector<OwnedRow> rows;
  std::vector<ContactId> new_id(live.size() + 1, 0);
  for (const OwnedRow& r : live) {
    const int roll = static_cast<int>(rng() % 100);
    if (roll < 10) {  // a deleted row; its values may be anyone's, its link is history
      OwnedRow d;
      d.email = rng() % 2 ? Email(static_cast<int>(rng() % (2 * pool))) : "";
      d.phone = rng() % 2 || d.email.empty() ? Phone(static_cast<int>(rng() % (2 * pool))) : "";
      d.linked_id = static_cast<ContactId>(rng() % 5);
      d.created_at = r.created_at;
      d.updated_at = r.created_at + 5;
      d.deleted_at = r.created_at + 5;
      rows.push_back(d);
    } else if (roll < 12) {  // a vacant id
      OwnedRow v;
      v.created_at = v.updated_at = r.created_at;
      v.deleted_at = r.created_at;
      rows.push_back(v);
    }
    rows.push_back(r);
    new_id[r.id] = static_cast<ContactId>(rows.size());
  }
  for (std::size_t i = 0; i < rows.size(); ++i) {
    rows[i].id = static_cast<ContactId>(i + 1);
    if (!rows[i].deleted_at && rows[i].linked_id != 0) rows[i].linked_id = new_id[rows[i].linked_id];
  }
  return rows;
}

Status RestoreOneByOne(Engine& engine, const std::vector<OwnedRow>& rows) {
  for (const OwnedRow& r : rows) {
    if (Status s = engine.RestoreContact(View(r)); !s.ok()) return s;
  }
  for (const OwnedRow& r : rows) {
    if (r.deleted_at || r.linked_id == 0) continue;
    if (Status s = engine.RestoreLink(r.id, r.linked_id); !s.ok()) return s;
  }
  return Status::Ok();
}

struct Params {
  const char* name;
  int requests;
  int pool;
  std::uint64_t (*hash)(std::string_view);
  std::size_t lock_stripes;
  unsigned threads;
};

void PrintTo(const Params& p, std::ostream* os) { *os << p.name; }

class EngineRestoreAllTest : public ::testing::TestWithParam<Params> {};

TEST_P(EngineRestoreAllTest, BuildsWhatRestoreContactBuilds) {
  const Params& params = GetParam();
  const std::uint64_t seed = SeedFromEnvOr(std::random_device{}());
  std::cout << "[ seed ] IDRECON_SEED=" << seed << "\n";
  SCOPED_TRACE("IDRECON_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const std::vector<OwnedRow> rows = MakeRows(rng, params.requests, params.pool, params.hash);
  std::size_t live = 0, primaries = 0;
  for (const OwnedRow& r : rows) {
    live += !r.deleted_at;
    primaries += !r.deleted_at && r.linked_id == 0;
  }
  std::cout << "[ info ] " << rows.size() << " rows, " << live << " live in " << primaries << " clusters\n";

  ManualClock clock_one(5'000'000), clock_all(5'000'000);
  Engine one(Engine::Options{&clock_one, nullptr, params.lock_stripes, params.hash});
  Engine::Options options{&clock_all, nullptr, params.lock_stripes, params.hash};
  options.restore_threads = params.threads;
  Engine all(options);
  ASSERT_TRUE(RestoreOneByOne(one, rows).ok());
  ASSERT_TRUE(all.RestoreAll(VectorRows(rows)).ok());
  one.FinishRestore(7);
  all.FinishRestore(7);

  ASSERT_EQ(Rows(all), rows);
  ASSERT_EQ(Rows(one), rows);
  EXPECT_EQ(all.contact_count(), one.contact_count());
  EXPECT_EQ(all.cluster_count(), one.cluster_count());
  EXPECT_EQ(all.last_seq(), 7u);

  // Both engines now answer every request alike: lookups, new values, merges.
  IdentifyOutcome a, b;
  for (int i = 0; i < 3000; ++i) {
    const int e = static_cast<int>(rng() % (2 * params.pool + 1));
    const int p = static_cast<int>(rng() % (2 * params.pool + 1));
    const std::string email = e == 2 * params.pool ? "" : Email(e);
    const std::string phone = p == 2 * params.pool ? "" : Phone(p);
    if (email.empty() && phone.empty()) continue;
    clock_one.Advance(1);
    clock_all.Advance(1);
    const Status sa = one.Identify({email, phone, true}, &a);
    const Status sb = all.Identify({email, phone, true}, &b);
    ASSERT_EQ(sa.ok(), sb.ok());
    ASSERT_EQ(Own(a.cluster), Own(b.cluster)) << "request " << i << ": " << email << " " << phone;
    ASSERT_EQ(a.created_contact, b.created_contact);
    ASSERT_EQ(a.merged, b.merged);
  }
  EXPECT_EQ(Rows(all), Rows(one));
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, EngineRestoreAllTest,
    ::testing::Values(Params{"default_hash_two_threads", 8000, 8000, nullptr, 16, 2},
                      Params{"default_hash_one_stripe", 8000, 8000, nullptr, 1, 2},
                      Params{"std_hash", 8000, 8000, &StdHash, 16, 2},
                      Params{"top_bits_collisions", 8000, 8000, &TopBitsHash, 16, 2},
                      Params{"length_collisions_one_thread", 3000, 3000, &LengthHash, 4, 1}),
    [](const ::testing::TestParamInfo<Params>& param_info) { return std::string(param_info.param.name); });

TEST(EngineRestoreAllErrorsTest, RefusesAnEngineThatHoldsContacts) {
  ManualClock clock(1000);
  Engine engine(Engine::Options{&clock, nullptr, 4, nullptr});
  IdentifyOutcome out;
  ASSERT_TRUE(engine.Identify({"a@x", "1", true}, &out).ok());
  const std::vector<OwnedRow> rows = {{1, "b@x", "2", 0, 10, 10, std::nullopt}};
  EXPECT_TRUE(engine.RestoreAll(VectorRows(rows)).IsInvalidArgument());
}

// The same rows give the same Corruption, word for word, both ways.
void ExpectSameCorruption(const std::vector<OwnedRow>& rows, const std::string& expected) {
  ManualClock clock(1000);
  Engine one(Engine::Options{&clock, nullptr, 4, nullptr});
  Engine::Options options{&clock, nullptr, 4, nullptr};
  options.restore_threads = 2;
  Engine all(options);
  const Status a = RestoreOneByOne(one, rows);
  const Status b = all.RestoreAll(VectorRows(rows));
  EXPECT_TRUE(a.IsCorruption()) << a.ToString();
  EXPECT_TRUE(b.IsCorruption()) << b.ToString();
  EXPECT_EQ(a.message(), expected);
  EXPECT_EQ(b.message(), expected);
}

TEST(EngineRestoreAllErrorsTest, BadRowsAreCorruptionAsOneByOne) {
  std::vector<OwnedRow> rows;
  for (ContactId id = 1; id <= 5000; ++id) {  // enough rows for RestoreAll to split them over threads
    rows.push_back({id, Email(static_cast<int>(id)), Phone(static_cast<int>(id)), 0, 10, 10, std::nullopt});
  }
  {
    std::vector<OwnedRow> bad = rows;
    bad[4000].email.clear();
    bad[4000].phone.clear();
    ExpectSameCorruption(bad, "snapshot contact 4001: neither email nor phone");
  }
  {
    std::vector<OwnedRow> bad = rows;
    bad[2].phone = std::string(kMaxPhoneBytes + 1, '1');
    ExpectSameCorruption(bad, "snapshot contact 3: value over its limit");
  }
  {
    std::vector<OwnedRow> bad = rows;
    bad[9].linked_id = 5;   // 10 -> 5
    bad[19].linked_id = 10;  // 20 -> 10, which is a secondary by then
    ExpectSameCorruption(bad, "snapshot link 20 -> 10 does not join a lone live contact to a live primary");
  }
  {
    std::vector<OwnedRow> bad = rows;
    bad[9].linked_id = 5001;
    ExpectSameCorruption(bad, "snapshot link 10 -> 5001 names a missing contact");
  }
}

}  // namespace
}  // namespace idrecon
