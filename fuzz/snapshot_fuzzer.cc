// Fuzz target: the snapshot loader (persistence/snapshot.h), fed from bytes
// through LoadSnapshotBytes (LoadSnapshot maps the file and calls it).
//
// Input: byte 0 = mode, the rest = the snapshot file. With mode bit 0 set the
// input gets a magic (format 2, or format 1 with mode bit 1) and the right
// CRC-32C trailer (the fuzzer supplies everything between), so it reaches
// the contact records and the engine's restore checks instead of stopping
// at the checksum.
//
// Properties: the loader never crashes and returns only Ok, Corruption or
// (a normalisation setting other than the engine's) InvalidArgument. On Ok:
// the engine's state encodes back to exactly the input bytes when they are
// in the current format (the format is canonical), and to bytes that load
// and encode to themselves when they were format 1; live secondaries link
// to live primaries; and the
// loaded engine serves /identify for the values it holds (read-only: every
// value is known) and then accepts a new contact with the next id.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/clock.h"
#include "engine/engine.h"
#include "fuzz/fuzz_check.h"
#include "persistence/crc32c.h"
#include "persistence/snapshot.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const unsigned mode = data[0];
  std::string bytes;
  if ((mode & 1) != 0) {
    bytes.assign((mode & 2) != 0 ? "IDRSNAP\x01" : "IDRSNAP\x02", 8);
    bytes.append(reinterpret_cast<const char*>(data + 1), size - 1);
    const std::uint32_t crc = idrecon::crc32c::Value(bytes);
    for (std::size_t i = 0; i < 4; ++i) bytes.push_back(static_cast<char>((crc >> (8 * i)) & 0xFF));
  } else {
    bytes.assign(reinterpret_cast<const char*>(data + 1), size - 1);
  }

  idrecon::ManualClock clock(1'700'000'000'000);
  idrecon::Engine engine(idrecon::Engine::Options{&clock, nullptr, 4, nullptr});
  idrecon::SnapshotInfo info;
  const idrecon::Status s = idrecon::LoadSnapshotBytes(bytes, "fuzz.snap", &engine, &info);
  FUZZ_CHECK(s.ok() || s.IsCorruption() || s.IsInvalidArgument(), s.ToString());
  if (!s.ok()) return 0;

  FUZZ_CHECK(info.contacts == engine.contact_count() && info.bytes == bytes.size());
  FUZZ_CHECK(engine.last_seq() == info.last_seq);
  std::string again;
  idrecon::EncodeSnapshot(engine, info.last_seq, &again);
  if (bytes[7] == '\x02') {
    FUZZ_CHECK(again == bytes, "a loaded snapshot does not encode to the same bytes");
  } else {
    idrecon::Engine upgraded(idrecon::Engine::Options{&clock, nullptr, 4, nullptr});
    idrecon::SnapshotInfo upgraded_info;
    FUZZ_CHECK(idrecon::LoadSnapshotBytes(again, "upgraded.snap", &upgraded, &upgraded_info).ok());
    std::string twice;
    idrecon::EncodeSnapshot(upgraded, upgraded_info.last_seq, &twice);
    FUZZ_CHECK(twice == again, "a format-1 snapshot does not settle in the current format");
  }

  std::size_t primaries = 0;
  std::vector<idrecon::ContactRow> rows;
  engine.ForEachContact([&](const idrecon::ContactRow& row) { rows.push_back(row); });
  FUZZ_CHECK(rows.size() == engine.contact_count());
  for (const auto& row : rows) {
    if (row.deleted_at) continue;
    if (row.is_primary) {
      ++primaries;
      continue;
    }
    FUZZ_CHECK(row.linked_id >= 1 && row.linked_id <= rows.size());
    const auto& primary = rows[row.linked_id - 1];
    FUZZ_CHECK(primary.is_primary && !primary.deleted_at, "contact " + std::to_string(row.id));
  }
  FUZZ_CHECK(engine.cluster_count() == primaries);

  for (const auto& row : rows) {
    if (row.deleted_at) continue;
    idrecon::IdentifyOutcome out;
    const idrecon::Status r = engine.Identify({row.email, row.phone, false}, &out);
    // Stored values need not be trimmed, nor (in a damaged file) indexed in
    // one cluster, so a read-only answer may be refused; it must not crash.
    FUZZ_CHECK(r.ok() || r.IsInvalidArgument() || r.IsUnavailable(), r.ToString());
  }
  idrecon::IdentifyOutcome out;
  FUZZ_CHECK(engine.Identify({"fuzz-new@example.com", "", true}, &out).ok());
  if (out.created_contact) FUZZ_CHECK(out.cluster.primary_id == rows.size() + 1);
  return 0;
}
