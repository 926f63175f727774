#include "engine/match_key.h"

#include <phonenumbers/logger.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <array>
#include <cassert>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <set>
#include <utility>

namespace idrecon {
namespace {

using i18n::phonenumbers::NullLogger;
using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

// libphonenumber's singleton, silenced before its first use here.
// SetLogger deletes the logger it replaces, so it must not race with a
// parse that logs: the function-local static runs it exactly once, before
// any caller can reach the instance through this function.
const PhoneNumberUtil& Util() {
  static const PhoneNumberUtil* const util = [] {
    PhoneNumberUtil* u = PhoneNumberUtil::GetInstance();
    u->SetLogger(new NullLogger());  // takes ownership
    return u;
  }();
  return *util;
}

constexpr char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
constexpr bool IsAsciiUpper(char c) { return c >= 'A' && c <= 'Z'; }
constexpr bool IsAsciiLetter(char c) { return IsAsciiUpper(c) || (c >= 'a' && c <= 'z'); }
constexpr bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

// `text` for a message: printable ASCII as is, other bytes as \xNN, so a
// stray control byte from a command line cannot garble a terminal.
std::string Printable(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : text) {
    const auto b = static_cast<unsigned char>(c);
    if (b >= 0x20 && b < 0x7f) {
      out.push_back(c);
    } else {
      out += "\\x";
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0xf]);
    }
  }
  return out;
}

// A thread's memo of recent phone keys. libphonenumber's Parse costs ~6 us
// (ICU regular expressions, most of it), while a key is a pure function of
// (value, region): repeated values, the common case (a customer comes back),
// cost a lookup instead. Direct-mapped, so a value that collides only evicts
// another and costs a parse; values longer than kMaxValue are not kept.
// Allocated on a thread's first phone key, so threads that never compute one
// carry nothing.
class PhoneKeyMemo {
 public:
  static constexpr std::size_t kMaxValue = 32;  // keys of such values are <= max(32, 21) bytes

  // The key of `value` under `region` when remembered: sets *key_is_value,
  // and *key unless the key is the value.
  bool Find(std::uint64_t hash, std::string_view region, std::string_view value, bool* key_is_value,
            std::string* key) const {
    const Slot& slot = slots_[hash % kSlots];
    if (slot.value_size == 0 || slot.hash != hash || slot.value_size != value.size() ||
        std::memcmp(slot.region, region.data(), 2) != 0 || std::memcmp(slot.value, value.data(), value.size()) != 0) {
      return false;
    }
    *key_is_value = slot.key_is_value;
    if (!slot.key_is_value) key->assign(slot.key, slot.key_size);
    return true;
  }

  void Remember(std::uint64_t hash, std::string_view region, std::string_view value, std::string_view key,
                bool key_is_value) {
    Slot& slot = slots_[hash % kSlots];
    slot.hash = hash;
    std::memcpy(slot.region, region.data(), 2);
    slot.value_size = static_cast<std::uint8_t>(value.size());
    std::memcpy(slot.value, value.data(), value.size());
    slot.key_is_value = key_is_value;
    slot.key_size = key_is_value ? 0 : static_cast<std::uint8_t>(key.size());
    if (!key_is_value) std::memcpy(slot.key, key.data(), key.size());
  }

 private:
  // 32768 slots, ~2.6 MiB a thread: on the realistic mix (bench/matching.sh)
  // 1024 slots left normalisation at 0.61 of the throughput without it.
  static constexpr std::size_t kSlots = 32768;
  struct Slot {
    std::uint64_t hash = 0;
    std::uint8_t value_size = 0;  // 0: empty (values are non-empty)
    std::uint8_t key_size = 0;
    bool key_is_value = false;
    char region[2] = {};
    char value[kMaxValue];
    char key[kMaxValue];
  };
  std::array<Slot, kSlots> slots_;
};
static_assert(PhoneKeyMemo::kMaxValue >= MatchKeys::kMaxE164KeySize, "a remembered key fits its slot");

PhoneKeyMemo& ThreadPhoneKeyMemo() {
  thread_local std::unique_ptr<PhoneKeyMemo> memo = std::make_unique<PhoneKeyMemo>();
  return *memo;
}

}  // namespace

Status ParseRegion(std::string_view text, std::string* region) {
  if (text.size() != 2 || !IsAsciiLetter(text[0]) || !IsAsciiLetter(text[1])) {
    return Status::InvalidArgument("default region \"" + Printable(text) +
                                   "\" is not a two-letter ISO 3166-1 region code such as IN or US");
  }
  std::string upper(text);
  for (char& c : upper) {
    if (!IsAsciiUpper(c)) c = static_cast<char>(c - 'a' + 'A');
  }
  std::set<std::string> supported;
  Util().GetSupportedRegions(&supported);
  if (supported.count(upper) == 0) {
    return Status::InvalidArgument("default region \"" + Printable(text) +
                                   "\" is not a region libphonenumber has phone number metadata for");
  }
  *region = std::move(upper);
  return Status::Ok();
}

std::string Describe(const NormalizationSettings& s) {
  if (!s.normalize) return "off";
  if (s.default_region.empty()) return "on";
  return "on (default region " + s.default_region + ")";
}

MatchKeys::MatchKeys(NormalizationSettings settings)
    : settings_(std::move(settings)), parse_region_(settings_.default_region.empty() ? "ZZ" : settings_.default_region) {
  assert(parse_region_.size() == 2);  // the memo keeps two bytes of region
  // Silence libphonenumber now rather than on the first phone key.
  if (settings_.normalize) Util();
}

std::string_view MatchKeys::EmailKey(std::string_view value, std::string* scratch) const {
  if (!settings_.normalize) return value;
  std::size_t i = 0;
  while (i < value.size() && !IsAsciiUpper(value[i])) ++i;
  if (i == value.size()) return value;  // already its own key: no copy
  scratch->assign(value);
  for (; i < scratch->size(); ++i) (*scratch)[i] = AsciiLower((*scratch)[i]);
  return *scratch;
}

bool MatchKeys::EmailKeyEquals(std::string_view value, std::string_view key) const {
  if (!settings_.normalize) return value == key;
  if (value.size() != key.size()) return false;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (AsciiLower(value[i]) != key[i]) return false;
  }
  return true;
}

std::string_view MatchKeys::PhoneKey(std::string_view value, std::string* scratch) const {
  if (!settings_.normalize) return value;
  const bool memoizable = value.size() <= PhoneKeyMemo::kMaxValue;
  std::uint64_t hash = 0;
  if (memoizable) {
    hash = std::hash<std::string_view>{}(value);
    bool key_is_value = false;
    if (ThreadPhoneKeyMemo().Find(hash, parse_region_, value, &key_is_value, scratch)) {
      return key_is_value ? value : std::string_view(*scratch);
    }
  }
  const std::string_view key = ParsePhoneKey(value, scratch);
  if (memoizable) ThreadPhoneKeyMemo().Remember(hash, parse_region_, value, key, key.data() == value.data());
  return key;
}

std::string_view MatchKeys::ParsePhoneKey(std::string_view value, std::string* scratch) const {
  const PhoneNumberUtil& util = Util();
  // Parse takes a const std::string&; these keep their capacity between
  // calls, so a key costs no allocation of ours once a thread has warmed up.
  thread_local std::string input;
  thread_local PhoneNumber number;
  input.assign(value);
  if (util.Parse(input, parse_region_, &number) == PhoneNumberUtil::NO_PARSING_ERROR &&
      util.IsPossibleNumber(number)) {
    util.Format(number, PhoneNumberUtil::E164, scratch);
  } else {
    scratch->clear();
    if (value.front() == '+') scratch->push_back('+');
    bool any_digit = false;
    for (char c : value) {
      if (IsAsciiDigit(c)) {
        scratch->push_back(c);
        any_digit = true;
      }
    }
    if (!any_digit) return value;
  }
  if (*scratch == value) return value;
  return *scratch;
}

}  // namespace idrecon
