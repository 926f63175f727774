// Helpers shared by the engine tests: copying a ClusterView into owned
// strings so it can be compared and printed.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace idrecon::testing {

struct OwnedView {
  ContactId primary = 0;
  std::vector<std::string> emails;
  std::vector<std::string> phones;
  std::vector<ContactId> secondaries;

  bool operator==(const OwnedView&) const = default;
};

inline OwnedView Own(const ClusterView& v) {
  OwnedView o;
  o.primary = v.primary_id;
  o.emails.assign(v.emails.begin(), v.emails.end());
  o.phones.assign(v.phone_numbers.begin(), v.phone_numbers.end());
  o.secondaries = v.secondary_ids;
  return o;
}

inline std::ostream& operator<<(std::ostream& os, const OwnedView& v) {
  os << "{primary " << v.primary << ", emails [";
  for (const auto& e : v.emails) os << e << ";";
  os << "], phones [";
  for (const auto& p : v.phones) os << p << ";";
  os << "], secondaries [";
  for (auto s : v.secondaries) os << s << ";";
  return os << "]}";
}

}  // namespace idrecon::testing
