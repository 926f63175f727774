// ReferenceModel: docs/api.md §1–§2 written as plainly as possible, with no index,
// no union-find and no concern for speed: a list of rows scanned on every
// request. The randomized tests compare the engine against it.
#pragma once

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/clock.h"
#include "engine_test_util.h"

namespace idrecon::testing {

class ReferenceModel {
 public:
  struct Row {
    ContactId id;
    std::string email;  // "" = null
    std::string phone;
    ContactId linked_id;  // 0 = primary
    Millis created_at;
    Millis updated_at;
  };

  // `email` and `phone` are already trimmed; at least one is non-empty.
  OwnedView Identify(const std::string& email, const std::string& phone, Millis clock_now) {
    std::set<ContactId> primaries;
    bool email_known = false, phone_known = false;
    for (const Row& r : rows_) {
      if (!email.empty() && r.email == email) {
        email_known = true;
        primaries.insert(PrimaryOf(r));
      }
      if (!phone.empty() && r.phone == phone) {
        phone_known = true;
        primaries.insert(PrimaryOf(r));
      }
    }
    if (primaries.empty()) {
      const Millis now = Now(clock_now);
      rows_.push_back(Row{NextId(), email, phone, 0, now, now});
      return View(rows_.back().id);
    }
    ContactId survivor = *primaries.begin();
    const bool merge = primaries.size() == 2;
    const bool create = (!email.empty() && !email_known) || (!phone.empty() && !phone_known);
    std::optional<Millis> now;
    if (merge || create) now = Now(clock_now);
    if (merge) {
      ContactId a = *primaries.begin(), b = *primaries.rbegin();
      const Row& ra = rows_[a - 1];
      const Row& rb = rows_[b - 1];
      const bool a_older = ra.created_at != rb.created_at ? ra.created_at < rb.created_at : a < b;
      survivor = a_older ? a : b;
      const ContactId demoted = a_older ? b : a;
      for (Row& r : rows_) {
        if (r.id == demoted || r.linked_id == demoted) {
          r.linked_id = survivor;
          r.updated_at = *now;
        }
      }
    }
    if (create) rows_.push_back(Row{NextId(), email, phone, survivor, *now, *now});
    return View(survivor);
  }

  const std::vector<Row>& rows() const { return rows_; }

 private:
  static ContactId PrimaryOf(const Row& r) { return r.linked_id == 0 ? r.id : r.linked_id; }
  ContactId NextId() const { return static_cast<ContactId>(rows_.size() + 1); }
  Millis Now(Millis clock_now) {
    last_time_ = std::max(last_time_, clock_now);
    return last_time_;
  }

  OwnedView View(ContactId primary) const {
    OwnedView v;
    v.primary = primary;
    const Row& p = rows_[primary - 1];
    if (!p.email.empty()) v.emails.push_back(p.email);
    if (!p.phone.empty()) v.phones.push_back(p.phone);
    for (const Row& r : rows_) {  // rows_ is in id order
      if (r.id != primary && r.linked_id != primary) continue;
      if (r.id != primary) v.secondaries.push_back(r.id);
      if (!r.email.empty() && std::find(v.emails.begin(), v.emails.end(), r.email) == v.emails.end())
        v.emails.push_back(r.email);
      if (!r.phone.empty() && std::find(v.phones.begin(), v.phones.end(), r.phone) == v.phones.end())
        v.phones.push_back(r.phone);
    }
    return v;
  }

  std::vector<Row> rows_;
  Millis last_time_ = 0;
};

}  // namespace idrecon::testing
