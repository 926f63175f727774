// HttpServer: the HTTP/1.1 front end (Boost.Beast), serving Route().
//
// Contract:
//   - Start() resolves and binds the listening socket (port 0 picks a free
//     port; port() then tells which). It returns InvalidArgument when the host
//     cannot be resolved and IOError when the socket cannot be bound.
//   - Run() serves on `threads` I/O threads (the calling thread is one of
//     them) until Stop() or Shutdown() ends it or, with stop_on_signals,
//     until SIGINT or SIGTERM starts a Shutdown(). It returns once every I/O
//     thread has finished.
//   - Stop() is safe from any thread and before, during or after Run(); it is
//     abrupt: connections are dropped, in-flight requests get no response.
// Per connection: keep-alive; requests are served one at a time in arrival
// order, so pipelined requests get their responses in order; a header over
// max_header_bytes gets 431, a body over max_body_bytes gets 413 (by
// Content-Length before the body is read, or while reading a chunked body),
// a malformed request gets 400 — each followed by closing the connection
// (after a short drain, so the client can read the response). A connection
// idle for idle_timeout between requests is closed without a response; once a
// request's first byte arrived, its header must be complete within
// header_timeout (a client trickling headers is cut off), and then its body
// within header_timeout again. Requests are read one at a time, so at most
// one request per connection is in the server at once (pipelined ones wait
// in the socket); after max_requests_per_connection the connection is
// closed. Beyond max_connections, a new connection gets a 503 and is closed.
// "Expect: 100-continue" is honoured; a HEAD request gets the headers of its
// GET response only. Every response carries Server, Content-Type and
// Content-Length.
//
// A 200 that depends on changes not yet durable (HttpResponse::durable_after)
// is parked with the context's Durability and sent when the commit lands, or
// replaced by a 503 if the commit failed; the I/O thread moves on meanwhile.
//
// The listener is http_server.cc; one connection is a Session (session.h).
//
// Thread-safety: Start() and Run() are called by one owning thread; Stop()
// and Shutdown() from anywhere. The ServiceContext must outlive the HttpServer,
// and every response parked with its Durability must have been released
// (completed or failed: Database::Close does both) before the HttpServer is
// destroyed, since a parked callback holds its Session and posts to the
// server's I/O context. idrecon-server closes the database after Run()
// returns and before the server goes.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "engine/status.h"
#include "server/http_message.h"
#include "server/service_context.h"

namespace idrecon {

// What the server reports about each response it sends (metrics, access
// log). Views are valid only during the call.
struct ResponseRecord {
  std::string_view method;  // empty when the request could not be parsed
  std::string_view target;
  int status = 0;
  std::size_t body_bytes = 0;
  std::string_view endpoint;
  std::chrono::nanoseconds latency{0};  // request read → response write started
};
using ResponseObserver = std::function<void(const ResponseRecord&)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  unsigned threads = 1;
  std::size_t max_body_bytes = 16384;
  std::size_t max_header_bytes = 8192;
  std::chrono::seconds idle_timeout{30};    // waiting for a request's first byte; writing a response
  std::chrono::seconds header_timeout{10};  // first byte → whole header; also each body read
  std::size_t max_connections = 10000;       // beyond: answered 503 and closed at once
  std::size_t max_requests_per_connection = 10000;  // then "Connection: close"
  ResponseObserver on_response;              // optional
  bool stop_on_signals = false;  // SIGINT / SIGTERM call Shutdown()
  std::chrono::milliseconds shutdown_grace{5000};
};

// Answers one request; must be safe to call from several threads at once.
using RequestHandler = std::function<HttpResponse(const HttpRequest&)>;

class HttpServer {
 public:
  // Serves Route(request, context), holding responses for context.log.
  HttpServer(HttpServerOptions options, ServiceContext& context);
  // Serves `handler` (e.g. the null server, null_server_main.cc); `durability` may be null,
  // else responses wait for it as above. It must outlive the server.
  HttpServer(HttpServerOptions options, RequestHandler handler, Durability* durability);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  Status Start();
  void Run();
  void Stop();
  // Graceful stop, safe from any thread: stop accepting, let each connection
  // finish (and answer) the request it is in, close idle ones, then end
  // Run() once all are closed or shutdown_grace has passed.
  void Shutdown();

  // The bound address and port; valid after a successful Start().
  std::string address() const;
  std::uint16_t port() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace idrecon
