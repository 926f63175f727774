// ReferenceModel: docs/api.md §1–§2 and §6–§8 (without split) written as
// plainly as possible, with no index, no union-find and no concern for
// speed: a list of rows scanned on every request. The randomized tests
// compare the engine against it.
//
// Match keys come from the caller (the engine's MatchKeys: libphonenumber's
// answer is the rule, and match_key_test checks the keys themselves); the
// model applies them by brute force: every row's key recomputed each time.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
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
  struct Options {
    std::function<std::string(const std::string&)> email_key = [](const std::string& v) { return v; };
    std::function<std::string(const std::string&)> phone_key = [](const std::string& v) { return v; };
    std::uint32_t max_contacts = 0;  // auto guard; 0 = off
    std::uint32_t max_cluster = 0;   // cluster cap; 0 = off
  };
  enum class Result { kOk, kGuarded, kClusterCap };
  struct Answer {
    Result result = Result::kOk;
    OwnedView view;
    std::uint8_t guarded = 0;  // 1 email, 2 phone
    ContactId cap[2] = {0, 0};
  };

  ReferenceModel() = default;
  explicit ReferenceModel(Options options) : options_(std::move(options)) {}

  // `email` and `phone` are already trimmed; at least one is non-empty.
  Answer Identify(std::string email, std::string phone, Millis clock_now) {
    Answer a;
    std::string ek = email.empty() ? "" : options_.email_key(email);
    std::string pk = phone.empty() ? "" : options_.phone_key(phone);
    if (!ek.empty() && guarded_emails_.count(ek)) {
      a.guarded |= 1;
      email.clear();
      ek.clear();
    }
    if (!pk.empty() && guarded_phones_.count(pk)) {
      a.guarded |= 2;
      phone.clear();
      pk.clear();
    }
    if (ek.empty() && pk.empty()) {
      a.result = Result::kGuarded;
      return a;
    }
    std::set<ContactId> primaries;
    bool email_known = false, phone_known = false;
    for (const Row& r : rows_) {
      if (!ek.empty() && !r.email.empty() && options_.email_key(r.email) == ek) {
        email_known = true;
        primaries.insert(PrimaryOf(r));
      }
      if (!pk.empty() && !r.phone.empty() && options_.phone_key(r.phone) == pk) {
        phone_known = true;
        primaries.insert(PrimaryOf(r));
      }
    }
    const bool create = (!ek.empty() && !email_known) || (!pk.empty() && !phone_known);
    if (primaries.empty()) {
      const Millis now = Now(clock_now);
      rows_.push_back(Row{NextId(), email, phone, 0, now, now});
      AutoGuard(ek, pk);
      a.view = View(rows_.back().id);
      return a;
    }
    ContactId survivor = *primaries.begin();
    const bool merge = primaries.size() == 2;
    if (merge && options_.max_cluster != 0 &&
        Members(*primaries.begin()) + Members(*primaries.rbegin()) > options_.max_cluster) {
      a.result = Result::kClusterCap;
      a.cap[0] = *primaries.begin();
      a.cap[1] = *primaries.rbegin();
      return a;
    }
    std::optional<Millis> now;
    if (merge || create) now = Now(clock_now);
    if (merge) {
      ContactId x = *primaries.begin(), y = *primaries.rbegin();
      const Row& rx = rows_[x - 1];
      const Row& ry = rows_[y - 1];
      const bool x_older = rx.created_at != ry.created_at ? rx.created_at < ry.created_at : x < y;
      survivor = x_older ? x : y;
      const ContactId demoted = x_older ? y : x;
      for (Row& r : rows_) {
        if (r.id == demoted || r.linked_id == demoted) {
          r.linked_id = survivor;
          r.updated_at = *now;
        }
      }
    }
    if (create) {
      rows_.push_back(Row{NextId(), email, phone, survivor, *now, *now});
      AutoGuard(ek, pk);
    }
    a.view = View(survivor);
    return a;
  }

  // PUT / DELETE /guard without split, by key.
  void Guard(bool email, const std::string& key) { (email ? guarded_emails_ : guarded_phones_).insert(key); }
  bool Unguard(bool email, const std::string& key) { return (email ? guarded_emails_ : guarded_phones_).erase(key) > 0; }

  const std::vector<Row>& rows() const { return rows_; }

 private:
  static ContactId PrimaryOf(const Row& r) { return r.linked_id == 0 ? r.id : r.linked_id; }
  ContactId NextId() const { return static_cast<ContactId>(rows_.size() + 1); }
  Millis Now(Millis clock_now) {
    last_time_ = std::max(last_time_, clock_now);
    return last_time_;
  }
  std::size_t Members(ContactId primary) const {
    std::size_t n = 0;
    for (const Row& r : rows_) n += PrimaryOf(r) == primary;
    return n;
  }
  // docs/api.md §8: the create that makes a key's max_contacts-th carrier
  // guards it from the next request on.
  void AutoGuard(const std::string& ek, const std::string& pk) {
    if (options_.max_contacts == 0) return;
    std::size_t e = 0, p = 0;
    for (const Row& r : rows_) {
      if (!ek.empty() && !r.email.empty() && options_.email_key(r.email) == ek) ++e;
      if (!pk.empty() && !r.phone.empty() && options_.phone_key(r.phone) == pk) ++p;
    }
    if (!ek.empty() && e >= options_.max_contacts) guarded_emails_.insert(ek);
    if (!pk.empty() && p >= options_.max_contacts) guarded_phones_.insert(pk);
  }

  // One entry per key, written as its smallest-id carrier; the primary's key first.
  OwnedView View(ContactId primary) const {
    OwnedView v;
    v.primary = primary;
    std::vector<std::string> email_keys, phone_keys;
    const Row& p = rows_[primary - 1];
    auto first_carrier = [&](bool email, const std::string& key) {
      for (const Row& r : rows_) {
        if (PrimaryOf(r) != primary) continue;
        const std::string& value = email ? r.email : r.phone;
        if (!value.empty() && (email ? options_.email_key(value) : options_.phone_key(value)) == key) return value;
      }
      return std::string();
    };
    if (!p.email.empty()) {
      email_keys.push_back(options_.email_key(p.email));
      v.emails.push_back(first_carrier(true, email_keys.back()));
    }
    if (!p.phone.empty()) {
      phone_keys.push_back(options_.phone_key(p.phone));
      v.phones.push_back(first_carrier(false, phone_keys.back()));
    }
    for (const Row& r : rows_) {  // rows_ is in id order
      if (PrimaryOf(r) != primary) continue;
      if (r.id != primary) v.secondaries.push_back(r.id);
      if (!r.email.empty()) {
        const std::string k = options_.email_key(r.email);
        if (std::find(email_keys.begin(), email_keys.end(), k) == email_keys.end()) {
          email_keys.push_back(k);
          v.emails.push_back(r.email);
        }
      }
      if (!r.phone.empty()) {
        const std::string k = options_.phone_key(r.phone);
        if (std::find(phone_keys.begin(), phone_keys.end(), k) == phone_keys.end()) {
          phone_keys.push_back(k);
          v.phones.push_back(r.phone);
        }
      }
    }
    return v;
  }

  Options options_;
  std::vector<Row> rows_;
  std::set<std::string> guarded_emails_, guarded_phones_;
  Millis last_time_ = 0;
};

}  // namespace idrecon::testing
