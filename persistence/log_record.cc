#include "persistence/log_record.h"

#include <cstring>

#include "engine/engine.h"
#include "persistence/coding.h"
#include "persistence/crc32c.h"

namespace idrecon {
namespace {

constexpr std::size_t kHeaderBytes = 18;  // version, kind, id, linked_to, at
constexpr std::size_t kCrcBytes = 4;

std::uint32_t RecordCrc(Seq seq, std::string_view body) {
  const auto key = EncodeLogKey(seq);
  return crc32c::Extend(crc32c::Extend(0, key.data(), key.size()), body.data(), body.size());
}

}  // namespace

std::array<char, 8> EncodeLogKey(Seq seq) {
  std::array<char, 8> key;
  for (int i = 7; i >= 0; --i) {
    key[static_cast<std::size_t>(i)] = static_cast<char>(seq & 0xFF);
    seq >>= 8;
  }
  return key;
}

Status DecodeLogKey(std::string_view key, Seq* seq) {
  if (key.size() != 8) return Status::Corruption("log key is " + std::to_string(key.size()) + " bytes, not 8");
  Seq s = 0;
  for (char c : key) s = (s << 8) | static_cast<unsigned char>(c);
  *seq = s;
  return Status::Ok();
}

void EncodeLogValue(const Change& change, std::string* out) {
  const std::size_t start = out->size();
  out->push_back(static_cast<char>(kLogFormatVersion));
  out->push_back(static_cast<char>(change.kind));
  PutLE<std::uint32_t>(out, change.id);
  PutLE<std::uint32_t>(out, change.linked_to);
  PutLE<std::int64_t>(out, change.at);
  if (change.kind == Change::Kind::kCreateContact) {
    PutLE<std::uint16_t>(out, static_cast<std::uint16_t>(change.email.size()));
    out->append(change.email);
    PutLE<std::uint16_t>(out, static_cast<std::uint16_t>(change.phone.size()));
    out->append(change.phone);
  }
  const std::string_view body(out->data() + start, out->size() - start);
  PutLE<std::uint32_t>(out, RecordCrc(change.seq, body));
}

Status DecodeLogValue(Seq seq, std::string_view value, Change* out) {
  auto bad = [seq](const std::string& why) {
    return Status::Corruption("log record seq " + std::to_string(seq) + ": " + why);
  };
  if (value.size() < kHeaderBytes + kCrcBytes) return bad("value is too short (" + std::to_string(value.size()) + " bytes)");
  const std::string_view body = value.substr(0, value.size() - kCrcBytes);
  const auto stored_crc = GetLE<std::uint32_t>(value.data() + body.size());
  if (stored_crc != RecordCrc(seq, body)) return bad("checksum mismatch");
  if (static_cast<std::uint8_t>(value[0]) != kLogFormatVersion) {
    return bad("unknown format version " + std::to_string(static_cast<unsigned char>(value[0])));
  }
  Change c;
  c.seq = seq;
  const auto kind = static_cast<std::uint8_t>(value[1]);
  c.id = GetLE<std::uint32_t>(value.data() + 2);
  c.linked_to = GetLE<std::uint32_t>(value.data() + 6);
  c.at = GetLE<std::int64_t>(value.data() + 10);
  if (c.id == 0) return bad("contact id 0");
  if (kind == static_cast<std::uint8_t>(Change::Kind::kDemote)) {
    c.kind = Change::Kind::kDemote;
    if (body.size() != kHeaderBytes) return bad("demote record has " + std::to_string(value.size()) + " bytes, not 22");
    if (c.linked_to == 0 || c.linked_to == c.id) return bad("demote does not name another primary");
    *out = c;
    return Status::Ok();
  }
  if (kind != static_cast<std::uint8_t>(Change::Kind::kCreateContact)) return bad("unknown kind " + std::to_string(kind));
  c.kind = Change::Kind::kCreateContact;
  std::size_t pos = kHeaderBytes;
  auto take_string = [&](std::string_view* s, std::size_t limit, const char* name) -> Status {
    if (body.size() < pos + 2) return bad(std::string(name) + " length is missing");
    const auto len = GetLE<std::uint16_t>(body.data() + pos);
    pos += 2;
    if (len > limit) return bad(std::string(name) + " is longer than its limit");
    if (body.size() < pos + len) return bad(std::string(name) + " runs past the record");
    *s = body.substr(pos, len);
    pos += len;
    return Status::Ok();
  };
  if (Status s = take_string(&c.email, kMaxEmailBytes, "email"); !s.ok()) return s;
  if (Status s = take_string(&c.phone, kMaxPhoneBytes, "phone"); !s.ok()) return s;
  if (pos != body.size()) return bad(std::to_string(body.size() - pos) + " stray bytes after the phone");
  if (c.email.empty() && c.phone.empty()) return bad("contact has neither email nor phone");
  *out = c;
  return Status::Ok();
}

}  // namespace idrecon
