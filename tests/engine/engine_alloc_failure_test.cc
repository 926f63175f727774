// Allocation failure never leaves the engine and its log disagreeing.
//
// This binary replaces the global operator new, and sets the engine's
// test-only hook for the allocations that bypass it (large_pages.h), so
// that the N-th allocation from a chosen point fails with std::bad_alloc.
// A scripted sequence of Identify calls (new primaries, secondaries, merges,
// lookups; from an empty engine, with every value colliding, and from an
// engine one step before its contact-chunk and arena-chunk boundaries) runs
// with N = 1, 2, 3, … until a run completes without a failure. After each
// failed run:
//   - the call during which the allocation failed threw std::bad_alloc;
//   - the engine equals a fresh engine that replayed exactly the changes
//     its sink received (every row, the clusters, last_seq);
//   - the rest of the script, then a lookup of every value, gives the same
//     answers on both, and leaves the same rows.
// Apply (recovery) is driven the same way: a failed Apply leaves the engine
// as it was before it, and retrying it succeeds.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.h"
#include "engine/large_pages.h"
#include "engine/string_arena.h"
#include "engine_test_util.h"

namespace {

// 0: no failure armed. n > 0: the n-th allocation from now on this thread
// fails (then it is 0 again). Only the test thread ever arms it.
thread_local long t_fail_countdown = 0;
thread_local bool t_failed = false;    // the armed failure happened
thread_local long t_large_allocations = 0;  // seen by the engine's hook

bool ShouldFail() {
  if (t_fail_countdown == 0 || --t_fail_countdown != 0) return false;
  t_failed = true;
  return true;
}

void* Allocate(std::size_t n) {
  if (ShouldFail()) return nullptr;
  return std::malloc(n == 0 ? 1 : n);
}

// Out of line: inlined into a delete expression, free() would look to GCC
// like a mismatch with the new expression (-Wmismatched-new-delete).
[[gnu::noinline]] void Release(void* p) noexcept { std::free(p); }

}  // namespace

void* operator new(std::size_t n) {
  if (void* p = Allocate(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  if (void* p = Allocate(n)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return Allocate(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return Allocate(n); }
void operator delete(void* p) noexcept { Release(p); }
void operator delete[](void* p) noexcept { Release(p); }
void operator delete(void* p, std::size_t) noexcept { Release(p); }
void operator delete[](void* p, std::size_t) noexcept { Release(p); }

namespace idrecon {
namespace {

using testing::Own;
using testing::OwnedRow;
using testing::OwnedView;
using testing::VectorRows;

bool LargeAllocationHook() {
  ++t_large_allocations;
  return ShouldFail();
}

// Arms the countdown for one scope; disarms (whether or not it fired).
class FailNth {
 public:
  explicit FailNth(long n) {
    t_fail_countdown = n;
    t_failed = false;
  }
  ~FailNth() { t_fail_countdown = 0; }
  FailNth(const FailNth&) = delete;
  FailNth& operator=(const FailNth&) = delete;
};

// The contract of ChangeSink: Append never throws. The recording itself
// allocates, so the countdown is paused around it.
class NeverFailingSink : public testing::RecordingSink {
 public:
  void Append(const Change& c) override {
    const long saved = t_fail_countdown;
    t_fail_countdown = 0;
    RecordingSink::Append(c);
    t_fail_countdown = saved;
  }
};

struct Request {
  std::string email, phone;
};

std::string E(int k) { return "e" + std::to_string(k) + "@example.org"; }
std::string P(int k) { return "+1555" + std::to_string(1000 + k); }

// New primaries (with one value or two), secondaries bringing a new email
// or phone, merges of two clusters, lookups.
std::vector<Request> Script() {
  std::vector<Request> s;
  for (int i = 0; i < 12; ++i) {
    s.push_back({E(2 * i), P(2 * i)});          // a new primary
    s.push_back({E(2 * i + 1), P(2 * i)});      // a secondary: a new email
    s.push_back({E(2 * i), P(2 * i + 1)});      // a secondary: a new phone
    if (i % 3 == 2) {
      s.push_back({E(2 * i), P(2 * i - 2)});    // joins cluster i with i - 1
      s.push_back({"", P(2 * i - 1)});          // a lookup
    }
    if (i % 4 == 3) {
      s.push_back({E(100 + i), ""});            // a new primary, email only
      s.push_back({"", P(100 + i)});            // a new primary, phone only
      s.push_back({E(100 + i), P(100 + i)});    // joins those two
      s.push_back({E(100 + i), P(2 * i)});      // and that with cluster i
    }
  }
  return s;
}

std::uint64_t OneHash(std::string_view) { return 7; }

// Rows to restore before the script, so that the script's first contacts
// fill the last `slots_left` slots of the first contact chunk and the last
// `bytes_left` bytes of the first arena chunk. Deleted rows: they fill the
// arena (a deleted row keeps its values) without taking part in the index,
// which keeps the restore quick enough to repeat for every N.
std::vector<OwnedRow> ChunkEdgeRows(std::size_t slots_left, std::size_t bytes_left) {
  constexpr std::size_t kChunkContacts = std::size_t{1} << 16;
  const std::size_t n = kChunkContacts - 1 - slots_left;  // slot 0 is never used
  std::size_t to_fill = StringArena::kChunkBytes - bytes_left;
  std::vector<OwnedRow> rows(n);
  for (std::size_t i = 0; i < n; ++i) {
    rows[i].id = static_cast<ContactId>(i + 1);
    rows[i].created_at = rows[i].updated_at = 10;
    rows[i].deleted_at = 20;  // with no values left: a vacant id
    rows[i].email.assign(std::min(to_fill, kMaxEmailBytes), 'x');
    to_fill -= rows[i].email.size();
    rows[i].phone.assign(std::min(to_fill, kMaxPhoneBytes), '5');
    to_fill -= rows[i].phone.size();
  }
  EXPECT_EQ(to_fill, 0u);
  return rows;
}

struct Scenario {
  const char* name;
  std::uint64_t (*hash)(std::string_view);
  bool chunk_edges;
  // A new IdentifyOutcome per call (its vectors grow: more allocations to
  // fail, after the changes too), or one reused as the server does (fewer
  // runs, for the scenario that restores 65k rows in each).
  bool fresh_outcomes;
};

void PrintTo(const Scenario& s, std::ostream* os) { *os << s.name; }

class EngineAllocFailureTest : public ::testing::TestWithParam<Scenario> {
 protected:
  void SetUp() override {
    g_fail_large_allocation_for_testing = &LargeAllocationHook;
    if (GetParam().chunk_edges) base_ = ChunkEdgeRows(6, 120);
    first_ = static_cast<ContactId>(base_.size() + 1);
  }
  void TearDown() override { g_fail_large_allocation_for_testing = nullptr; }

  std::unique_ptr<Engine> NewEngine(ManualClock* clock, ChangeSink* sink) {
    auto engine = std::make_unique<Engine>(Engine::Options{clock, sink, 4, GetParam().hash});
    if (!base_.empty()) {
      EXPECT_TRUE(engine->RestoreAll(VectorRows(base_)).ok());
      engine->FinishRestore(0);
    }
    return engine;
  }

  std::vector<OwnedRow> base_;
  ContactId first_ = 1;  // the first id the script creates
};

// The rows from `first` on (the restored ones before it are deleted rows,
// which nothing in the script can touch).
std::vector<OwnedRow> RowsFrom(const Engine& engine, ContactId first) {
  std::vector<OwnedRow> rows;
  for (ContactId id = first; id <= engine.contact_count(); ++id) {
    ContactRow r;
    EXPECT_TRUE(engine.GetContact(id, &r).ok()) << id;
    rows.push_back({r.id, std::string(r.email), std::string(r.phone), r.linked_id, r.created_at, r.updated_at,
                    r.deleted_at});
  }
  return rows;
}

void ExpectSameEngine(const Engine& a, const Engine& b, ContactId first, const std::string& what) {
  EXPECT_EQ(a.last_seq(), b.last_seq()) << what;
  EXPECT_EQ(a.cluster_count(), b.cluster_count()) << what;
  EXPECT_EQ(a.contact_count(), b.contact_count()) << what;
  EXPECT_TRUE(RowsFrom(a, first) == RowsFrom(b, first)) << what << ": the rows differ";
}

TEST_P(EngineAllocFailureTest, IdentifyFailsCleanlyAtEveryAllocation) {
  const std::vector<Request> script = Script();
  long large_in_clean_run = -1;
  for (long n = 1;; ++n) {
    SCOPED_TRACE("allocation " + std::to_string(n) + " fails");
    ManualClock clock(1000);
    NeverFailingSink sink;
    std::unique_ptr<Engine> engine = NewEngine(&clock, &sink);
    std::size_t step = 0;
    bool threw = false;
    t_large_allocations = 0;
    IdentifyOutcome reused;
    {
      FailNth fail(n);
      for (; step < script.size() && !t_failed; ++step) {
        clock.Advance(1);
        IdentifyOutcome fresh;
        try {
          (void)engine->Identify({script[step].email, script[step].phone}, GetParam().fresh_outcomes ? &fresh : &reused);
        } catch (const std::bad_alloc&) {
          threw = true;
          break;
        }
      }
    }
    if (!t_failed) {  // the whole script ran: every allocation point was tried
      large_in_clean_run = t_large_allocations;
      std::cout << "[ info ] " << GetParam().name << ": " << n - 1 << " allocations in the script, "
                << large_in_clean_run << " large\n";
      break;
    }
    ASSERT_TRUE(threw) << "step " << step << ": an allocation failed and Identify did not report it";

    // The engine is what its log would rebuild.
    std::unique_ptr<Engine> replayed = NewEngine(&clock, nullptr);  // Apply reads no clock; the rest reads this one
    for (std::size_t i = 0; i < sink.size(); ++i) ASSERT_TRUE(replayed->Apply(sink.at(i)).ok()) << "change " << i;
    ExpectSameEngine(*engine, *replayed, first_, "after the failure at step " + std::to_string(step));
    if (::testing::Test::HasFailure()) return;

    // And both go on alike: the failed request again, the rest, every value.
    std::vector<Request> rest(script.begin() + static_cast<std::ptrdiff_t>(step), script.end());
    for (const Request& r : script) {
      rest.push_back({r.email, ""});
      rest.push_back({"", r.phone});
    }
    for (const Request& r : rest) {
      if (r.email.empty() && r.phone.empty()) continue;
      clock.Advance(1);
      IdentifyOutcome a, b;
      ASSERT_TRUE(engine->Identify({r.email, r.phone}, &a).ok());
      ASSERT_TRUE(replayed->Identify({r.email, r.phone}, &b).ok());
      ASSERT_EQ(Own(a.cluster), Own(b.cluster)) << r.email << " " << r.phone;
      ASSERT_EQ(a.created_contact, b.created_contact) << r.email << " " << r.phone;
      ASSERT_EQ(a.merged, b.merged) << r.email << " " << r.phone;
    }
    ExpectSameEngine(*engine, *replayed, first_, "after the rest of the script");
    if (::testing::Test::HasFailure()) return;
  }
  // The script crossed the chunk boundaries it was built to cross: the
  // first contact chunk and arena chunk (empty engine), or the second ones.
  EXPECT_EQ(large_in_clean_run, 2);
}

TEST_P(EngineAllocFailureTest, ApplyFailsCleanlyAtEveryAllocation) {
  // The changes of one clean run of the script, to replay.
  ManualClock clock(1000);
  NeverFailingSink sink;
  {
    std::unique_ptr<Engine> source = NewEngine(&clock, &sink);
    for (const Request& r : Script()) {
      clock.Advance(1);
      IdentifyOutcome out;
      ASSERT_TRUE(source->Identify({r.email, r.phone}, &out).ok());
    }
  }
  const std::vector<Change> changes = sink.Changes();
  for (long n = 1;; ++n) {
    SCOPED_TRACE("allocation " + std::to_string(n) + " fails");
    ManualClock c1(0), c2(0);
    std::unique_ptr<Engine> engine = NewEngine(&c1, nullptr);
    std::unique_ptr<Engine> expected = NewEngine(&c2, nullptr);  // gets each change once it is in
    std::optional<std::size_t> failed_at;
    {
      FailNth fail(n);
      for (std::size_t i = 0; i < changes.size(); ++i) {
        try {
          const Status s = engine->Apply(changes[i]);
          if (!s.ok()) {
            t_fail_countdown = 0;
            FAIL() << "change " << i << ": " << s.ToString();
          }
        } catch (const std::bad_alloc&) {
          failed_at = i;
          break;
        }
        const long saved = t_fail_countdown;
        t_fail_countdown = 0;
        ASSERT_TRUE(expected->Apply(changes[i]).ok());
        t_fail_countdown = saved;
      }
    }
    if (!failed_at) {
      ASSERT_FALSE(t_failed) << "an allocation failed and Apply did not report it";
      break;
    }
    ExpectSameEngine(*engine, *expected, first_, "after a failed Apply of change " + std::to_string(*failed_at));
    for (std::size_t i = *failed_at; i < changes.size(); ++i) {
      ASSERT_TRUE(engine->Apply(changes[i]).ok()) << "retrying change " << i;
      ASSERT_TRUE(expected->Apply(changes[i]).ok());
    }
    ExpectSameEngine(*engine, *expected, first_, "after the retry");
    // The index is whole too: every value finds the same cluster.
    for (const Request& r : Script()) {
      IdentifyOutcome a, b;
      ASSERT_TRUE(engine->Identify({r.email, r.phone}, &a).ok());
      ASSERT_TRUE(expected->Identify({r.email, r.phone}, &b).ok());
      ASSERT_EQ(Own(a.cluster), Own(b.cluster)) << r.email << " " << r.phone;
      ASSERT_FALSE(a.created_contact);
    }
    if (::testing::Test::HasFailure()) return;
  }
}

INSTANTIATE_TEST_SUITE_P(Scenarios, EngineAllocFailureTest,
                         ::testing::Values(Scenario{"empty_engine", nullptr, false, true},
                                           Scenario{"every_value_colliding", &OneHash, false, true},
                                           Scenario{"chunk_edges", nullptr, true, false}),
                         [](const ::testing::TestParamInfo<Scenario>& param_info) {
                           return std::string(param_info.param.name);
                         });

}  // namespace
}  // namespace idrecon
