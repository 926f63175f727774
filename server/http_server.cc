// The only translation unit that includes Asio/Beast (they dominate build
// time). Structure after Beast's example/advanced/server: a Listener accepts
// onto per-connection strands; a Session owns one connection.

#include "server/http_server.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <csignal>
#include <cstdio>
#include <exception>
#include <optional>
#include <string_view>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "server/logger.h"
#include "server/router.h"

namespace idrecon {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// Lingering close: after an error response we stop sending and read (and
// discard) what the client is still sending, for at most this long / this
// much, so closing does not reset the connection before the client has read
// the response (a close with unread input sends RST, which can destroy the
// response in the client's receive queue).
constexpr auto kDrainTimeout = std::chrono::seconds(2);
constexpr std::size_t kDrainLimitBytes = std::size_t{1} << 20;
constexpr std::size_t kDrainChunkBytes = 4096;

constexpr std::string_view k100Continue = "HTTP/1.1 100 Continue\r\n\r\n";

struct SessionLimits {
  std::size_t max_body_bytes;
  std::size_t max_header_bytes;
  std::chrono::seconds idle_timeout;
  std::chrono::seconds header_timeout;
  std::size_t max_requests;
  std::size_t max_connections;
};

constexpr std::size_t kFirstReadBytes = 4096;

const Logger& ServerLog() {
  static const Logger logger;
  return logger;
}

// Sent, as is, to a connection over the limit. Content-Length is computed
// from the body, so the framing cannot drift from the text.
constexpr std::string_view kTooManyConnectionsBody = R"({"error":"too many connections; try again later"})";
const std::string kTooManyConnections =
    "HTTP/1.1 503 Service Unavailable\r\nServer: idrecon\r\nContent-Type: application/json\r\nContent-Length: " +
    std::to_string(kTooManyConnectionsBody.size()) + "\r\nConnection: close\r\n\r\n" +
    std::string(kTooManyConnectionsBody);

class Session;

// Every live session, so a graceful shutdown can reach them. Sessions add
// themselves when they start and remove themselves when destroyed.
class SessionRegistry {
 public:
  void Add(Session* session, std::weak_ptr<Session> weak) {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_.emplace(session, std::move(weak));
  }
  void Remove(Session* session) {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_.erase(session);
  }
  std::vector<std::shared_ptr<Session>> Live() {
    std::vector<std::shared_ptr<Session>> out;
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [raw, weak] : sessions_) {
      if (auto strong = weak.lock()) out.push_back(std::move(strong));
    }
    return out;
  }
  std::size_t size() {
    std::lock_guard<std::mutex> lock(mu_);
    return sessions_.size();
  }

 private:
  std::mutex mu_;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;
};

std::string_view ToStd(beast::string_view s) { return std::string_view(s.data(), s.size()); }

bool IsHttpParseError(const beast::error_code& ec) {
  return ec.category() == beast::http::make_error_code(http::error::bad_method).category();
}

// One connection. Invariant: every member is touched only from the
// connection's strand (the socket's executor), and at most one read or one
// write is in flight, which is what keeps responses in request order.
//
// The write path is SendResponse(), separate from request handling, so a
// later change can complete a response asynchronously: capture
// shared_from_this(), and post SendResponse(response) to stream_'s executor
// when the response may leave (e.g. once its log commit is durable). Until
// then the session simply does not read the next request.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, const SessionLimits& limits, const RequestHandler& handler, Durability* durability,
          const ResponseObserver& observer, SessionRegistry& registry)
      : stream_(std::move(socket)),
        limits_(limits),
        handler_(handler),
        durability_(durability),
        observer_(observer),
        registry_(registry) {}
  ~Session() { registry_.Remove(this); }

  void Start() {
    registry_.Add(this, weak_from_this());
    net::dispatch(stream_.get_executor(), beast::bind_front_handler(&Session::ReadHeader, shared_from_this()));
  }

  // Graceful shutdown: a connection waiting for a new request is closed at
  // once; one in the middle of a request finishes it, answers with
  // "Connection: close" and then closes.
  void BeginShutdown() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      self->shutting_down_ = true;
      // Idle (no byte of a next request received, none waiting in the
      // socket): close now. Otherwise the request completes and is answered
      // with "Connection: close".
      beast::error_code ec;
      const std::size_t waiting = self->stream_.socket().available(ec);
      if (self->awaiting_request_ && self->buffer_.size() == 0 && !self->parser_->got_some() && (ec || waiting == 0)) {
        self->CloseNow();
      }
    });
  }

 private:
  void ReadHeader() {
    if (shutting_down_) return CloseNow();
    awaiting_request_ = true;
    // A fresh parser per message: Beast parsers are single-use.
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
    parser_->body_limit(limits_.max_body_bytes);
    if (buffer_.size() > 0) return ReadRestOfHeader();  // a pipelined request is already here
    // Idle between requests: wait (idle_timeout) for the first byte, then
    // give the whole header header_timeout, so a client trickling its
    // header one byte at a time is cut off.
    stream_.expires_after(limits_.idle_timeout);
    stream_.async_read_some(buffer_.prepare(kFirstReadBytes),
                            beast::bind_front_handler(&Session::OnFirstBytes, shared_from_this()));
  }

  void OnFirstBytes(beast::error_code ec, std::size_t bytes) {
    buffer_.commit(bytes);
    if (ec) {
      awaiting_request_ = false;
      return CloseNow();  // EOF, reset or idle timeout: nobody to answer
    }
    ReadRestOfHeader();
  }

  void ReadRestOfHeader() {
    request_started_ = std::chrono::steady_clock::now();
    stream_.expires_after(limits_.header_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  void OnHeader(beast::error_code ec, std::size_t /*bytes*/) {
    awaiting_request_ = false;
    if (ec) return OnReadError(ec);
    if (parser_->is_done()) return HandleRequest();
    const auto& request = parser_->get();
    if (request.version() >= 11 && beast::iequals(request[http::field::expect], "100-continue")) {
      stream_.expires_after(limits_.header_timeout);
      net::async_write(stream_, net::buffer(k100Continue.data(), k100Continue.size()),
                       beast::bind_front_handler(&Session::OnContinueSent, shared_from_this()));
      return;
    }
    ReadBody();
  }

  void OnContinueSent(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec) return CloseNow();
    ReadBody();
  }

  void ReadBody() {
    stream_.expires_after(limits_.header_timeout);
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::OnBody, shared_from_this()));
  }

  void OnBody(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec) return OnReadError(ec);
    HandleRequest();
  }

  void OnReadError(const beast::error_code& ec) {
    if (ec == http::error::body_limit) return SendFinalResponse(PayloadTooLargeResponse(limits_.max_body_bytes));
    if (ec == http::error::header_limit) {
      return SendFinalResponse(HeaderTooLargeResponse(limits_.max_header_bytes));
    }
    // The client went away (between requests or mid-request): nobody to answer.
    if (ec == http::error::end_of_stream || ec == http::error::partial_message) return CloseNow();
    if (IsHttpParseError(ec)) return SendFinalResponse(MalformedRequestResponse());
    // Timeout, reset, shutdown (operation_aborted): just close.
    CloseNow();
  }

  void HandleRequest() {
    const auto& request = parser_->get();
    keep_alive_ = request.keep_alive();
    version_ = request.version();
    head_request_ = request.method() == http::verb::head;
    request_started_ = std::chrono::steady_clock::now();
    const HttpRequest view{ToStd(request.method_string()), ToStd(request.target()), request.body(),
                           ToStd(request[http::field::authorization])};
    HttpResponse response;
    try {
      response = handler_(view);
    } catch (const std::exception& e) {
      // Route reports errors as values; only resource exhaustion gets here.
      ServerLog().Error("request failed", {{"error", e.what()}});
      response = InternalErrorResponse();
    }
    SendWhenDurable(std::move(response));
  }

  // docs/api.md §4: a response that shows changes leaves only once they are
  // durable. If they are not yet, the log may first do deferred work on this
  // I/O thread (AfterRequest; what, and whether it makes the change durable
  // at once, is the log's business), then the response is parked with it,
  // and its callback posts the response back onto this connection's strand;
  // no I/O thread ever blocks. The next request is not read meanwhile,
  // which keeps pipelined responses in order.
  void SendWhenDurable(HttpResponse response) {
    Durability* log = durability_;
    const Seq seq = response.durable_after;
    if (log == nullptr || seq <= log->durable_seq()) return SendResponse(std::move(response));
    log->AfterRequest(seq, [this](Durability::Work work) { net::post(stream_.get_executor(), std::move(work)); });
    if (seq <= log->durable_seq()) return SendResponse(std::move(response));
    log->WhenDurable(seq, [self = shared_from_this(), response = std::move(response)](const Status& status) mutable {
      net::post(self->stream_.get_executor(), [self, response = std::move(response), status]() mutable {
        if (!status.ok()) response = ErrorResponse(503, "the change could not be made durable: " + status.message());
        self->SendResponse(std::move(response));
      });
    });
  }

  // An error the connection cannot recover from: answer, then close.
  void SendFinalResponse(HttpResponse response) {
    final_response_ = true;
    keep_alive_ = false;
    version_ = 11;
    head_request_ = false;
    SendResponse(std::move(response));
  }

  // The single write path. Must run on the strand, with no write in flight.
  void SendResponse(HttpResponse response) {
    response_ = {};
    response_.version(version_);
    response_.result(static_cast<unsigned>(response.status));
    response_.set(http::field::server, "idrecon");
    response_.set(http::field::content_type, response.content_type);
    if (!response.allow.empty()) response_.set(http::field::allow, response.allow);
    if (!response.www_authenticate.empty()) response_.set(http::field::www_authenticate, response.www_authenticate);
    if (shutting_down_ || ++requests_served_ >= limits_.max_requests) keep_alive_ = false;
    response_.keep_alive(keep_alive_);
    Observe(response);
    if (head_request_) {
      // RFC 9110 §9.3.2: the headers GET would send, no body.
      response_.content_length(response.body.size());
    } else {
      response_.body() = std::move(response.body);
      response_.prepare_payload();
    }
    stream_.expires_after(limits_.idle_timeout);
    http::async_write(stream_, response_,
                      beast::bind_front_handler(&Session::OnWrite, shared_from_this(), !keep_alive_));
  }

  void Observe(const HttpResponse& response) {
    if (!observer_) return;
    ResponseRecord record;
    if (!final_response_ && parser_ && parser_->is_header_done()) {
      record.method = ToStd(parser_->get().method_string());
      record.target = ToStd(parser_->get().target());
    }
    record.status = response.status;
    record.body_bytes = response.body.size();
    record.endpoint = response.endpoint;
    record.latency = std::chrono::steady_clock::now() - request_started_;
    observer_(record);
  }

  void OnWrite(bool close, beast::error_code ec, std::size_t /*bytes*/) {
    if (ec) return CloseNow();
    if (close) return DrainAndClose();
    ReadHeader();
  }

  void DrainAndClose() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    buffer_.consume(buffer_.size());
    drained_bytes_ = 0;
    stream_.expires_after(kDrainTimeout);
    Drain();
  }

  void Drain() {
    stream_.async_read_some(buffer_.prepare(kDrainChunkBytes),
                            beast::bind_front_handler(&Session::OnDrain, shared_from_this()));
  }

  void OnDrain(beast::error_code ec, std::size_t bytes) {
    drained_bytes_ += bytes;
    if (ec || drained_bytes_ > kDrainLimitBytes) return CloseNow();
    Drain();
  }

  void CloseNow() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;  // holds bytes read past the current request (pipelining)
  const SessionLimits limits_;
  const RequestHandler& handler_;  // owned by HttpServer::Impl, which outlives sessions
  Durability* const durability_;
  const ResponseObserver& observer_;  // likewise
  SessionRegistry& registry_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;  // alive until its write completes
  // About the request being answered (one at a time), for its response.
  bool keep_alive_ = true;
  unsigned version_ = 11;
  bool head_request_ = false;
  std::size_t drained_bytes_ = 0;
  bool awaiting_request_ = false;  // a header read is pending for a new request
  bool shutting_down_ = false;
  bool final_response_ = false;    // a transport error response; the request is unusable
  std::size_t requests_served_ = 0;
  std::chrono::steady_clock::time_point request_started_ = std::chrono::steady_clock::now();
};

// Accepts connections; each gets its own strand and Session.
class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(net::io_context& io, tcp::acceptor&& acceptor, const SessionLimits& limits, const RequestHandler& handler,
           Durability* durability, const ResponseObserver& observer, SessionRegistry& registry)
      : io_(io),
        acceptor_(std::move(acceptor)),
        retry_timer_(acceptor_.get_executor()),
        limits_(limits),
        handler_(handler),
        durability_(durability),
        observer_(observer),
        registry_(registry) {}

  void Accept() {
    acceptor_.async_accept(net::make_strand(io_), beast::bind_front_handler(&Listener::OnAccept, shared_from_this()));
  }

  // Stops accepting; connections already accepted carry on.
  void Close() {
    net::dispatch(acceptor_.get_executor(), [self = shared_from_this()] {
      beast::error_code ignored;
      self->closed_ = true;
      self->retry_timer_.cancel();
      self->acceptor_.close(ignored);
    });
  }

 private:
  void OnAccept(beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || closed_) return;
    if (ec) {
      // E.g. out of file descriptors: back off briefly instead of spinning.
      ServerLog().Error("accept failed", {{"error", ec.message()}});
      retry_timer_.expires_after(std::chrono::milliseconds(100));
      retry_timer_.async_wait([self = shared_from_this()](beast::error_code wait_ec) {
        if (!wait_ec && !self->closed_) self->Accept();
      });
      return;
    }
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);  // small responses; don't wait for Nagle
    if (registry_.size() >= limits_.max_connections) {
      RefuseConnection(std::move(socket));
    } else {
      std::make_shared<Session>(std::move(socket), limits_, handler_, durability_, observer_, registry_)->Start();
    }
    Accept();
  }

  // Over the connection limit: a canned 503, then close. The socket lives
  // in the write's completion handler; served connections are untouched.
  static void RefuseConnection(tcp::socket socket) {
    auto held = std::make_shared<tcp::socket>(std::move(socket));
    net::async_write(*held, net::buffer(kTooManyConnections.data(), kTooManyConnections.size()),
                     [held](beast::error_code, std::size_t) {
                       beast::error_code ignored;
                       held->shutdown(tcp::socket::shutdown_both, ignored);
                       held->close(ignored);
                     });
  }

  net::io_context& io_;
  tcp::acceptor acceptor_;  // on its own strand, shared with retry_timer_ and Close()
  net::steady_timer retry_timer_;
  const SessionLimits limits_;
  const RequestHandler& handler_;
  Durability* const durability_;
  const ResponseObserver& observer_;
  SessionRegistry& registry_;
  bool closed_ = false;
};

}  // namespace

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions options, RequestHandler handler, Durability* durability)
      : options_(std::move(options)),
        handler_(std::move(handler)),
        durability_(durability),
        io_(static_cast<int>(ThreadCount())) {}

  Status Start() {
    tcp::endpoint endpoint;
    if (Status s = Resolve(&endpoint); !s.ok()) return s;

    // On its own strand: accept completions, the retry timer and Close() never overlap.
    tcp::acceptor acceptor(net::make_strand(io_));
    beast::error_code ec;
    const std::string where = options_.host + ":" + std::to_string(options_.port);
    acceptor.open(endpoint.protocol(), ec);
    if (ec) return Status::IOError("cannot open a socket for " + where + ": " + ec.message());
    acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (ec) return Status::IOError("cannot set SO_REUSEADDR on " + where + ": " + ec.message());
    acceptor.bind(endpoint, ec);
    if (ec) return Status::IOError("cannot bind " + where + ": " + ec.message());
    acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec) return Status::IOError("cannot listen on " + where + ": " + ec.message());
    bound_ = acceptor.local_endpoint(ec);
    if (ec) return Status::IOError("cannot read the bound address: " + ec.message());

    const SessionLimits limits{options_.max_body_bytes,  options_.max_header_bytes,
                               options_.idle_timeout,    options_.header_timeout,
                               options_.max_requests_per_connection == 0 ? 1 : options_.max_requests_per_connection,
                               options_.max_connections};
    listener_ = std::make_shared<Listener>(io_, std::move(acceptor), limits, handler_, durability_,
                                           options_.on_response, registry_);
    listener_->Accept();

    if (options_.stop_on_signals) {
      signals_.emplace(io_, SIGINT, SIGTERM);
      signals_->async_wait([this](beast::error_code wait_ec, int signal) {
        if (wait_ec) return;
        ServerLog().Info("signal received, finishing in-flight requests",
                         {{"signal", signal == SIGINT ? "SIGINT" : "SIGTERM"}});
        Shutdown();
      });
    }
    return Status::Ok();
  }

  // Graceful: stop accepting, let every connection finish the request it is
  // in, then stop; whatever is still open after the grace period is dropped.
  void Shutdown() {
    net::post(io_, [this] {
      if (shutdown_timer_) return;
      listener_->Close();
      for (const auto& session : registry_.Live()) session->BeginShutdown();
      shutdown_deadline_ = std::chrono::steady_clock::now() + options_.shutdown_grace;
      shutdown_timer_.emplace(io_);
      WaitForSessions();
    });
  }

  void Run() {
    std::vector<std::thread> threads;
    threads.reserve(ThreadCount() - 1);
    for (unsigned i = 1; i < ThreadCount(); ++i) threads.emplace_back([this] { RunLoop(); });
    RunLoop();
    for (std::thread& thread : threads) thread.join();
  }

  void Stop() { io_.stop(); }

  void WaitForSessions() {
    if (registry_.size() == 0 || std::chrono::steady_clock::now() >= shutdown_deadline_) {
      io_.stop();
      return;
    }
    shutdown_timer_->expires_after(std::chrono::milliseconds(20));
    shutdown_timer_->async_wait([this](beast::error_code) { WaitForSessions(); });
  }

  std::string address() const { return bound_.address().to_string(); }
  std::uint16_t port() const { return bound_.port(); }

 private:
  unsigned ThreadCount() const { return options_.threads == 0 ? 1 : options_.threads; }

  // Handlers report errors as values; an exception here is a bug or resource
  // exhaustion in one handler, which must not take the whole server down.
  void RunLoop() {
    for (;;) {
      try {
        io_.run();
        return;
      } catch (const std::exception& e) {
        ServerLog().Error("handler failed", {{"error", e.what()}});
      }
    }
  }

  // A literal address is used as is; a name is resolved, preferring IPv4
  // (so "localhost" means 127.0.0.1, which is what clients try first).
  Status Resolve(tcp::endpoint* endpoint) {
    beast::error_code ec;
    const net::ip::address literal = net::ip::make_address(options_.host, ec);
    if (!ec) {
      *endpoint = tcp::endpoint(literal, options_.port);
      return Status::Ok();
    }
    tcp::resolver resolver(io_);
    const auto results = resolver.resolve(options_.host, std::to_string(options_.port),
                                          tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec || results.empty()) {
      return Status::InvalidArgument("cannot resolve host '" + options_.host + "': " +
                                     (ec ? ec.message() : std::string("no addresses")));
    }
    *endpoint = results.begin()->endpoint();
    for (const auto& entry : results) {
      if (entry.endpoint().address().is_v4()) {
        *endpoint = entry.endpoint();
        break;
      }
    }
    return Status::Ok();
  }

  const HttpServerOptions options_;
  const RequestHandler handler_;
  Durability* const durability_;
  net::io_context io_;  // its destructor frees pending handlers, and with them the sessions
  std::optional<net::signal_set> signals_;
  SessionRegistry registry_;
  std::shared_ptr<Listener> listener_;
  std::optional<net::steady_timer> shutdown_timer_;  // set once Shutdown began
  std::chrono::steady_clock::time_point shutdown_deadline_;
  tcp::endpoint bound_;
};

HttpServer::HttpServer(HttpServerOptions options, ServiceContext& context)
    : HttpServer(std::move(options), [&context](const HttpRequest& request) { return Route(request, context); },
                 context.log) {}

HttpServer::HttpServer(HttpServerOptions options, RequestHandler handler, Durability* durability)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler), durability)) {}

HttpServer::~HttpServer() = default;

Status HttpServer::Start() { return impl_->Start(); }
void HttpServer::Run() { impl_->Run(); }
void HttpServer::Stop() { impl_->Stop(); }
void HttpServer::Shutdown() { impl_->Shutdown(); }
std::string HttpServer::address() const { return impl_->address(); }
std::uint16_t HttpServer::port() const { return impl_->port(); }

}  // namespace idrecon
