// Fuzz target: a sequence of engine operations decoded from the input, each
// /identify answer compared with tests/engine/reference_model.h (docs/api.md §2
// written plainly), then the whole state compared row by row, and the two
// recovery paths checked against it: replaying every Change through Apply()
// into a fresh engine, and a snapshot (EncodeSnapshot → LoadSnapshotBytes).
//
// Input: byte 0 picks the value hash (bits 0-1 == 0: a deliberately
// colliding one) and, with bit 2, the recovery checks (two more engines: an
// engine is costly to build under ASan, so half the inputs skip them);
// then one operation per byte pair:
//   op & 3 == 0..1: identify; email/phone picked from pools of 5 (or absent),
//                   sometimes padded with whitespace (the pair's second byte)
//   op & 3 == 2:    move the clock forward, stand still or step back
//   op & 3 == 3:    GetContact of an id near the ones assigned
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/change.h"
#include "engine/clock.h"
#include "engine/engine.h"
#include "fuzz/fuzz_check.h"
#include "persistence/snapshot.h"
#include "tests/engine/reference_model.h"

namespace {

using idrecon::ContactId;
using idrecon::ContactRow;
using idrecon::Engine;
using idrecon::Millis;
using idrecon::testing::Own;
using idrecon::testing::OwnedView;
using idrecon::testing::ReferenceModel;

constexpr std::size_t kMaxOps = 400;

std::uint64_t CollidingHash(std::string_view s) { return s.size() & 3; }

// Keeps a copy of every change so it can be replayed.
struct RecordingSink : idrecon::ChangeSink {
  struct Owned {
    idrecon::Change change;
    std::string email, phone;
  };
  std::vector<Owned> changes;
  void Append(const idrecon::Change& c) override {
    FUZZ_CHECK(changes.empty() || c.seq == changes.back().change.seq + 1, "seq gap");
    changes.push_back({c, std::string(c.email), std::string(c.phone)});
  }
};

std::string Describe(const OwnedView& v) {
  std::string s = "primary " + std::to_string(v.primary) + " emails [";
  for (const auto& e : v.emails) s += e + ";";
  s += "] phones [";
  for (const auto& p : v.phones) s += p + ";";
  s += "] secondaries [";
  for (auto id : v.secondaries) s += std::to_string(id) + ";";
  return s + "]";
}

std::string Pick(unsigned choice, unsigned pad, const char* prefix) {
  if (choice % 6 == 5) return "";
  std::string v = prefix + std::to_string(choice % 6);
  switch (pad & 7) {
    case 1: return " " + v;
    case 2: return v + "\r\n";
    case 3: return "\t" + v + " ";
    case 4: return " \t\r\n";  // only whitespace: absent
    default: return v;
  }
}

// Every row of `engine` equals the model's.
void CheckRows(const Engine& engine, const ReferenceModel& model, const char* what) {
  FUZZ_CHECK(engine.contact_count() == model.rows().size(), what);
  std::size_t primaries = 0;
  for (const auto& r : model.rows()) {
    ContactRow row;
    FUZZ_CHECK(engine.GetContact(r.id, &row).ok(), what);
    const std::string detail = std::string(what) + ": contact " + std::to_string(r.id);
    FUZZ_CHECK(row.email == r.email && row.phone == r.phone, detail);
    FUZZ_CHECK(row.linked_id == r.linked_id && row.is_primary == (r.linked_id == 0), detail);
    FUZZ_CHECK(row.created_at == r.created_at && row.updated_at == r.updated_at, detail);
    FUZZ_CHECK(!row.deleted_at, detail);
    primaries += r.linked_id == 0;
  }
  FUZZ_CHECK(engine.cluster_count() == primaries, what);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  idrecon::fuzz::ByteReader in(data, size);
  const unsigned mode = in.Byte();
  const bool colliding = (mode & 3) == 0;
  const bool check_recovery = (mode & 4) != 0;
  idrecon::ManualClock clock(1'700'000'000'000);
  RecordingSink sink;
  Engine engine(Engine::Options{&clock, &sink, 4, colliding ? &CollidingHash : nullptr});
  ReferenceModel model;
  std::vector<std::pair<std::string, std::string>> asked;

  for (std::size_t i = 0; i < kMaxOps && !in.empty(); ++i) {
    const unsigned op = in.Byte();
    const unsigned arg = in.Byte();
    switch (op & 3) {
      case 0:
      case 1: {
        const std::string email = Pick(op >> 2, arg, "e");
        const std::string phone = Pick(op >> 5, arg >> 3, "+1555");
        idrecon::IdentifyOutcome out;
        const idrecon::Status s = engine.Identify({email, phone}, &out);
        const std::string te(idrecon::TrimAsciiWhitespace(email)), tp(idrecon::TrimAsciiWhitespace(phone));
        if (te.empty() && tp.empty()) {
          FUZZ_CHECK(s.IsInvalidArgument(), s.ToString());
          break;
        }
        FUZZ_CHECK(s.ok(), s.ToString());
        asked.emplace_back(email, phone);
        const std::size_t before = model.rows().size();
        const OwnedView expected = model.Identify(te, tp, clock.NowMillis()).view;
        const OwnedView got = Own(out.cluster);
        FUZZ_CHECK(got == expected, "request " + std::to_string(i) + " email '" + te + "' phone '" + tp +
                                        "': engine " + Describe(got) + " model " + Describe(expected));
        FUZZ_CHECK(out.created_contact == (model.rows().size() != before));
        FUZZ_CHECK(out.depends_on_seq <= engine.last_seq());
        break;
      }
      case 2: {
        const unsigned kind = arg % 8;
        if (kind < 5) clock.Advance(static_cast<Millis>(arg >> 3));
        else if (kind == 7) clock.Advance(-static_cast<Millis>(arg >> 2));
        break;
      }
      case 3: {
        const ContactId id = static_cast<ContactId>(arg % (model.rows().size() + 3));
        ContactRow row;
        const idrecon::Status s = engine.GetContact(id, &row);
        FUZZ_CHECK(s.ok() == (id >= 1 && id <= model.rows().size()), s.ToString());
        break;
      }
    }
  }
  CheckRows(engine, model, "engine");
  FUZZ_CHECK(engine.last_seq() == sink.changes.size());
  if (!check_recovery) return 0;

  // Recovery path 1: the log replayed into an empty engine.
  Engine replayed(Engine::Options{&clock, nullptr, 4, colliding ? &CollidingHash : nullptr});
  for (auto& owned : sink.changes) {
    idrecon::Change c = owned.change;
    c.email = owned.email;
    c.phone = owned.phone;
    const idrecon::Status s = replayed.Apply(c);
    FUZZ_CHECK(s.ok(), s.ToString());
  }
  CheckRows(replayed, model, "replayed");

  // Recovery path 2: a snapshot, byte-identical when encoded again.
  std::string snapshot;
  idrecon::EncodeSnapshot(engine, engine.last_seq(), &snapshot);
  Engine loaded(Engine::Options{&clock, nullptr, 4, colliding ? &CollidingHash : nullptr});
  idrecon::SnapshotInfo info;
  const idrecon::Status s = idrecon::LoadSnapshotBytes(snapshot, "fuzz", &loaded, &info);
  FUZZ_CHECK(s.ok(), s.ToString());
  CheckRows(loaded, model, "snapshot");
  FUZZ_CHECK(loaded.last_seq() == engine.last_seq());
  std::string again;
  idrecon::EncodeSnapshot(loaded, loaded.last_seq(), &again);
  FUZZ_CHECK(again == snapshot, "snapshot encoding is not deterministic");

  // The recovered engines answer every earlier request as the original does
  // (each is now read-only: all its values are known, its clusters joined).
  for (const auto& [email, phone] : asked) {
    idrecon::IdentifyOutcome a, b, c;
    FUZZ_CHECK(engine.Identify({email, phone, false}, &a).ok());
    FUZZ_CHECK(replayed.Identify({email, phone, false}, &b).ok());
    FUZZ_CHECK(loaded.Identify({email, phone, false}, &c).ok());
    FUZZ_CHECK(Own(a.cluster) == Own(b.cluster), "replayed: " + Describe(Own(a.cluster)) + " vs " + Describe(Own(b.cluster)));
    FUZZ_CHECK(Own(a.cluster) == Own(c.cluster), "snapshot: " + Describe(Own(a.cluster)) + " vs " + Describe(Own(c.cluster)));
  }
  return 0;
}
