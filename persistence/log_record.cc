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
  auto put_string = [out](std::string_view v) {
    PutLE<std::uint16_t>(out, static_cast<std::uint16_t>(v.size()));
    out->append(v);
  };
  const std::string_view guard_key = change.guard_field == 1 ? change.email : change.phone;
  switch (change.kind) {
    case Change::Kind::kCreateContact:
    case Change::Kind::kDemote:
      PutLE<std::uint32_t>(out, change.id);
      PutLE<std::uint32_t>(out, change.linked_to);
      PutLE<std::int64_t>(out, change.at);
      put_string(change.email);
      put_string(change.phone);
      break;
    case Change::Kind::kGuard:
      out->push_back(static_cast<char>(change.guard_field));
      out->push_back(static_cast<char>(change.guard_reason));
      out->push_back(change.guard_split ? 1 : 0);
      PutLE<std::int64_t>(out, change.at);
      put_string(guard_key);
      break;
    case Change::Kind::kUnguard:
      out->push_back(static_cast<char>(change.guard_field));
      PutLE<std::int64_t>(out, change.at);
      put_string(guard_key);
      break;
  }
  const std::string_view body(out->data() + start, out->size() - start);
  PutLE<std::uint32_t>(out, RecordCrc(change.seq, body));
}

Status DecodeLogValue(Seq seq, std::string_view value, Change* out) {
  auto bad = [seq](const std::string& why) {
    return Status::Corruption("log record seq " + std::to_string(seq) + ": " + why);
  };
  if (value.size() < 2 + kCrcBytes) return bad("value is too short (" + std::to_string(value.size()) + " bytes)");
  const std::string_view body = value.substr(0, value.size() - kCrcBytes);
  const auto stored_crc = GetLE<std::uint32_t>(value.data() + body.size());
  if (stored_crc != RecordCrc(seq, body)) return bad("checksum mismatch");
  const auto version = static_cast<std::uint8_t>(value[0]);
  if (version != 1 && version != kLogFormatVersion) return bad("unknown format version " + std::to_string(version));
  Change c;
  c.seq = seq;
  const auto kind = static_cast<std::uint8_t>(value[1]);
  std::size_t pos = 2;
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
  auto finish = [&](const char* last) -> Status {
    if (pos != body.size()) return bad(std::to_string(body.size() - pos) + " stray bytes after the " + last);
    *out = c;
    return Status::Ok();
  };

  if (kind == static_cast<std::uint8_t>(Change::Kind::kCreateContact) ||
      kind == static_cast<std::uint8_t>(Change::Kind::kDemote)) {
    if (body.size() < kHeaderBytes) return bad("value is too short (" + std::to_string(value.size()) + " bytes)");
    c.kind = static_cast<Change::Kind>(kind);
    c.id = GetLE<std::uint32_t>(value.data() + 2);
    c.linked_to = GetLE<std::uint32_t>(value.data() + 6);
    c.at = GetLE<std::int64_t>(value.data() + 10);
    pos = kHeaderBytes;
    if (c.id == 0) return bad("contact id 0");
    if (c.kind == Change::Kind::kDemote) {
      if (c.linked_to == 0 || c.linked_to == c.id) return bad("demote does not name another primary");
      if (version == 1) {
        if (body.size() != kHeaderBytes) return bad("demote record has " + std::to_string(value.size()) + " bytes, not 22");
        *out = c;
        return Status::Ok();
      }
      if (Status s = take_string(&c.email, kMaxEmailBytes, "evidence email"); !s.ok()) return s;
      if (Status s = take_string(&c.phone, kMaxPhoneBytes, "evidence phone"); !s.ok()) return s;
      return finish("evidence");
    }
    if (Status s = take_string(&c.email, kMaxEmailBytes, "email"); !s.ok()) return s;
    if (Status s = take_string(&c.phone, kMaxPhoneBytes, "phone"); !s.ok()) return s;
    if (c.email.empty() && c.phone.empty()) return bad("contact has neither email nor phone");
    return finish("phone");
  }
  if (version == 1 || (kind != static_cast<std::uint8_t>(Change::Kind::kGuard) &&
                       kind != static_cast<std::uint8_t>(Change::Kind::kUnguard))) {
    return bad("unknown kind " + std::to_string(kind));
  }
  c.kind = static_cast<Change::Kind>(kind);
  const bool guard = c.kind == Change::Kind::kGuard;
  const std::size_t fixed = guard ? 3 + 8 : 1 + 8;
  if (body.size() < pos + fixed) return bad("value is too short (" + std::to_string(value.size()) + " bytes)");
  c.guard_field = static_cast<std::uint8_t>(body[pos]);
  if (c.guard_field != 1 && c.guard_field != 2) return bad("guard of an unknown field");
  if (guard) {
    c.guard_reason = static_cast<std::uint8_t>(body[pos + 1]);
    if (c.guard_reason != 2 && c.guard_reason != 3) return bad("guard with an unknown reason");
    const auto split = static_cast<std::uint8_t>(body[pos + 2]);
    if (split > 1) return bad("guard with a bad split flag");
    c.guard_split = split == 1;
    pos += 3;
  } else {
    pos += 1;
  }
  c.at = GetLE<std::int64_t>(body.data() + pos);
  pos += 8;
  std::string_view key;
  if (Status s = take_string(&key, c.guard_field == 1 ? kMaxEmailBytes : kMaxPhoneBytes, "guarded value"); !s.ok()) {
    return s;
  }
  if (key.empty()) return bad("guard of an empty value");
  (c.guard_field == 1 ? c.email : c.phone) = key;
  return finish("guarded value");
}

}  // namespace idrecon
