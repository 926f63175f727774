// MutationLog: the LMDB-backed, append-only log of engine changes.
//
// One LMDB environment in its own directory, with the named database `log`
// (big-endian seq → record, format in log_format.md). Appends go through one
// write transaction per batch with MDB_APPEND; the commit is the durability
// point (fsync'd unless the log was opened with sync = false, LMDB's
// MDB_NOSYNC: a process crash loses nothing, a power loss or kernel crash may
// lose the last commits; such a log is also opened MDB_WRITEMAP, which makes
// commits cheaper and its file sparse, as large as the map).
//
// Deferred meta sync (Options::defer_meta_sync, LMDB's MDB_NOMETASYNC; only
// with sync = true): a commit syncs its data pages but writes the meta page
// that makes them current without syncing it, so it costs one device flush
// instead of two. Such a commit is durable only once the *next* sync of the
// file has completed: the next Append (its data sync flushes the earlier
// meta page too) or a Sync(). LMDB keeps the file consistent either way (a
// power loss rolls back to the previous durable meta); the LogWriter does
// the bookkeeping of which seqs are durable.
//
// When the memory map is full, Append grows it (doubling, up to
// max_map_bytes) and retries; a map that cannot grow further is an IOError.
//
// Disk space. A log written through its map (sync = false) is a sparse file
// as large as the map, and a page dirtied where the filesystem has no block
// for it is SIGBUS, not an error. So before every write transaction the file
// owns its blocks up to the last used page plus what the transaction may
// dirty (fallocate, kReserveStepBytes ahead at a time); when the disk cannot
// give them, the transaction is refused with ENOSPC's IOError before LMDB
// touches anything. lock.mdb, mapped writable in every mode, gets its
// blocks before LMDB opens it. A synced log writes with pwrite, which
// reports ENOSPC by itself.
//
// Thread-safety: Append, Sync, TrimStep and TrimThrough must be called by one thread at
// a time (the LogWriter lets one committer at a time: its writer thread or a
// committing caller); each call begins and ends its write transaction.
// ReadAfter, FirstSeq and LastSeq may run concurrently with them and with
// each other (MDB_NOTLS read transactions; a map resize waits for readers to
// finish).
#pragma once

#include <lmdb.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>

#include "engine/change.h"
#include "engine/status.h"
#include "persistence/log_batch.h"

namespace idrecon {

class MutationLog {
 public:
  struct Options {
    bool sync = true;                                       // false: MDB_NOSYNC
    bool defer_meta_sync = false;                           // MDB_NOMETASYNC; see above
    std::size_t initial_map_bytes = std::size_t{64} << 20;  // 64 MiB
    std::size_t max_map_bytes = std::size_t{1} << 40;       // 1 TiB of address space
  };

  // Opens (creating if needed) the log environment in directory `dir`,
  // which must exist.
  static Status Open(const std::string& dir, const Options& options, std::unique_ptr<MutationLog>* out);
  ~MutationLog();
  MutationLog(const MutationLog&) = delete;
  MutationLog& operator=(const MutationLog&) = delete;

  // Writes every record of `batch` in one transaction and commits it. The
  // batch must continue the log: its first seq is LastSeq() + 1, unless the
  // log is empty. On error nothing of the batch is in the log, and `*io_failed`
  // (if given) tells whether the commit's own writes or sync failed (true),
  // or LMDB refused before any I/O (false: the map is full and cannot grow,
  // which LMDB reports from page allocation, even inside mdb_txn_commit).
  // After a refusal the file is as the previous commit left it, so a Sync
  // can still make that one durable; after an I/O failure it cannot be
  // trusted to (a second fdatasync may report success for pages the failed
  // one lost).
  Status Append(const LogBatch& batch, bool* io_failed = nullptr);

  // True when an Append returns before its commit is durable (deferred meta
  // sync): everything appended is durable only after a later Append or Sync.
  bool defers_meta_sync() const { return options_.sync && options_.defer_meta_sync; }
  // Flushes the file to the device (fdatasync): every commit made so far —
  // by this process or, after a crash, by the one before it, whose last
  // pages may still be only in the page cache — is durable when it returns
  // Ok.
  Status Sync();
  // Successful Syncs so far.
  std::uint64_t syncs() const { return syncs_.load(std::memory_order_relaxed); }

  // Calls `fn` for each record with seq > `after` (and <= `upto`, unless it
  // is 0), in seq order; stops at the first error (its own, or Corruption
  // for an undecodable record or a gap). The Change's strings are valid
  // only during the call.
  Status ReadAfter(Seq after, const std::function<Status(const Change&)>& fn, Seq upto = 0) const;

  // Calls `fn(key, value)` for every record in key order, undecoded and
  // unchecked: for `idrecon-tool verify`, which reports every damaged record
  // instead of stopping at the first. The views are valid during the call.
  Status ScanRaw(const std::function<void(std::string_view key, std::string_view value)>& fn) const;

  // Seq of the first / last record; 0 when the log is empty.
  Status FirstSeq(Seq* seq) const;
  Status LastSeq(Seq* seq) const;

  // Deletes every record with seq ≤ `upto` (after a snapshot covers them),
  // in transactions of a bounded size.
  Status TrimThrough(Seq upto);
  // One transaction of a trim: deletes the first `max_records` records
  // with seq ≤ `upto` (fewer if there are fewer); *done tells whether none
  // is left. Lets the writer trim between commits, a small step at a time.
  Status TrimStep(Seq upto, std::size_t max_records, bool* done);

  std::size_t map_bytes() const { return map_bytes_; }
  // Blocks of the file reserved so far (sync = false only; see above).
  std::uint64_t reserved_bytes() const { return reserved_end_; }
  static constexpr std::uint64_t kReserveStepBytes = std::uint64_t{8} << 20;
  // Bytes the log file occupies on disk (allocated; at most its size).
  std::size_t file_bytes() const;

 private:
  MutationLog() = default;
  Status EdgeSeq(MDB_cursor_op op, Seq* seq) const;
  int TryAppend(const LogBatch& batch, bool* committing);  // an LMDB return code
  Status GrowMap();
  // Before a write transaction that may dirty `need` bytes of new pages.
  Status ReserveAhead(std::size_t need);
  static Status ReserveLockFile(const std::string& dir);

  MDB_env* env_ = nullptr;
  MDB_dbi log_dbi_ = 0;
  std::string dir_;
  Options options_;
  std::size_t map_bytes_ = 0;
  std::size_t page_bytes_ = 4096;
  mdb_filehandle_t fd_ = -1;       // data.mdb, LMDB's
  std::uint64_t reserved_end_ = 0;  // the file's blocks below this are allocated; guarded like Append
  std::atomic<std::uint64_t> syncs_{0};
  // Readers hold it shared for the life of their transaction; a map resize
  // (which LMDB forbids while this process has transactions open) holds it
  // exclusively.
  mutable std::shared_mutex resize_mu_;
};

}  // namespace idrecon
