// MatchKeys: the match key of an email or phone value, the bytes the value
// index joins contacts on (docs/api.md §6).
//
// Contract:
//   - Normalisation off: the key of a value is the value itself.
//   - On, email: the value with its ASCII letters lower-cased; every other
//     byte (bytes >= 0x80 included) unchanged. Same length as the value.
//   - On, phone: libphonenumber parses the value (default region
//     NormalizationSettings::default_region, or "ZZ", none). When it parses
//     and libphonenumber calls it a possible number, the key is its E.164
//     form ("+919876543210"). Otherwise the key is the value's ASCII digits,
//     after a '+' when the value begins with one; when that holds no digit at
//     all, the key is the value itself, so that digit-free values ("abc",
//     "xyz") never share one key. libphonenumber's answer is the rule: with
//     default region IN, "+91 98765 43210", "098765 43210" and "9876543210"
//     all have the key "+919876543210".
//   - Values are trimmed and non-empty; so is every key. A key is not
//     always its own key, not even an E.164 one (with DE, "000000" has the
//     key "+4900000", and that the key "+490000"): compute keys from values.
//   - Size bound (the engine stores a key beside its value): an email key is
//     as long as its value; a phone key is at most
//     max(value.size(), kMaxE164KeySize) bytes. The E.164 form is '+', a
//     country code of at most 3 digits and a national significant number of
//     at most 17 digits (Parse refuses longer ones, TOO_LONG_NSN); the other
//     phone keys are never longer than the value.
//     So values of up to 64 bytes have keys of up to 64 bytes.
//
// libphonenumber logs nothing: a NullLogger is installed in its
// PhoneNumberUtil singleton before this file first uses it (a MatchKeys made
// with normalisation on, or ParseRegion).
//
// Cost: libphonenumber's parse is ~6 us (idrecon-bench-engine
// --benchmark_filter=Key/); each thread remembers the phone keys of its
// recent values of up to 32 bytes, so a repeated value costs ~10 ns.
//
// Thread-safety: immutable after construction; every method may run
// concurrently from any number of threads (PhoneNumberUtil is a thread-safe
// singleton; the parser's working objects and the memo of recent phone keys
// are per thread). `scratch` belongs to the caller: one per thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "engine/status.h"

namespace idrecon {

// The normalisation setting of a data directory (docs/api.md §6).
struct NormalizationSettings {
  bool normalize = false;
  std::string default_region;  // "" (none) or an ISO 3166-1 alpha-2 code, upper case, known to libphonenumber
  bool operator==(const NormalizationSettings&) const = default;
};

// Parses a --default-region argument: two ASCII letters (any case) that
// libphonenumber knows as a region (PhoneNumberUtil::GetSupportedRegions).
// Writes the upper-case form. InvalidArgument with a message for a person
// otherwise ("ZZ", libphonenumber's "unknown region", is refused).
Status ParseRegion(std::string_view text, std::string* region);

// "off", "on", "on (default region IN)" — for messages.
std::string Describe(const NormalizationSettings& s);

class MatchKeys {
 public:
  // The longest phone key taken from libphonenumber's E.164 form: '+',
  // 3 country-code digits, 17 national digits.
  static constexpr std::size_t kMaxE164KeySize = 1 + 3 + 17;

  // `settings.default_region` is "" or a region ParseRegion accepts.
  explicit MatchKeys(NormalizationSettings settings);

  const NormalizationSettings& settings() const { return settings_; }
  bool normalizes() const { return settings_.normalize; }

  // `value` is trimmed and non-empty. Returns its match key: a view of
  // `value` itself when the key equals it (always when normalisation is
  // off), otherwise a view of *scratch (overwritten).
  std::string_view EmailKey(std::string_view value, std::string* scratch) const;
  std::string_view PhoneKey(std::string_view value, std::string* scratch) const;

  // True when EmailKey(value) == key, without allocating (used to confirm
  // index hits).
  bool EmailKeyEquals(std::string_view value, std::string_view key) const;

 private:
  // PhoneKey without the thread's memo of recent keys.
  std::string_view ParsePhoneKey(std::string_view value, std::string* scratch) const;

  NormalizationSettings settings_;
  std::string parse_region_;  // default_region, or "ZZ"
};

}  // namespace idrecon
