// Fuzz target: the match keys of a value (engine/match_key.h), with
// normalisation on.
//
// Input: byte 0 picks the default region (byte % 5: none, IN, US, GB, DE);
// the rest, trimmed as docs/api.md §2 trims and cut to 64 bytes (the longest
// phone number it accepts), is the value. Empty values are skipped.
//
// Properties: nothing crashes; EmailKeyEquals(v, EmailKey(v)) holds; the
// email key is as long as the value and is its own key; the phone key is
// non-empty and within max(v.size(), kMaxE164KeySize); a phone key from the
// E.164 branch is '+' and digits. Phone keys are not checked to be their own
// keys: libphonenumber does not promise it, even for its own E.164 form (with
// DE, "000000" has the key "+4900000", whose key is "+490000": the parse of
// an international number strips a national prefix too; see
// fuzz/corpus/match_key/regress_e164_not_fixed_point). Each key is also
// asked twice (the second time from the thread's memo) and must not change.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/engine.h"
#include "engine/match_key.h"
#include "fuzz/fuzz_check.h"

namespace {

using idrecon::MatchKeys;
using idrecon::NormalizationSettings;

// What the digits-only fallback would make of `v`, to tell its keys from
// E.164 ones: a key that differs from it came from libphonenumber's E.164.
std::string Fallback(std::string_view v) {
  std::string out;
  if (v.front() == '+') out.push_back('+');
  bool any_digit = false;
  for (char c : v) {
    if (c >= '0' && c <= '9') {
      out.push_back(c);
      any_digit = true;
    }
  }
  return any_digit ? out : std::string(v);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const MatchKeys kRegions[] = {
      MatchKeys(NormalizationSettings{true, ""}),   MatchKeys(NormalizationSettings{true, "IN"}),
      MatchKeys(NormalizationSettings{true, "US"}), MatchKeys(NormalizationSettings{true, "GB"}),
      MatchKeys(NormalizationSettings{true, "DE"}),
  };
  if (size < 2) return 0;
  const MatchKeys& keys = kRegions[data[0] % 5];
  std::string_view value =
      idrecon::TrimAsciiWhitespace(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
  if (value.size() > 64) value = idrecon::TrimAsciiWhitespace(value.substr(0, 64));
  if (value.empty()) return 0;
  const std::string v(value);  // its own allocation, so ASan sees reads past its end

  std::string scratch, scratch2;
  const std::string email(keys.EmailKey(v, &scratch));
  FUZZ_CHECK(email.size() == v.size(), email);
  FUZZ_CHECK(keys.EmailKeyEquals(v, email), email);
  FUZZ_CHECK(keys.EmailKey(email, &scratch2) == email, email);
  FUZZ_CHECK(keys.EmailKeyEquals(email, email), email);

  const std::string phone(keys.PhoneKey(v, &scratch));
  FUZZ_CHECK(!phone.empty());
  FUZZ_CHECK(phone.size() <= std::max(v.size(), MatchKeys::kMaxE164KeySize), phone);
  FUZZ_CHECK(keys.PhoneKey(v, &scratch2) == phone, phone);  // again, now remembered
  if (phone != Fallback(v)) {
    // From the E.164 branch: '+' and digits.
    FUZZ_CHECK(phone.size() >= 2 && phone[0] == '+', phone);
    FUZZ_CHECK(phone.find_first_not_of("0123456789", 1) == std::string::npos, phone);
  }
  return 0;
}
