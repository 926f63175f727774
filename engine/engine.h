// Engine: the identity graph in memory, and docs/api.md §2's /identify semantics.
//
// Contract (docs/api.md §1–§2): Identify(email, phone) finds the live contacts that
// carry either value, merges the (at most two) clusters they belong to so the
// older primary survives, creates a contact when the request brings a value no
// live contact has, and returns the whole resulting cluster. Every call behaves
// as if all calls ran one at a time in some serial order (linearizable), and
// that order is the order of the sequence numbers handed to the ChangeSink.
//
// Values match by their match key (docs/api.md §6, engine/match_key.h): the
// value itself, or its canonical form when Options::normalization is on.
// Guarded values (docs/api.md §8, engine/guard.h) are dropped from a request
// before it matches anything, and a merge past the cluster cap is refused;
// both are decided under the locks of the values and clusters involved, so
// they are part of the same serial order. Lookup answers what Identify would
// do, changing nothing.
//
// Thread-safety: every public method may be called concurrently from any
// number of threads. Requests that touch different clusters and different
// value-lock stripes proceed in parallel. See engine.cc for the lock order.
//
// Lifetime: string_views returned in results point into the engine's
// append-only arena and stay valid for the engine's lifetime.
//
// The engine never does I/O and never blocks on anything but its own short
// critical sections.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "engine/change.h"
#include "engine/clock.h"
#include "engine/cluster_links.h"
#include "engine/guard.h"
#include "engine/match_key.h"
#include "engine/status.h"

namespace idrecon {

// docs/api.md §2 limits on one value, in bytes, after trimming.
inline constexpr std::size_t kMaxEmailBytes = 320;
inline constexpr std::size_t kMaxPhoneBytes = 64;

// One /identify request. Values are raw: the engine trims leading and trailing
// ASCII whitespace (space, tab, CR, LF); a value that is then empty is absent.
struct IdentifyQuery {
  std::string_view email;
  std::string_view phone;
  // False: answer only if the request changes nothing; otherwise return
  // Unavailable and change nothing (used while the log refuses writes).
  bool allow_changes = true;
};

// A cluster as /identify shows it (docs/api.md §2 response rules already applied).
struct ClusterView {
  ContactId primary_id = 0;
  std::vector<std::string_view> emails;         // primary's first, then by first carrier id
  std::vector<std::string_view> phone_numbers;  // same rule
  std::vector<ContactId> secondary_ids;         // ascending
};

struct IdentifyOutcome {
  ClusterView cluster;
  // Highest sequence number of any change that shaped this cluster (0: none
  // since the engine was loaded). A response may be shown once this is durable.
  Seq depends_on_seq = 0;
  // Sequence number of this request's first change, 0 when it changed nothing.
  Seq first_change_seq = 0;
  bool created_contact = false;  // a new contact (primary or secondary) was made
  bool merged = false;           // two clusters were joined
  // The request's fields that were dropped because their value is guarded
  // (kGuardedEmail | kGuardedPhone); set with Ok and with Status Guarded.
  std::uint8_t guarded = 0;
  // With normalisation on: the match keys of the request's values (empty:
  // the value was absent). Empty when normalisation is off.
  std::string canonical_email;
  std::string canonical_phone;
  // With Status ClusterCap: the two primaries it would have merged, ascending.
  ContactId cap_clusters[2] = {0, 0};
};

inline constexpr std::uint8_t kGuardedEmail = 1;
inline constexpr std::uint8_t kGuardedPhone = 2;

// What Identify would do with a query (docs/api.md §7), and the clusters its
// values touch, without changing anything.
struct LookupOutcome {
  enum class Creates : std::uint8_t { kNone, kPrimary, kSecondary };
  ClusterView clusters[2];  // the first cluster_count, by ascending primary id
  std::size_t cluster_count = 0;
  Creates creates = Creates::kNone;
  ContactId merges[2] = {0, 0};  // the two primaries it would merge, ascending; {0, 0}: none
  ContactId primary_id = 0;      // primary of the resulting cluster; 0: a new primary
  bool refused_by_cap = false;   // the merge would pass the cluster cap (then creates = kNone)
  std::uint8_t guarded = 0;      // as IdentifyOutcome
  std::string canonical_email;   // as IdentifyOutcome
  std::string canonical_phone;
  // Highest seq of any change the answer shows (the touched clusters, the
  // guards that dropped a value); it may be shown once that is durable.
  Seq depends_on_seq = 0;
};

// One contact as docs/api.md §1 defines the row. Empty string_view = null.
//
// A deleted row (deleted_at set) takes no part in matching; its linked_id and
// is_primary are what it had when it was deleted (shown, never followed).
// A *vacant* row is an id that imported data skipped (a hole in the ids of an
// old deployment): deleted, with neither email nor phone. It exists only so
// ids stay dense and are never reused; GetContact reports it NotFound and
// exports omit it (IsVacant).
struct ContactRow {
  ContactId id = 0;
  std::string_view email;
  std::string_view phone;
  ContactId linked_id = 0;  // 0 = null (a primary); else the current primary
  bool is_primary = true;   // == (linked_id == 0)
  Millis created_at = 0;
  Millis updated_at = 0;
  std::optional<Millis> deleted_at;
  // Highest seq that changed this contact's cluster (see IdentifyOutcome).
  Seq depends_on_seq = 0;
  // Not part of the public row: its cluster membership predates recorded
  // links (a format-1 snapshot), so it stays linked to the other such
  // contacts of its cluster (docs/api.md §9). Snapshots keep it.
  bool legacy_linked = false;
};

inline bool IsVacant(const ContactRow& row) {
  return row.deleted_at.has_value() && row.email.empty() && row.phone.empty();
}

// The rows of a snapshot, for Engine::RestoreAll. Read may be called from
// several threads at once, for any id in [1, count()], in any order and more
// than once, and must fill the same row every time (row->id is set by the
// caller). The string_views it returns must stay valid until RestoreAll
// returns.
class RowSource {
 public:
  virtual ~RowSource() = default;
  virtual std::size_t count() const = 0;
  virtual void Read(ContactId id, ContactRow* row) const = 0;
};

class Engine {
 public:
  struct Options {
    Clock* clock = nullptr;       // required; not owned
    ChangeSink* sink = nullptr;   // optional; not owned; called under the sequencer lock
    std::size_t lock_stripes = 1024;  // rounded up to a power of two
    // Hash of a value's bytes for the index; nullptr = the default, a keyed
    // hash with a random key of this engine's own (engine/value_hash.h), so
    // nobody can compute values that collide. Tests pass a deliberately weak
    // one to force collisions.
    std::uint64_t (*value_hash)(std::string_view) = nullptr;
    // Threads RestoreAll may use (hashing rows, building the email and the
    // phone index side by side); 0 or 1 = the calling thread only.
    unsigned restore_threads = 1;
    // How values become match keys (docs/api.md §6). A data directory has
    // one setting; every engine on it must use the same.
    NormalizationSettings normalization;
    // The automatic guard and the cluster cap (docs/api.md §8); off by default.
    GuardSettings guard;
  };

  explicit Engine(const Options& options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // docs/api.md §2. InvalidArgument (message for a person) when both values are
  // absent after trimming or one exceeds its limit; Unavailable when the
  // request would change something and query.allow_changes is false.
  // Nothing changes on any error. *out is overwritten; reusing one outcome
  // across calls keeps its vectors' capacity (no allocation per call).
  // Out of memory it throws std::bad_alloc, and the engine still holds
  // exactly the changes its sink received: none of this request's when the
  // failure came before them (every allocation a change needs is made
  // before the first reaches the sink), or all of them when it came while
  // building *out afterwards (as if the answer were lost on the way).
  //
  // Guard (docs/api.md §8): a guarded value is dropped first (out->guarded);
  // when every given value is guarded: Status Guarded, nothing changes. A
  // merge of clusters with more than Options::guard.max_cluster live
  // contacts together: Status ClusterCap (out->cap_clusters), nothing
  // changes. A create that makes a value its max_contacts-th live carrier
  // also guards it (reason auto, a kGuard change after the create).
  Status Identify(const IdentifyQuery& query, IdentifyOutcome* out);

  // docs/api.md §7: what Identify(query) would do now, and the clusters the
  // query's (unguarded) values touch. Same validation and errors as
  // Identify, except that the cluster cap is an answer (refused_by_cap),
  // not an error. Changes nothing; query.allow_changes is ignored.
  Status Lookup(const IdentifyQuery& query, LookupOutcome* out) const;

  // docs/api.md §8 PUT /guard: guards `value` (raw: trimmed here, then made a
  // match key) with reason api, as a kGuard change. With `split`, the
  // cluster that carries it is re-clustered without the links through it
  // (docs/api.md §9), and *clusters is what it became (ascending primary
  // ids; may be null). Already guarded (and split, if asked): *out is its
  // entry as it is, *changed false, nothing logged; a guarded value asked to
  // split is split now. InvalidArgument for an empty or over-long value;
  // Unavailable when allow_changes is false and it would change something.
  Status Guard(GuardField field, std::string_view value, bool split, bool allow_changes, GuardEntry* out,
               bool* changed, std::vector<ClusterView>* clusters);
  // DELETE /guard: unguards it (a kUnguard change); *out is the entry it
  // had. A split guard's links come back: the clusters they join merge
  // again, and *clusters (may be null) is what they became. NotFound when
  // it was not guarded.
  Status Unguard(GuardField field, std::string_view value, bool allow_changes, GuardEntry* out,
                 std::vector<ClusterView>* clusters);
  // Every guarded value, sorted by field (email first) then value.
  void ListGuards(std::vector<GuardEntry>* out) const;
  // The guard file's values (reason file; not logged: the file is read
  // again at every start). A value already guarded keeps its entry.
  // InvalidArgument for an empty or over-long value, and nothing changes.
  Status AddFileGuards(const std::vector<std::pair<GuardField, std::string>>& values);
  // Snapshot load: one guard as a snapshot kept it (not a file guard).
  // After the rows, the legacy marks and the links.
  Status RestoreGuard(const GuardEntry& entry);

  // The link graph's recorded links (docs/api.md §9, engine/cluster_links.h)
  // for snapshots: fn(root, links) for every cluster that has any, by
  // ascending root. Consistent when nothing else writes.
  void ForEachClusterLinks(const std::function<void(ContactId, const ClusterLinks&)>& fn) const;
  // Snapshot load, after RestoreAll: the links of the cluster that holds
  // `member`; and the contacts whose membership predates recorded links
  // (all = true: every live contact of every cluster of two or more, for a
  // snapshot that recorded no links). Not thread-safe, like RestoreAll.
  Status RestoreClusterLinks(ContactId member, ClusterLinks links);
  Status RestoreLegacyLinked(const std::vector<ContactId>& ids, bool all);
  // Offline (`idrecon-tool rebuild --normalize`): re-clusters the whole
  // store as the components of its link graph under this engine's match
  // keys (docs/api.md §9): clusters may merge or split, each one's oldest
  // contact is its primary, every contact whose linkedId or precedence
  // changes gets updatedAt = now. O(contacts) time and memory; not
  // thread-safe, like RestoreAll.
  void ReclusterAll(Millis now);

  const MatchKeys& match_keys() const;
  const GuardSettings& guard_settings() const;

  // docs/api.md §3 GET /contacts/{id}. NotFound for an id never assigned, and for a
  // vacant id (see ContactRow).
  Status GetContact(ContactId id, ContactRow* out) const;

  // Replays one change from the log (recovery). Changes must come in seq
  // order, each exactly as the engine once produced it: a create must carry
  // the next id, links must name current roots. Anything else is Corruption
  // and changes nothing. Guard changes are replayed as recorded (an
  // unguard of a value that is not guarded is a no-op: file guards are
  // added after recovery). Does not call the sink. Not thread-safe: recovery
  // calls it before any other thread uses the engine. Out of memory it
  // throws std::bad_alloc and changes nothing, so the change may be retried.
  Status Apply(const Change& change);

  // Loading a snapshot (recovery, rebuild): call RestoreContact for every
  // contact in id order (each becomes its own cluster), then RestoreLink for
  // every secondary, then FinishRestore. Rows must be valid (ids dense from
  // 1, links to live rows that end as primaries); Corruption otherwise. Not
  // thread-safe, like Apply. Restored clusters depend on no seq (the
  // snapshot is durable). A deleted row keeps its linked_id as history (any
  // value; never linked); a vacant row (deleted, no email, no phone) is
  // accepted as a placeholder id.
  Status RestoreContact(const ContactRow& row);
  Status RestoreLink(ContactId secondary, ContactId primary);
  void FinishRestore(Seq last_seq);
  // The same as RestoreContact for every row of `rows` in id order, then
  // RestoreLink for every live row with a linked_id, into an empty engine
  // (InvalidArgument otherwise); the caller then calls FinishRestore.
  // Same rules, same Corruption messages, same resulting state; much faster
  // for millions of rows: the value index is built in hash order from
  // sorted (hash, id) pairs, so its inserts walk the tables sequentially
  // instead of taking a cache miss each, and cache misses that remain are
  // prefetched. Uses Options::restore_threads threads. On error (and on
  // std::bad_alloc) the engine is left partly restored and must be discarded.
  Status RestoreAll(const RowSource& rows);
  // Sizes the value index for about `contacts` more contacts, so a bulk
  // load does not rehash as it goes (a hint; any count stays correct).
  void Reserve(std::size_t contacts);

  // Calls fn(row) for every contact in id order, vacant rows included (a
  // snapshot needs them). Each row is consistent on its own; for a
  // consistent whole, run it when nothing else writes.
  void ForEachContact(const std::function<void(const ContactRow&)>& fn) const;

  // Every contact ever created (live, deleted or vacant).
  std::size_t contact_count() const;
  // Number of clusters (= number of live primaries).
  std::size_t cluster_count() const;
  // Highest sequence number handed out so far (0 before the first change).
  Seq last_seq() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Trims leading and trailing ASCII space, tab, CR and LF (docs/api.md §2).
std::string_view TrimAsciiWhitespace(std::string_view s);

}  // namespace idrecon
