// Durability: what the request path needs to know about the log behind the
// engine — is a change durable yet, and has the log failed — without knowing
// who commits, or when (docs/durability.md).
//
// Contract:
//   - durable_seq(): every change with seq <= it is durable (it survives a
//     kill -9; with fsync, a power loss too). It never decreases.
//   - WhenDurable(seq, done): calls done(Ok) once `seq` is durable, or
//     done(error) if it never can be (the sticky error). Inline when the
//     answer is already known; otherwise on whichever thread made it known,
//     so `done` must be quick (post the real work elsewhere) and must not call
//     back into the log.
//   - AfterRequest(seq, post): the server calls it on the I/O thread that
//     handled a request whose response depends on `seq`, when `seq` is not
//     yet durable, before it parks the response with WhenDurable. The log may
//     do deferred work here (a commit that costs less than parking the
//     response and posting it back), and may call `post` once to have more
//     work run later on that same I/O thread, after the requests already
//     queued there. The server then reads durable_seq() again. It is never
//     told what the log did.
//   - failed() / error(): the sticky error (LevelDB's background error).
//     Once a commit failed, the in-memory state may be ahead of the disk, so
//     nothing more becomes durable; only a restart, which recovers from the
//     disk, clears it.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <functional>

#include "engine/change.h"
#include "engine/status.h"

namespace idrecon {

class Durability {
 public:
  using Callback = std::function<void(const Status&)>;
  using Work = std::function<void()>;
  // Runs a Work later on the I/O thread that called AfterRequest.
  using Post = std::function<void(Work)>;

  virtual ~Durability() = default;

  virtual Seq durable_seq() const = 0;
  virtual bool failed() const = 0;
  virtual Status error() const = 0;
  virtual void WhenDurable(Seq seq, Callback done) = 0;
  virtual void AfterRequest(Seq seq, const Post& post) = 0;
};

}  // namespace idrecon
