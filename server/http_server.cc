// HttpServer (http_server.h): the listener, on the model of Beast's
// example/advanced/server — binds, accepts each connection onto a strand of
// its own and hands it to a Session (session.h), enforces the connection
// limit, runs the I/O threads, and stops on signals. Asio is included here
// and in session.cc only; Beast's HTTP code in session.cc only.

#include "server/http_server.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>

#include <csignal>
#include <exception>
#include <optional>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "server/logger.h"
#include "server/router.h"
#include "server/session.h"

namespace idrecon {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

const Logger& ListenerLog() {
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

// Accepts connections; each gets its own strand and Session.
class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(net::io_context& io, tcp::acceptor&& acceptor, std::size_t max_connections, const SessionConfig& sessions,
           SessionRegistry& registry)
      : io_(io),
        acceptor_(std::move(acceptor)),
        retry_timer_(acceptor_.get_executor()),
        max_connections_(max_connections),
        sessions_(sessions),
        registry_(registry) {}

  void Accept() {
    acceptor_.async_accept(net::make_strand(io_), [self = shared_from_this()](error_code ec, tcp::socket socket) {
      self->OnAccept(ec, std::move(socket));
    });
  }

  // Stops accepting; connections already accepted carry on.
  void Close() {
    net::dispatch(acceptor_.get_executor(), [self = shared_from_this()] {
      error_code ignored;
      self->closed_ = true;
      self->retry_timer_.cancel();
      self->acceptor_.close(ignored);
    });
  }

 private:
  void OnAccept(error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || closed_) return;
    if (ec) {
      // E.g. out of file descriptors: back off briefly instead of spinning.
      ListenerLog().Error("accept failed", {{"error", ec.message()}});
      retry_timer_.expires_after(std::chrono::milliseconds(100));
      retry_timer_.async_wait([self = shared_from_this()](error_code wait_ec) {
        if (!wait_ec && !self->closed_) self->Accept();
      });
      return;
    }
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);  // small responses; don't wait for Nagle
    if (registry_.size() >= max_connections_) {
      RefuseConnection(std::move(socket));
    } else {
      StartSession(std::move(socket), sessions_, registry_);
    }
    Accept();
  }

  // Over the connection limit: a canned 503, then close. The socket lives
  // in the write's completion handler; served connections are untouched.
  static void RefuseConnection(tcp::socket socket) {
    auto held = std::make_shared<tcp::socket>(std::move(socket));
    net::async_write(*held, net::buffer(kTooManyConnections.data(), kTooManyConnections.size()),
                     [held](error_code, std::size_t) {
                       error_code ignored;
                       held->shutdown(tcp::socket::shutdown_both, ignored);
                       held->close(ignored);
                     });
  }

  net::io_context& io_;
  tcp::acceptor acceptor_;  // on its own strand, shared with retry_timer_ and Close()
  net::steady_timer retry_timer_;
  const std::size_t max_connections_;
  const SessionConfig& sessions_;
  SessionRegistry& registry_;
  bool closed_ = false;
};

SessionConfig MakeSessionConfig(const HttpServerOptions& options, RequestHandler handler, Durability* durability) {
  SessionConfig config;
  config.limits = {options.max_body_bytes, options.max_header_bytes, options.idle_timeout, options.header_timeout,
                   options.max_requests_per_connection == 0 ? 1 : options.max_requests_per_connection};
  config.handler = std::move(handler);
  config.durability = durability;
  config.observer = options.on_response;
  return config;
}

}  // namespace

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions options, RequestHandler handler, Durability* durability)
      : options_(std::move(options)),
        sessions_(MakeSessionConfig(options_, std::move(handler), durability)),
        io_(static_cast<int>(ThreadCount())) {}

  Status Start() {
    tcp::endpoint endpoint;
    if (Status s = Resolve(&endpoint); !s.ok()) return s;

    // On its own strand: accept completions, the retry timer and Close() never overlap.
    tcp::acceptor acceptor(net::make_strand(io_));
    error_code ec;
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

    listener_ = std::make_shared<Listener>(io_, std::move(acceptor), options_.max_connections, sessions_, registry_);
    listener_->Accept();

    if (options_.stop_on_signals) {
      signals_.emplace(io_, SIGINT, SIGTERM);
      signals_->async_wait([this](error_code wait_ec, int signal) {
        if (wait_ec) return;
        ListenerLog().Info("signal received, finishing in-flight requests",
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
      registry_.BeginShutdown();
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

  std::string address() const { return bound_.address().to_string(); }
  std::uint16_t port() const { return bound_.port(); }

 private:
  unsigned ThreadCount() const { return options_.threads == 0 ? 1 : options_.threads; }

  void WaitForSessions() {
    if (registry_.size() == 0 || std::chrono::steady_clock::now() >= shutdown_deadline_) {
      io_.stop();
      return;
    }
    shutdown_timer_->expires_after(std::chrono::milliseconds(20));
    shutdown_timer_->async_wait([this](error_code) { WaitForSessions(); });
  }

  // Handlers report errors as values; an exception here is a bug or resource
  // exhaustion in one handler, which must not take the whole server down.
  void RunLoop() {
    for (;;) {
      try {
        io_.run();
        return;
      } catch (const std::exception& e) {
        ListenerLog().Error("handler failed", {{"error", e.what()}});
      }
    }
  }

  // A literal address is used as is; a name is resolved, preferring IPv4
  // (so "localhost" means 127.0.0.1, which is what clients try first).
  Status Resolve(tcp::endpoint* endpoint) {
    error_code ec;
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
  // Declared before io_, so they outlive it: destroying io_ destroys the
  // sessions its pending handlers still hold, and each one's destructor
  // uses the registry (and the configuration until then).
  const SessionConfig sessions_;
  SessionRegistry registry_;
  net::io_context io_;
  std::optional<net::signal_set> signals_;
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
