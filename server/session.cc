// Session (session.h): one connection, on the model of Beast's
// example/advanced/server. The only translation unit that includes Beast's
// HTTP parser and serializer (they dominate build time).

#include "server/session.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <exception>
#include <optional>
#include <string>
#include <string_view>
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

constexpr std::size_t kFirstReadBytes = 4096;

const Logger& SessionLog() {
  static const Logger logger;
  return logger;
}

std::string_view ToStd(beast::string_view s) { return std::string_view(s.data(), s.size()); }

bool IsHttpParseError(const beast::error_code& ec) {
  return ec.category() == beast::http::make_error_code(http::error::bad_method).category();
}

}  // namespace

// One connection. Invariant: every member is touched only from the
// connection's strand (the socket's executor), and at most one read or one
// write is in flight, which is what keeps responses in request order.
//
// The write path is SendResponse(), separate from request handling, so a
// response can be completed later: SendWhenDurable parks it and posts
// SendResponse back to this strand once its changes are durable. Until then
// the session simply does not read the next request.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, const SessionConfig& config, SessionRegistry& registry)
      : stream_(std::move(socket)),
        limits_(config.limits),
        handler_(config.handler),
        durability_(config.durability),
        observer_(config.observer),
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
      SessionLog().Error("request failed", {{"error", e.what()}});
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
  const RequestHandler& handler_;  // in the server's SessionConfig, which outlives sessions
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

std::size_t SessionRegistry::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sessions_.size();
}

void SessionRegistry::Add(Session* session, std::weak_ptr<Session> weak) {
  std::lock_guard<std::mutex> lock(mu_);
  sessions_.emplace(session, std::move(weak));
}

void SessionRegistry::Remove(Session* session) {
  std::lock_guard<std::mutex> lock(mu_);
  sessions_.erase(session);
}

void SessionRegistry::BeginShutdown() {
  // Strong references taken under the lock, used outside it: a session's
  // destructor (which takes the lock) may run when the last one is dropped.
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard<std::mutex> lock(mu_);
    live.reserve(sessions_.size());
    for (auto& [raw, weak] : sessions_) {
      if (auto strong = weak.lock()) live.push_back(std::move(strong));
    }
  }
  for (const auto& session : live) session->BeginShutdown();
}

void StartSession(tcp::socket socket, const SessionConfig& config, SessionRegistry& registry) {
  std::make_shared<Session>(std::move(socket), config, registry)->Start();
}

}  // namespace idrecon
