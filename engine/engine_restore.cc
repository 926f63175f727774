// Snapshot restore: RestoreContact/RestoreLink (one row at a time; the
// importer and small snapshots) and RestoreAll (the bulk path recovery uses).
//
// Why RestoreAll exists: restoring 10M contacts one at a time costs two
// random probes of a ~100 MiB hash table per contact, each a cache (and TLB)
// miss of several hundred ns on a VM — seconds in all. RestoreAll instead
//   1. reads every row and hashes its values (in parallel by id range),
//   2. partitions the (hash, id) pairs by the hash's top 16 bits (a stable
//      counting sort, so ids stay ascending within a hash) and inserts them
//      in that order: the tables place a hash by its top bits, so the inserts
//      walk each table front to back. Each value's owner (the smallest live
//      id with its hash) falls out (the email and the phone index are built
//      side by side on two threads),
//   3. creates the contacts in id order, confirming a shared value's bytes
//      against its owner's (prefetched ahead) and reusing the owner's arena
//      copy; a confirmed mismatch is a hash collision and goes to the
//      index's collision map exactly as RestoreContact would put it there,
//   4. links secondaries to primaries (prefetched ahead).
// The result is the state RestoreContact + RestoreLink would build, field for
// field (tests/engine/engine_restore_all_test.cc compares them).
#include <algorithm>
#include <limits>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "engine/engine_impl.h"

namespace idrecon {
namespace {

Status RowCorruption(ContactId id, const std::string& why) {
  return Status::Corruption("snapshot contact " + std::to_string(id) + ": " + why);
}

// The checks RestoreContact makes of one row on its own.
Status CheckRow(const ContactRow& row) {
  if (row.email.empty() && row.phone.empty() && !row.deleted_at) return RowCorruption(row.id, "neither email nor phone");
  if (row.email.size() > kMaxEmailBytes || row.phone.size() > kMaxPhoneBytes) {
    return RowCorruption(row.id, "value over its limit");
  }
  return Status::Ok();
}

// Runs fn(lo, hi, part) on `parts` contiguous slices of [1, n], the first
// on the calling thread.
template <class Fn>
void ForEachSlice(std::size_t n, unsigned parts, const Fn& fn) {
  std::vector<std::thread> threads;
  const std::size_t per = n / parts + 1;
  for (unsigned part = 1; part < parts; ++part) {
    const std::size_t lo = 1 + part * per, hi = std::min(n + 1, lo + per);
    if (lo < hi) threads.emplace_back([&fn, lo, hi, part] { fn(lo, hi, part); });
  }
  fn(1, std::min(n + 1, 1 + per), 0u);
  for (std::thread& t : threads) t.join();
}

}  // namespace

struct Engine::Impl::KeyedValue {
  std::uint64_t hash;
  ContactId id;
};

namespace {

// Distinct hashes / keys, estimated on the 1/64 of hashes with the low 6
// bits clear (1 when there are none). A template only because KeyedValue is
// private to Engine::Impl.
template <class Keys>
double DistinctShare(const Keys& keys) {
  std::vector<std::uint64_t> sample;
  sample.reserve(keys.size() / 48 + 16);
  for (const auto& k : keys) {
    if ((k.hash & 63) == 0) sample.push_back(k.hash);
  }
  if (sample.empty()) return 1.0;
  std::sort(sample.begin(), sample.end());
  const auto distinct = static_cast<double>(std::unique(sample.begin(), sample.end()) - sample.begin());
  return distinct / static_cast<double>(sample.size());
}

}  // namespace

void Engine::Impl::Reserve(std::size_t contacts) {
  // Values spread evenly over the shards by hash; 10% slack for the skew.
  const std::size_t per_shard = contacts / email_index_.size() + contacts / email_index_.size() / 10 + 1;
  for (std::size_t i = 0; i < email_index_.size(); ++i) {
    StripeGuard guard(value_locks_, i, StripeLocks::kNone);
    email_index_[i].Reserve(email_index_[i].size() + per_shard);
    phone_index_[i].Reserve(phone_index_[i].size() + per_shard);
  }
}

Status Engine::Impl::RestoreContact(const ContactRow& row) {
  const ContactId end = store_.end();
  if (row.id != end) return RowCorruption(row.id, "expected id " + std::to_string(end));
  if (Status s = CheckRow(row); !s.ok()) return s;
  const bool live = !row.deleted_at.has_value();
  // A deleted row's values match nothing: they get no key.
  Value email = MakeValue(row.email, !live || row.email.empty() ? std::string_view() : keys_.EmailKey(row.email, &scratch_email()));
  Value phone = MakeValue(row.phone, !live || row.phone.empty() ? std::string_view() : keys_.PhoneKey(row.phone, &scratch_phone()));
  StripeGuard value_guard(value_locks_, email.stripe, phone.stripe);
  ValueIndex::Entry* const email_entry = FindEmail(email);
  ValueIndex::Entry* const phone_entry = FindPhone(phone);
  const bool email_is_new = !email.key.empty() && email_entry == nullptr;
  const bool phone_is_new = !phone.key.empty() && phone_entry == nullptr;
  PrepareIndexInserts(email, email_is_new, phone, phone_is_new);  // what can fail first, as in Identify
  ContactId id;
  {
    std::lock_guard<std::mutex> seq_lock(seq_mu_);
    ReserveContactLocked(email, phone);
    Contact* c = nullptr;
    id = store_.Allocate(&c);
    c->created_at = row.created_at;
    c->updated_at = row.updated_at;
    c->deleted_at = live ? Contact::kNotDeleted : *row.deleted_at;
    c->shared_slot = live ? 1 : row.linked_id;  // live_members of a lone contact, or deleted_link
    c->email = email.known != 0 ? email.known : arena_.AppendReserved(email.bytes);
    c->phone = phone.known != 0 ? phone.known : arena_.AppendReserved(phone.bytes);
    c->flags = (email_is_new ? Contact::kFirstEmailCarrier : 0u) | (phone_is_new ? Contact::kFirstPhoneCarrier : 0u);
    c->next = id;
    c->last_seq = 0;
    c->parent.store(id, std::memory_order_relaxed);
    store_.Publish(id);
    last_time_ = std::max({last_time_, row.created_at, row.updated_at});
  }
  if (live) clusters_.fetch_add(1, std::memory_order_relaxed);
  InsertValues(email, email_entry, phone, phone_entry, id);
  return Status::Ok();
}

Status Engine::Impl::RestoreLink(ContactId secondary, ContactId primary) {
  const ContactId end = store_.end();
  if (secondary == 0 || secondary >= end || primary == 0 || primary >= end || secondary == primary) {
    return Status::Corruption("snapshot link " + std::to_string(secondary) + " -> " + std::to_string(primary) +
                              " names a missing contact");
  }
  Contact& s = store_.Get(secondary);
  Contact& p = store_.Get(primary);
  if (!IsRoot(primary) || !IsRoot(secondary) || s.next != secondary ||
      s.deleted_at != Contact::kNotDeleted || p.deleted_at != Contact::kNotDeleted) {
    return Status::Corruption("snapshot link " + std::to_string(secondary) + " -> " + std::to_string(primary) +
                              " does not join a lone live contact to a live primary");
  }
  StripeGuard guard(cluster_locks_, ClusterStripe(secondary), ClusterStripe(primary));
  s.parent.store(primary, std::memory_order_release);
  std::swap(s.next, p.next);
  p.live_members() += s.live_members();
  clusters_.fetch_sub(1, std::memory_order_relaxed);
  return Status::Ok();
}

Status Engine::Impl::HashRows(const RowSource& rows, KeySlices* email_keys, KeySlices* phone_keys,
                              std::size_t* live) const {
  const std::size_t n = rows.count();
  const unsigned parts = n < 4096 ? 1u : restore_threads_;  // a thread costs ~0.1 ms
  email_keys->assign(parts, {});
  phone_keys->assign(parts, {});
  std::vector<Status> status(parts);
  std::vector<std::size_t> lives(parts, 0);
  ForEachSlice(n, parts, [&](std::size_t lo, std::size_t hi, unsigned part) {
    std::vector<KeyedValue>& emails = (*email_keys)[part];
    std::vector<KeyedValue>& phones = (*phone_keys)[part];
    emails.reserve(hi - lo);
    phones.reserve(hi - lo);
    ContactRow row;
    for (std::size_t i = lo; i < hi; ++i) {
      const auto id = static_cast<ContactId>(i);
      row = ContactRow{};
      rows.Read(id, &row);
      row.id = id;
      if (Status s = CheckRow(row); !s.ok()) {
        status[part] = s;
        return;
      }
      if (row.deleted_at) continue;
      ++lives[part];
      if (!row.email.empty()) emails.push_back({hash_(keys_.EmailKey(row.email, &scratch_email())), id});
      if (!row.phone.empty()) phones.push_back({hash_(keys_.PhoneKey(row.phone, &scratch_phone())), id});
    }
  });
  for (unsigned part = 0; part < parts; ++part) {
    if (!status[part].ok()) return status[part];  // the first slice's is the lowest id's
    *live += lives[part];
  }
  return Status::Ok();
}

void Engine::Impl::ClaimHashes(KeySlices keys, std::vector<ValueIndex>& index, std::vector<ContactId>* owner) {
  // Stable counting sort on the top 16 bits, taking the slices in id order:
  // within a bucket ids stay ascending, so the first id to claim a hash is
  // its smallest.
  constexpr int kBucketBits = 16;
  std::vector<std::size_t> bucket_start((std::size_t{1} << kBucketBits) + 1, 0);
  std::vector<std::size_t> shard_count(index.size(), 0);
  std::size_t total = 0;
  for (const std::vector<KeyedValue>& slice : keys) {
    total += slice.size();
    for (const KeyedValue& k : slice) {
      ++bucket_start[(k.hash >> (64 - kBucketBits)) + 1];
      ++shard_count[value_locks_.StripeOf(engine_detail::StripeKey(k.hash))];
    }
  }
  for (std::size_t b = 1; b < bucket_start.size(); ++b) bucket_start[b] += bucket_start[b - 1];
  std::vector<KeyedValue> sorted(total);
  for (std::vector<KeyedValue>& slice : keys) {
    for (const KeyedValue& k : slice) sorted[bucket_start[k.hash >> (64 - kBucketBits)]++] = k;
    std::vector<KeyedValue>().swap(slice);  // free it before the tables grow
  }
  // Room for the distinct values, not for every key: most values are shared
  // by several contacts (a secondary repeats its primary's email or phone),
  // and a table sized for all keys was twice too big (10M contacts: 5.9M
  // distinct of 10M keys per index, 252 instead of 126 MB each, all of it
  // zeroed on first touch; RSS after restart 140 B/contact against 115 built
  // by Identify). The share of distinct values is estimated from the keys
  // whose hash has its low 6 bits clear (every copy of a value falls on the
  // same side of that test, so the sample keeps the share); 10% slack. An
  // underestimate only makes a table grow as it fills.
  const double distinct_share = DistinctShare(sorted);
  for (std::size_t i = 0; i < index.size(); ++i) {
    const auto expected = static_cast<std::size_t>(static_cast<double>(shard_count[i]) * distinct_share * 1.1);
    index[i].Reserve(index[i].size() + std::min(shard_count[i], expected + 16));
  }
  for (const KeyedValue& k : sorted) {
    (*owner)[k.id] = index[value_locks_.StripeOf(engine_detail::StripeKey(k.hash))].ClaimHash(k.hash, k.id);
  }
}

StringRef Engine::Impl::ResolveValue(std::vector<ValueIndex>& index, std::string_view bytes, ContactId id,
                                     ContactId owner, bool email, bool* first_carrier) {
  // ClaimHashes counted this row as a carrier of its hash's owner.
  *first_carrier = false;
  if (owner == id) {
    *first_carrier = true;
    return arena_.Append(bytes);
  }
  const Contact& o = store_.Get(owner);
  const StringRef ref = email ? o.email : o.phone;
  if (arena_.View(ref) == bytes) return ref;
  const std::string_view key = email ? keys_.EmailKey(bytes, &scratch_email()) : keys_.PhoneKey(bytes, &scratch_phone());
  const Value v = MakeValue(bytes, key);
  if (email ? EmailMatches(owner, v) : PhoneMatches(owner, v)) return arena_.Append(bytes);  // another spelling
  // A different key owns this hash: the collision map decides, as in
  // ValueIndex::Find + Insert, and the count moves there.
  ValueIndex& shard = index[v.stripe];
  --shard.OwnerEntry(v.hash).carriers;
  if (ValueIndex::Entry* holder = shard.FindCollided(key); holder != nullptr) {
    ++holder->carriers;
    const Contact& h = store_.Get(holder->carrier);
    const StringRef held = email ? h.email : h.phone;
    return arena_.View(held) == bytes ? held : arena_.Append(bytes);
  }
  shard.InsertCollided(key, id);
  *first_carrier = true;
  return arena_.Append(bytes);
}

Status Engine::Impl::RestoreAll(const RowSource& rows) {
  if (store_.end() != 1) return Status::InvalidArgument("RestoreAll needs an empty engine");
  const std::size_t n = rows.count();
  if (n >= std::numeric_limits<ContactId>::max() - 1) return Status::Corruption("too many contacts for 32-bit ids");
  if (n == 0) return Status::Ok();

  KeySlices email_keys, phone_keys;
  std::size_t live = 0;
  if (Status s = HashRows(rows, &email_keys, &phone_keys, &live); !s.ok()) return s;
  std::vector<ContactId> email_owner(n + 1, 0), phone_owner(n + 1, 0);
  if (restore_threads_ >= 2) {
    std::thread emails([&] { ClaimHashes(std::move(email_keys), email_index_, &email_owner); });
    ClaimHashes(std::move(phone_keys), phone_index_, &phone_owner);
    emails.join();
  } else {
    ClaimHashes(std::move(email_keys), email_index_, &email_owner);
    ClaimHashes(std::move(phone_keys), phone_index_, &phone_owner);
  }

  // Contacts in id order. A shared value's owner is an older contact at a
  // random place: prefetch it kAhead rows early and its bytes half as early.
  constexpr std::size_t kAhead = 16;
  auto prefetch_owner = [&](std::size_t at, bool bytes_too) {
    if (at > n) return;
    for (const std::vector<ContactId>* owners : {&email_owner, &phone_owner}) {
      const ContactId o = (*owners)[at];
      if (o == 0 || o >= store_.end()) continue;  // none, itself, or not restored yet
      const Contact& c = store_.Get(o);
      if (!bytes_too) {
        __builtin_prefetch(&c);
      } else {
        const std::string_view v = arena_.View(owners == &email_owner ? c.email : c.phone);
        if (!v.empty()) __builtin_prefetch(v.data());
      }
    }
  };
  // The contacts' memory (64 bytes each, ~640 MB at 10M) is faulted in by
  // another core while this one fills it: in a VM, first-touch page faults
  // were the largest single cost of a restore.
  store_.ReserveIds(static_cast<ContactId>(n + 1));
  std::thread prefault;
  if (restore_threads_ >= 2) prefault = std::thread([this, n] { store_.Prefault(1, static_cast<ContactId>(n + 1)); });
  struct Joiner {
    std::thread& t;
    ~Joiner() {
      if (t.joinable()) t.join();
    }
  } join_prefault{prefault};

  std::vector<std::pair<ContactId, ContactId>> links;
  Millis last_time = 0;
  ContactRow row;
  {
    std::lock_guard<std::mutex> seq_lock(seq_mu_);  // as RestoreContact; nobody else runs
    for (std::size_t i = 1; i <= n; ++i) {
      prefetch_owner(i + kAhead, false);
      prefetch_owner(i + kAhead / 2, true);
      const auto id = static_cast<ContactId>(i);
      row = ContactRow{};
      rows.Read(id, &row);
      row.id = id;
      const bool alive = !row.deleted_at.has_value();
      Contact* c = nullptr;
      store_.Allocate(&c);
      c->created_at = row.created_at;
      c->updated_at = row.updated_at;
      c->deleted_at = alive ? Contact::kNotDeleted : *row.deleted_at;
      c->shared_slot = alive ? 1 : row.linked_id;  // live_members of a lone contact, or deleted_link
      std::uint32_t flags = 0;
      bool first = false;
      if (alive && !row.email.empty()) {
        c->email = ResolveValue(email_index_, row.email, id, email_owner[i], true, &first);
        if (first) flags |= Contact::kFirstEmailCarrier;
      } else {
        c->email = arena_.Append(row.email);
      }
      if (alive && !row.phone.empty()) {
        c->phone = ResolveValue(phone_index_, row.phone, id, phone_owner[i], false, &first);
        if (first) flags |= Contact::kFirstPhoneCarrier;
      } else {
        c->phone = arena_.Append(row.phone);
      }
      c->flags = flags;
      c->next = id;
      c->last_seq = 0;
      c->parent.store(id, std::memory_order_relaxed);
      store_.Publish(id);
      last_time = std::max({last_time, row.created_at, row.updated_at});
      if (alive && row.linked_id != 0) links.emplace_back(id, row.linked_id);
    }
    last_time_ = std::max(last_time_, last_time);
  }
  clusters_.fetch_add(live, std::memory_order_relaxed);

  const ContactId end = store_.end();
  for (std::size_t i = 0; i < links.size(); ++i) {
    if (i + kAhead < links.size() && links[i + kAhead].second < end) {
      __builtin_prefetch(&store_.Get(links[i + kAhead].second));
    }
    if (Status s = RestoreLink(links[i].first, links[i].second); !s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace idrecon
