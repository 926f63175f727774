#include "persistence/backup.h"

#include <dirent.h>
#include <fcntl.h>
#include <lmdb.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include "persistence/data_dir.h"
#include "persistence/lmdb_util.h"
#include "persistence/log_record.h"
#include "persistence/posix_error.h"
#include "persistence/snapshot.h"

namespace idrecon {
namespace {

bool IsEmptyOrMissing(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return errno == ENOENT;
  bool empty = true;
  while (const dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) empty = false;
  }
  ::closedir(d);
  return empty;
}

// Copies a file and fsyncs the copy.
Status CopyFile(const std::string& from, const std::string& to, std::uint64_t* bytes) {
  const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return ErrnoStatus("open " + from, errno);
  int out = -1;
  if (Status s = OpenPrivateFile(to, O_WRONLY | O_EXCL, &out); !s.ok()) {
    ::close(in);
    return s;
  }
  std::vector<char> buf(1 << 20);
  Status s;
  for (;;) {
    const ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      s = ErrnoStatus("read " + from, errno);
      break;
    }
    if (n == 0) break;
    ssize_t done = 0;
    while (done < n) {
      const ssize_t w = ::write(out, buf.data() + done, static_cast<std::size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        s = ErrnoStatus("write " + to, errno);
        break;
      }
      done += w;
    }
    if (!s.ok()) break;
    *bytes += static_cast<std::uint64_t>(n);
  }
  if (s.ok() && ::fsync(out) != 0) s = ErrnoStatus("fsync " + to, errno);
  ::close(in);
  ::close(out);
  return s;
}

// Copies the log environment `from` into directory `to` (compacted) and
// reports the last seq the copy holds.
Status CopyLog(const std::string& from, const std::string& to, BackupReport* report) {
  MDB_env* env = nullptr;
  if (Status s = LmdbStatus(mdb_env_create(&env), "create environment"); !s.ok()) return s;
  struct EnvCloser {
    MDB_env* env;
    ~EnvCloser() { mdb_env_close(env); }
  } closer{env};
  mdb_env_set_maxdbs(env, 4);
  // Read-only: the running server stays the only writer. LMDB takes the map
  // size from the file, whatever it has grown to.
  if (Status s = LmdbStatus(mdb_env_open(env, from.c_str(), MDB_RDONLY | MDB_NOTLS, kPrivateFileMode), "open " + from);
      !s.ok()) {
    return s;
  }
  if (Status s = LmdbStatus(mdb_env_copy2(env, to.c_str(), MDB_CP_COMPACT), "copy log to " + to); !s.ok()) return s;
  // LMDB creates the copy with 0666 minus the umask.
  if (Status s = SetMode(to + "/data.mdb", kPrivateFileMode); !s.ok()) return s;
  // The copy's last seq, read from the copy itself.
  MDB_env* copy = nullptr;
  if (Status s = LmdbStatus(mdb_env_create(&copy), "create environment"); !s.ok()) return s;
  EnvCloser copy_closer{copy};
  mdb_env_set_maxdbs(copy, 4);
  if (Status s = LmdbStatus(mdb_env_open(copy, to.c_str(), MDB_RDONLY | MDB_NOTLS, kPrivateFileMode), "open " + to);
      !s.ok()) {
    return s;
  }
  if (Status s = SetMode(to + "/lock.mdb", kPrivateFileMode); !s.ok()) return s;
  LmdbTxn txn;
  if (Status s = txn.Begin(copy, MDB_RDONLY); !s.ok()) return s;
  MDB_dbi dbi;
  const int rc = mdb_dbi_open(txn.get(), "log", 0, &dbi);
  if (rc == MDB_NOTFOUND) return Status::Ok();  // an empty log
  if (Status s = LmdbStatus(rc, "open database 'log'"); !s.ok()) return s;
  LmdbCursor cursor;
  if (Status s = cursor.Open(txn.get(), dbi); !s.ok()) return s;
  MDB_val k, v;
  const int last = mdb_cursor_get(cursor.get(), &k, &v, MDB_LAST);
  if (last == MDB_SUCCESS) {
    if (Status s = DecodeLogKey(FromVal(k), &report->log_last_seq); !s.ok()) return s;
  } else if (last != MDB_NOTFOUND) {
    return LmdbStatus(last, "read the copied log");
  }
  struct stat st;
  if (::stat((to + "/data.mdb").c_str(), &st) == 0) report->log_bytes = static_cast<std::uint64_t>(st.st_size);
  return Status::Ok();
}

}  // namespace

Status BackupDataDir(const std::string& data_dir, const std::string& out_dir, BackupReport* report) {
  const auto start = std::chrono::steady_clock::now();
  *report = BackupReport{};
  struct stat st;
  if (::stat((data_dir + "/log/data.mdb").c_str(), &st) != 0) {
    return Status::NotFound(data_dir + " is not an idrecon data directory (no log/data.mdb)");
  }
  if (!IsEmptyOrMissing(out_dir)) return Status::InvalidArgument(out_dir + " exists and is not empty");
  if (Status s = CreateDirectories(out_dir + "/log"); !s.ok()) return s;

  // The directory's settings first: they say how its keys were made.
  if (::access((data_dir + "/settings").c_str(), F_OK) == 0) {
    std::uint64_t bytes = 0;
    if (Status s = CopyFile(data_dir + "/settings", out_dir + "/settings", &bytes); !s.ok()) return s;
  }
  if (Status s = CopyLog(data_dir + "/log", out_dir + "/log", report); !s.ok()) return s;

  std::vector<SnapshotInfo> snapshots;
  if (Status s = ListSnapshots(data_dir, &snapshots); !s.ok()) return s;
  for (const SnapshotInfo& snap : snapshots) {
    const std::string name = snap.path.substr(snap.path.rfind('/') + 1);
    Status s = CopyFile(snap.path, out_dir + "/" + name, &report->snapshot_bytes);
    // The checkpointer may have deleted an old snapshot since we listed it;
    // a newer one is then among the list.
    if (!s.ok() && ::access(snap.path.c_str(), F_OK) != 0) continue;
    if (!s.ok()) return s;
    ++report->snapshots;
  }
  if (Status s = SyncDirectory(out_dir); !s.ok()) return s;
  if (Status s = SyncDirectory(out_dir + "/log"); !s.ok()) return s;
  report->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return Status::Ok();
}

}  // namespace idrecon
