#include "persistence/mutation_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <mutex>

#include "persistence/data_dir.h"
#include "persistence/disk_space.h"
#include "persistence/lmdb_util.h"
#include "persistence/log_record.h"
#include "persistence/posix_error.h"

namespace idrecon {

Status MutationLog::Open(const std::string& dir, const Options& options, std::unique_ptr<MutationLog>* out) {
  std::unique_ptr<MutationLog> log(new MutationLog());
  log->dir_ = dir;
  log->options_ = options;
  if (Status s = LmdbStatus(mdb_env_create(&log->env_), "create environment"); !s.ok()) return s;
  // Never shrink a map an earlier run grew: start from the file's size.
  struct stat st;
  std::size_t want = options.initial_map_bytes;
  if (::stat((dir + "/data.mdb").c_str(), &st) == 0) {
    want = std::max(want, static_cast<std::size_t>(st.st_size));
  }
  log->map_bytes_ = want;
  if (Status s = LmdbStatus(mdb_env_set_mapsize(log->env_, want), "set map size"); !s.ok()) return s;
  if (Status s = LmdbStatus(mdb_env_set_maxdbs(log->env_, 4), "set max dbs"); !s.ok()) return s;
  unsigned flags = MDB_NOTLS;
  // Without syncs, MDB_WRITEMAP too: a commit then writes its pages in the
  // shared map instead of copying them out with pwrite, which made commits
  // ~5% of a nosync server's CPU. (It maps the file writable, so a stray
  // write could reach the log; the durability class is unchanged: the page
  // cache holds every commit either way.)
  if (!options.sync) flags |= MDB_NOSYNC | MDB_WRITEMAP;
  if (options.sync && options.defer_meta_sync) flags |= MDB_NOMETASYNC;
  if (Status s = ReserveLockFile(dir); !s.ok()) return s;
  if (Status s = LmdbStatus(mdb_env_open(log->env_, dir.c_str(), flags, kPrivateFileMode), "open " + dir); !s.ok()) {
    return s;
  }
  // LMDB creates its files with the mode minus the umask, and leaves an
  // existing file's mode as it was: set both exactly.
  if (Status s = LmdbStatus(mdb_env_get_fd(log->env_, &log->fd_), "get the log's descriptor"); !s.ok()) return s;
  if (::fchmod(log->fd_, kPrivateFileMode) != 0) return ErrnoStatus("chmod " + dir + "/data.mdb", errno);
  if (Status s = SetMode(dir + "/lock.mdb", kPrivateFileMode); !s.ok()) return s;
  // LMDB may have taken a larger size recorded in the file.
  MDB_envinfo info;
  mdb_env_info(log->env_, &info);
  log->map_bytes_ = info.me_mapsize;
  MDB_stat stat;
  if (Status s = LmdbStatus(mdb_env_stat(log->env_, &stat), "stat environment"); !s.ok()) return s;
  log->page_bytes_ = stat.ms_psize;

  // The transaction below may be this environment's first write.
  if (Status s = log->ReserveAhead(0); !s.ok()) return s;
  LmdbTxn txn;
  if (Status s = txn.Begin(log->env_, 0); !s.ok()) return s;
  if (Status s = LmdbStatus(mdb_dbi_open(txn.get(), "log", MDB_CREATE, &log->log_dbi_), "open database 'log'"); !s.ok()) {
    return s;
  }
  if (Status s = txn.Commit(); !s.ok()) return s;
  *out = std::move(log);
  return Status::Ok();
}

MutationLog::~MutationLog() {
  if (env_ != nullptr) mdb_env_close(env_);
}

int MutationLog::TryAppend(const LogBatch& batch, bool* committing) {
  *committing = false;
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env_, nullptr, 0, &txn);
  if (rc != MDB_SUCCESS) return rc;
  batch.ForEach([&](Seq seq, std::string_view value) {
    if (rc != MDB_SUCCESS) return;
    const auto key = EncodeLogKey(seq);
    MDB_val k = ToVal(std::string_view(key.data(), key.size()));
    MDB_val v = ToVal(value);
    rc = mdb_put(txn, log_dbi_, &k, &v, MDB_APPEND);
  });
  if (rc != MDB_SUCCESS) {
    mdb_txn_abort(txn);
    return rc;
  }
  *committing = true;
  return mdb_txn_commit(txn);  // frees the transaction whatever it returns
}

Status MutationLog::ReserveLockFile(const std::string& dir) {
  // LMDB maps lock.mdb writable and writes into it at open (and as readers
  // come): on a full disk a hole there is SIGBUS. It needs about 8 KiB +
  // 64 bytes per reader; LMDB only grows a smaller file, so this one stays
  // 64 KiB, allocated, and LMDB derives its reader slots from that size.
  constexpr off_t kLockFileBytes = 64 << 10;
  int fd = -1;
  const std::string path = dir + "/lock.mdb";
  if (Status s = OpenPrivateFile(path, O_RDWR, &fd); !s.ok()) return s;
  Status s = ReserveFileSpace(fd, 0, kLockFileBytes, path);
  ::close(fd);
  return s;
}

Status MutationLog::ReserveAhead(std::size_t need) {
  if (options_.sync) return Status::Ok();  // written with pwrite, which reports ENOSPC
  MDB_envinfo info;
  mdb_env_info(env_, &info);
  const std::uint64_t used_end = (static_cast<std::uint64_t>(info.me_last_pgno) + 1) * page_bytes_;
  // LMDB never goes past the map (MDB_MAP_FULL instead), and the file is
  // exactly as large: no block beyond it is needed.
  const std::uint64_t limit = map_bytes_;
  const std::uint64_t want = std::min<std::uint64_t>(used_end + need, limit);
  if (want <= reserved_end_) return Status::Ok();
  // A step beyond what this transaction needs, so most commits make no
  // system call; if the step does not fit, what is needed may.
  const std::uint64_t ahead = std::min<std::uint64_t>(want + kReserveStepBytes, limit);
  const std::string what = dir_ + "/data.mdb";
  const off_t from = static_cast<off_t>(reserved_end_);
  if (ReserveFileSpace(fd_, from, static_cast<off_t>(ahead) - from, what).ok()) {
    reserved_end_ = ahead;
    return Status::Ok();
  }
  if (Status s = ReserveFileSpace(fd_, from, static_cast<off_t>(want) - from, what); !s.ok()) return s;
  reserved_end_ = want;
  return Status::Ok();
}

Status MutationLog::GrowMap() {
  if (map_bytes_ >= options_.max_map_bytes) {
    return Status::IOError("log map is full at its maximum of " + std::to_string(options_.max_map_bytes) + " bytes");
  }
  const std::size_t next = std::min(map_bytes_ * 2, options_.max_map_bytes);
  std::unique_lock<std::shared_mutex> lock(resize_mu_);
  if (Status s = LmdbStatus(mdb_env_set_mapsize(env_, next), "grow map"); !s.ok()) return s;
  map_bytes_ = next;
  return Status::Ok();
}

Status MutationLog::Append(const LogBatch& batch, bool* io_failed) {
  bool committing = false;
  if (io_failed != nullptr) *io_failed = false;
  if (batch.empty()) return Status::Ok();
  // What the transaction may dirty beyond the last used page: the records
  // (twice: half-full pages), the copied path down the tree, the free list.
  const std::size_t need = 2 * batch.bytes() + 64 * page_bytes_;
  for (;;) {
    // Before LMDB touches a page (a refusal here is io_failed = false:
    // nothing was written, the previous commit can still be synced).
    if (Status s = ReserveAhead(need); !s.ok()) return s;
    // A failed transaction leaves nothing behind, so retrying after growing
    // the map is safe.
    const int rc = TryAppend(batch, &committing);
    if (io_failed != nullptr) *io_failed = committing && rc != MDB_SUCCESS && rc != MDB_MAP_FULL;
    if (rc != MDB_MAP_FULL) return LmdbStatus(rc, "append to log");
    if (Status g = GrowMap(); !g.ok()) return g;
  }
}

Status MutationLog::Sync() {
  // force = 1: even a MDB_NOSYNC environment flushes.
  Status s = LmdbStatus(mdb_env_sync(env_, 1), "sync log");
  if (s.ok()) syncs_.fetch_add(1, std::memory_order_relaxed);
  return s;
}

Status MutationLog::ReadAfter(Seq after, const std::function<Status(const Change&)>& fn, Seq upto) const {
  std::shared_lock<std::shared_mutex> lock(resize_mu_);
  LmdbTxn txn;
  if (Status s = txn.Begin(env_, MDB_RDONLY); !s.ok()) return s;
  LmdbCursor cursor;
  if (Status s = cursor.Open(txn.get(), log_dbi_); !s.ok()) return s;
  const auto start = EncodeLogKey(after + 1);
  MDB_val k = ToVal(std::string_view(start.data(), start.size()));
  MDB_val v;
  int rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_SET_RANGE);
  Seq expected = 0;
  while (rc == MDB_SUCCESS) {
    Seq seq = 0;
    if (Status s = DecodeLogKey(FromVal(k), &seq); !s.ok()) return s;
    if (upto != 0 && seq > upto) return Status::Ok();
    if (expected != 0 && seq != expected) {
      return Status::Corruption("log has a gap: record " + std::to_string(seq) + " follows " +
                                std::to_string(expected - 1));
    }
    Change change;
    if (Status s = DecodeLogValue(seq, FromVal(v), &change); !s.ok()) return s;
    if (Status s = fn(change); !s.ok()) return s;
    expected = seq + 1;
    rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_NEXT);
  }
  if (rc != MDB_NOTFOUND) return LmdbStatus(rc, "read log");
  return Status::Ok();
}

Status MutationLog::ScanRaw(const std::function<void(std::string_view, std::string_view)>& fn) const {
  std::shared_lock<std::shared_mutex> lock(resize_mu_);
  LmdbTxn txn;
  if (Status s = txn.Begin(env_, MDB_RDONLY); !s.ok()) return s;
  LmdbCursor cursor;
  if (Status s = cursor.Open(txn.get(), log_dbi_); !s.ok()) return s;
  MDB_val k, v;
  int rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_FIRST);
  while (rc == MDB_SUCCESS) {
    fn(FromVal(k), FromVal(v));
    rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_NEXT);
  }
  if (rc != MDB_NOTFOUND) return LmdbStatus(rc, "scan log");
  return Status::Ok();
}

Status MutationLog::EdgeSeq(MDB_cursor_op op, Seq* seq) const {
  std::shared_lock<std::shared_mutex> lock(resize_mu_);
  *seq = 0;
  LmdbTxn txn;
  if (Status s = txn.Begin(env_, MDB_RDONLY); !s.ok()) return s;
  LmdbCursor cursor;
  if (Status s = cursor.Open(txn.get(), log_dbi_); !s.ok()) return s;
  MDB_val k, v;
  const int rc = mdb_cursor_get(cursor.get(), &k, &v, op);
  if (rc == MDB_NOTFOUND) return Status::Ok();
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, "read log edge");
  return DecodeLogKey(FromVal(k), seq);
}

Status MutationLog::FirstSeq(Seq* seq) const { return EdgeSeq(MDB_FIRST, seq); }
Status MutationLog::LastSeq(Seq* seq) const { return EdgeSeq(MDB_LAST, seq); }

Status MutationLog::TrimThrough(Seq upto) {
  // Bounded transactions, so a long trim never holds LMDB's writer lock (or
  // many dirty pages) for long.
  constexpr std::size_t kPerTxn = 10000;
  for (bool done = false; !done;) {
    if (Status s = TrimStep(upto, kPerTxn, &done); !s.ok()) return s;
  }
  return Status::Ok();
}

Status MutationLog::TrimStep(Seq upto, std::size_t max_records, bool* done) {
  *done = false;
  if (max_records == 0) max_records = 1;
  // Deleting copies the leaf pages it changes (a few hundred bytes per
  // record at most) and the path above them.
  if (Status s = ReserveAhead(max_records * 512 + 64 * page_bytes_); !s.ok()) return s;
  LmdbTxn txn;
  if (Status s = txn.Begin(env_, 0); !s.ok()) return s;
  std::size_t deleted = 0;
  bool more = false;  // a record <= upto is left after this step
  {
    LmdbCursor cursor;  // closed before the commit below
    if (Status s = cursor.Open(txn.get(), log_dbi_); !s.ok()) return s;
    MDB_val k, v;
    int rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_FIRST);
    while (rc == MDB_SUCCESS) {
      Seq seq = 0;
      if (Status s = DecodeLogKey(FromVal(k), &seq); !s.ok()) return s;
      if (seq > upto) break;
      if (deleted == max_records) {
        more = true;
        break;
      }
      if (Status s = LmdbStatus(mdb_cursor_del(cursor.get(), 0), "trim log"); !s.ok()) return s;
      ++deleted;
      rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_NEXT);  // after a delete: the following record
    }
    if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) return LmdbStatus(rc, "trim log");
  }
  if (deleted == 0) {
    *done = true;
    return Status::Ok();  // nothing to write: no transaction to commit
  }
  if (Status s = txn.Commit(); !s.ok()) return s;
  *done = !more;
  return Status::Ok();
}

std::size_t MutationLog::file_bytes() const {
  struct stat st;
  if (::stat((dir_ + "/data.mdb").c_str(), &st) != 0) return 0;
  // A log opened with MDB_WRITEMAP is a sparse file as large as its map:
  // count what it occupies.
  return std::min(static_cast<std::size_t>(st.st_size), static_cast<std::size_t>(st.st_blocks) * 512);
}

}  // namespace idrecon
