// Small RAII helpers over the LMDB C API, and the one place LMDB return codes
// become Status values.
//
// Thread-safety: a Txn belongs to the thread that began it (the environment
// is opened with MDB_NOTLS, so read transactions are not tied to threads, but
// a Txn object is still used by one thread at a time).
#pragma once

#include <lmdb.h>

#include <string>
#include <string_view>

#include "engine/status.h"

namespace idrecon {

// Converts an LMDB return code; `what` says what was being done.
Status LmdbStatus(int rc, std::string_view what);

inline MDB_val ToVal(std::string_view s) {
  MDB_val v;
  v.mv_size = s.size();
  v.mv_data = const_cast<char*>(s.data());
  return v;
}
inline std::string_view FromVal(const MDB_val& v) { return {static_cast<const char*>(v.mv_data), v.mv_size}; }

// A transaction that aborts unless committed.
class LmdbTxn {
 public:
  LmdbTxn() = default;
  ~LmdbTxn() { Abort(); }
  LmdbTxn(const LmdbTxn&) = delete;
  LmdbTxn& operator=(const LmdbTxn&) = delete;

  Status Begin(MDB_env* env, unsigned flags) {
    Abort();
    return LmdbStatus(mdb_txn_begin(env, nullptr, flags, &txn_), "begin transaction");
  }
  Status Commit() {
    MDB_txn* t = txn_;
    txn_ = nullptr;
    return LmdbStatus(mdb_txn_commit(t), "commit");
  }
  void Abort() {
    if (txn_ != nullptr) mdb_txn_abort(txn_);
    txn_ = nullptr;
  }
  MDB_txn* get() const { return txn_; }

 private:
  MDB_txn* txn_ = nullptr;
};

// A cursor closed on destruction (before its transaction ends).
class LmdbCursor {
 public:
  LmdbCursor() = default;
  ~LmdbCursor() {
    if (cursor_ != nullptr) mdb_cursor_close(cursor_);
  }
  LmdbCursor(const LmdbCursor&) = delete;
  LmdbCursor& operator=(const LmdbCursor&) = delete;
  Status Open(MDB_txn* txn, MDB_dbi dbi) { return LmdbStatus(mdb_cursor_open(txn, dbi, &cursor_), "open cursor"); }
  MDB_cursor* get() const { return cursor_; }

 private:
  MDB_cursor* cursor_ = nullptr;
};

}  // namespace idrecon
