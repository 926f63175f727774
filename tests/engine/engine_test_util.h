// Helpers shared by the engine tests: copying a ClusterView, a contact row
// or a change into owned strings so it can be compared, printed or replayed.
#pragma once

#include <optional>
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

// A contact row with its own strings.
struct OwnedRow {
  ContactId id = 0;
  std::string email, phone;
  ContactId linked_id = 0;
  Millis created_at = 0, updated_at = 0;
  std::optional<Millis> deleted_at;

  bool operator==(const OwnedRow&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const OwnedRow& r) {
  return os << "{" << r.id << " " << r.email << " " << r.phone << " ->" << r.linked_id << " " << r.created_at << "/"
            << r.updated_at << (r.deleted_at ? " deleted" : "") << "}";
}

inline ContactRow View(const OwnedRow& r) {
  ContactRow row;
  row.id = r.id;
  row.email = r.email;
  row.phone = r.phone;
  row.linked_id = r.linked_id;
  row.is_primary = r.linked_id == 0;
  row.created_at = r.created_at;
  row.updated_at = r.updated_at;
  row.deleted_at = r.deleted_at;
  return row;
}

// Every row of `engine`, vacant ones included, in id order.
inline std::vector<OwnedRow> Rows(const Engine& engine) {
  std::vector<OwnedRow> rows;
  engine.ForEachContact([&](const ContactRow& r) {
    rows.push_back({r.id, std::string(r.email), std::string(r.phone), r.linked_id, r.created_at, r.updated_at,
                    r.deleted_at});
  });
  return rows;
}

// Rows for Engine::RestoreAll; row i + 1 is rows[i] (ids are set by the engine).
class VectorRows : public RowSource {
 public:
  explicit VectorRows(const std::vector<OwnedRow>& rows) : rows_(rows) {}
  std::size_t count() const override { return rows_.size(); }
  void Read(ContactId id, ContactRow* row) const override { *row = View(rows_.at(id - 1)); }

 private:
  const std::vector<OwnedRow>& rows_;
};

// Records every change with owned copies of its strings, so the changes can
// be inspected or replayed through Engine::Apply after the call.
class RecordingSink : public ChangeSink {
 public:
  void Append(const Change& c) override { owned_.push_back({c, std::string(c.email), std::string(c.phone)}); }
  std::size_t size() const { return owned_.size(); }
  // Change i; its strings point into this sink.
  Change at(std::size_t i) const {
    Change c = owned_.at(i).change;
    c.email = owned_[i].email;
    c.phone = owned_[i].phone;
    return c;
  }
  std::vector<Change> Changes() const {
    std::vector<Change> out;
    for (std::size_t i = 0; i < owned_.size(); ++i) out.push_back(at(i));
    return out;
  }

 private:
  struct Owned {
    Change change;
    std::string email, phone;
  };
  std::vector<Owned> owned_;
};

}  // namespace idrecon::testing
