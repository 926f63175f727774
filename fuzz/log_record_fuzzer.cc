// Fuzz target: the mutation log's record decoder (persistence/log_record.h).
//
// Input: byte 0 = mode, bytes 1..8 = the seq (big-endian, as the LMDB key),
// the rest = the stored value. With mode bit 0 set the last 4 bytes are
// replaced by the right CRC-32C, so the fuzzer gets past the checksum and
// exercises the field checks behind it.
//
// Properties: DecodeLogValue never crashes and returns Ok or Corruption; a
// decoded record obeys log_format.md (id ≥ 1, values within docs/api.md §2's
// limits, a create has a value, a demote names another contact) and encodes
// back to exactly the same bytes; the key round-trips too.
#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/change.h"
#include "engine/engine.h"
#include "fuzz/fuzz_check.h"
#include "persistence/crc32c.h"
#include "persistence/log_record.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 9) return 0;
  const unsigned mode = data[0];
  const std::string_view key(reinterpret_cast<const char*>(data + 1), 8);
  std::string value(reinterpret_cast<const char*>(data + 9), size - 9);

  idrecon::Seq seq = 0;
  FUZZ_CHECK(idrecon::DecodeLogKey(key, &seq).ok());
  const auto encoded_key = idrecon::EncodeLogKey(seq);
  FUZZ_CHECK(std::string_view(encoded_key.data(), encoded_key.size()) == key);

  if ((mode & 1) != 0 && value.size() >= 4) {
    std::uint32_t crc = idrecon::crc32c::Extend(0, key.data(), key.size());
    crc = idrecon::crc32c::Extend(crc, value.data(), value.size() - 4);
    for (std::size_t i = 0; i < 4; ++i) value[value.size() - 4 + i] = static_cast<char>((crc >> (8 * i)) & 0xFF);
  }

  idrecon::Change change;
  const idrecon::Status s = idrecon::DecodeLogValue(seq, value, &change);
  FUZZ_CHECK(s.ok() || s.IsCorruption(), s.ToString());
  if (!s.ok()) {
    FUZZ_CHECK(!s.message().empty());
    return 0;
  }
  FUZZ_CHECK(change.seq == seq);
  FUZZ_CHECK(change.email.size() <= idrecon::kMaxEmailBytes && change.phone.size() <= idrecon::kMaxPhoneBytes);
  using Kind = idrecon::Change::Kind;
  if (change.kind == Kind::kCreateContact) {
    FUZZ_CHECK(change.id != 0 && (!change.email.empty() || !change.phone.empty()));
  } else if (change.kind == Kind::kDemote) {
    FUZZ_CHECK(change.id != 0 && change.linked_to != 0 && change.linked_to != change.id);
  } else {
    FUZZ_CHECK(change.kind == Kind::kGuard || change.kind == Kind::kUnguard);
    FUZZ_CHECK(change.guard_field == 1 || change.guard_field == 2);
    FUZZ_CHECK((change.guard_field == 1 ? change.email : change.phone).size() > 0);
    FUZZ_CHECK(change.kind == Kind::kUnguard || change.guard_reason == 2 || change.guard_reason == 3);
  }
  // Records are written in the current version; older ones decode but
  // re-encode in the current layout.
  if (static_cast<std::uint8_t>(value[0]) == idrecon::kLogFormatVersion) {
    std::string reencoded;
    idrecon::EncodeLogValue(change, &reencoded);
    FUZZ_CHECK(reencoded == value, "a decoded record does not encode to the same bytes");
  }
  return 0;
}
