// Session: one HTTP/1.1 connection of an HttpServer, on the model of Beast's
// example/advanced/server session (docs/architecture.md, "server/").
//
// Contract (the per-connection half of server/http_server.h):
//   - Each request is read with a fresh Beast parser carrying the header
//     and body limits. The first byte of a request must arrive within
//     idle_timeout; from then on the header within header_timeout, and
//     the body within header_timeout again. Writing a response gets
//     idle_timeout.
//   - One request at a time: the next one is not read before the response to
//     this one is written, so pipelined requests (which wait in the socket or
//     in the read buffer) are answered in order.
//   - "Expect: 100-continue" gets its interim response before the body is read.
//   - A response whose durable_after is not yet durable is parked with the
//     Durability and written when the commit lands (or replaced by a 503 when
//     it fails). Meanwhile nothing more is read; no thread waits.
//   - 413 / 431 / 400 (transport errors) are answered and followed by a
//     lingering close: the write side is shut and the input drained for at
//     most 2 s / 1 MiB, so the client can read the response before the close.
//   - After max_requests, or once the server shuts down, the response carries
//     "Connection: close".
//
// Only session.cc includes Beast; this header needs Asio's socket type only.
//
// Thread-safety: a session runs on its socket's executor (a strand of its
// own). SessionRegistry is thread-safe.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "persistence/durability.h"
#include "server/http_server.h"

namespace idrecon {

struct SessionLimits {
  std::size_t max_body_bytes;
  std::size_t max_header_bytes;
  std::chrono::seconds idle_timeout;
  std::chrono::seconds header_timeout;
  std::size_t max_requests;  // at least 1
};

// What every session of one server shares. The server owns it and outlives
// every session (sessions end when its io_context is destroyed, at the latest).
struct SessionConfig {
  SessionLimits limits;
  RequestHandler handler;
  Durability* durability = nullptr;  // null: responses never wait
  ResponseObserver observer;         // may be empty
};

class Session;

// Every live session of one server, so that the connection limit can count
// them and a graceful shutdown can reach them. A session adds itself when it
// starts and removes itself when it is destroyed.
class SessionRegistry {
 public:
  std::size_t size() const;

  // Graceful shutdown of every live session: one waiting for a new request
  // is closed at once; one in the middle of a request finishes it, answers
  // with "Connection: close" and then closes.
  void BeginShutdown();

  void Add(Session* session, std::weak_ptr<Session> weak);
  void Remove(Session* session);

 private:
  mutable std::mutex mu_;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;  // guarded by mu_
};

// Serves `socket` until the connection ends. `config` and `registry` must
// outlive the session.
void StartSession(boost::asio::ip::tcp::socket socket, const SessionConfig& config, SessionRegistry& registry);

}  // namespace idrecon
