// idrecon-load: an HTTP/1.1 load generator for POST /identify (Asio + Beast).
//
//   idrecon-load --target http://127.0.0.1:PORT [--connections 32] [--threads 1]
//                [--duration 10] [--warmup 2] [--rate R] [--seed 1]
//                [--mix repeat=80,new=15,add=4,join=1] [--zipf 0.99]
//                [--preload N] [--check full|shape] [--json FILE] [--busy-poll]
//
// Every connection is keep-alive with one request in flight. Closed loop (no
// --rate): each connection sends its next request as soon as the previous
// answer arrived; latency = answer time - send time. Open loop (--rate R
// requests/s in all): connection c of C sends its k-th request at the
// intended time start + (k + c/C) * C/R; when it is behind (the server
// stalled) it sends at once, but latency is still measured from the intended
// time, so a stall shows in every request it delayed (no coordinated
// omission, as wrk2 does it). Only requests whose send (closed) or intended
// (open) time falls inside the measured window, after --warmup, count.
// --busy-poll: harness threads spin (io_context::poll, connections yield
// until their send time) instead of sleeping on timers and epoll_wait. On
// the 2-vCPU dev VM every sleep/wake-up cost ~20 µs of CPU and of latency,
// so an open-loop run at 30k req/s kept the harness 99% busy and its own
// delays made up ~200 µs of the 260 µs p50 it reported for the null server
// (57 µs with --busy-poll). Each harness thread then takes a whole core.
// The run is bounded: it ends --duration seconds after the warm-up, and is
// cut off 10 s after that whatever the server does.
//
// Every 200 is checked (response_check.h): valid JSON of the docs/api.md §2 shape,
// containing the request's email and phone (--check shape skips the last
// part, for the null server's fixed body), except a value the answer lists
// as "guarded" (dropped by a guarded server, docs/api.md §8). Only loopback
// targets are allowed.
//
// --mix kinds (workload.h): repeat, new, add, join (the realistic ones) and
// wildjoin, junk (bad data that fuses customers: a join without the
// cluster-size limit, and an email with a placeholder phone such as
// "0000000000"), for the guard scenarios of bench/matching.sh. A guarded
// server answers some of those 409 (a merge refused) or 422 (every value
// guarded): they are counted apart (status409=, status422=; "status_409",
// "status_422" in the JSON), not among non200. The result also gives the
// largest cluster any checked answer showed (max_cluster_values=, emails +
// phone numbers of its "contact").
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "bench/load/histogram.h"
#include "bench/load/response_check.h"
#include "bench/load/settings.h"
#include "bench/load/workload.h"

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using idrecon::load::CheckResult;
using idrecon::load::LatencyHistogram;
using idrecon::load::Settings;
using idrecon::load::Usage;
using idrecon::load::Workload;

struct ThreadStats {
  LatencyHistogram hist;
  std::uint64_t completed = 0;  // measured
  std::uint64_t sent_total = 0;
  std::map<unsigned, std::uint64_t> non_200;  // but 409 and 422, counted apart
  std::uint64_t status_409 = 0;               // a guarded server refused a merge
  std::uint64_t status_422 = 0;               // a guarded server dropped every value
  std::size_t max_cluster_values = 0;         // largest "contact" of a checked 200
  std::uint64_t wrong[4] = {0, 0, 0, 0};  // by CheckResult
  std::uint64_t errors = 0;
  std::string first_wrong;
  std::string first_error;
};

struct Shared {
  Settings settings;
  Workload workload;
  std::mutex workload_mu;
  tcp::endpoint endpoint;
  std::string request_head;  // everything up to Content-Length's value
  Clock::time_point start, measure_start, measure_end;
  std::atomic<std::uint64_t> preload_next{0};
  std::atomic<std::uint64_t> preload_done{0};
  std::atomic<bool> stop{false};

  explicit Shared(const Settings& s) : settings(s), workload(MakeOptions(s)) {}
  static Workload::Options MakeOptions(const Settings& s) {
    Workload::Options o;
    o.seed = s.seed;
    o.mix = s.mix;
    o.zipf_exponent = s.zipf;
    return o;
  }
};

double ToSeconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string BuildRequest(const Shared& shared, const std::string& body) {
  std::string r = shared.request_head;
  r += std::to_string(body.size());
  r += "\r\n\r\n";
  r += body;
  return r;
}

// One exchange on `socket`. Returns the status, or 0 on a transport error.
// *keep_alive is false when the server said it closes the connection after
// this response (e.g. its --max-requests-per-connection): not an error, the
// caller reconnects.
net::awaitable<unsigned> Exchange(tcp::socket& socket, beast::flat_buffer& buffer, const std::string& request,
                                  std::string* body, bool* keep_alive, ThreadStats& stats) {
  boost::system::error_code ec;
  co_await net::async_write(socket, net::buffer(request), net::redirect_error(net::use_awaitable, ec));
  if (!ec) {
    http::response_parser<http::string_body> parser;
    // An unguarded server fed wildjoin/junk answers with a cluster of tens of
    // thousands of values (~40 bytes each in JSON): allow that, not only the
    // few hundred bytes of a realistic answer.
    parser.body_limit(std::uint64_t{64} << 20);
    co_await http::async_read(socket, buffer, parser, net::redirect_error(net::use_awaitable, ec));
    if (!ec) {
      *body = std::move(parser.get().body());
      *keep_alive = parser.get().keep_alive();
      co_return parser.get().result_int();
    }
  }
  if (stats.first_error.empty()) stats.first_error = "exchange: " + ec.message();
  co_return 0;
}

net::awaitable<bool> Connect(tcp::socket& socket, const tcp::endpoint& ep, ThreadStats& stats) {
  boost::system::error_code ec;
  co_await socket.async_connect(ep, net::redirect_error(net::use_awaitable, ec));
  if (ec) {
    if (stats.first_error.empty()) stats.first_error = "connect: " + ec.message();
    co_return false;
  }
  socket.set_option(tcp::no_delay(true), ec);
  co_return true;
}

net::awaitable<void> PreloadConnection(Shared& shared, ThreadStats& stats) {
  auto executor = co_await net::this_coro::executor;
  tcp::socket socket(executor);
  if (!co_await Connect(socket, shared.endpoint, stats)) {
    ++stats.errors;
    co_return;
  }
  beast::flat_buffer buffer;
  std::string body;
  while (!shared.stop.load(std::memory_order_relaxed)) {
    if (shared.preload_next.fetch_add(1) >= shared.settings.preload) break;
    idrecon::load::GeneratedRequest req;
    {
      std::lock_guard<std::mutex> lock(shared.workload_mu);
      req = shared.workload.NextNewCustomer();
    }
    bool keep_alive = true;
    const unsigned status =
        co_await Exchange(socket, buffer, BuildRequest(shared, req.body), &body, &keep_alive, stats);
    if (status == 0) {
      ++stats.errors;
      co_return;
    }
    if (!keep_alive) {  // the server closes this one: take a new connection
      boost::system::error_code ignored;
      socket.close(ignored);
      socket = tcp::socket(executor);
      if (!co_await Connect(socket, shared.endpoint, stats)) {
        ++stats.errors;
        co_return;
      }
      buffer.clear();
    }
    if (status != 200) ++stats.non_200[status];
    shared.preload_done.fetch_add(1);
  }
}

net::awaitable<void> LoadConnection(Shared& shared, ThreadStats& stats, unsigned index) {
  auto executor = co_await net::this_coro::executor;
  const Settings& s = shared.settings;
  tcp::socket socket(executor);
  net::steady_timer timer(executor);
  beast::flat_buffer buffer;
  std::string body;
  bool connected = false;
  const bool open_loop = s.rate > 0;
  const auto interval = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(open_loop ? static_cast<double>(s.connections) / s.rate : 0.0));
  Clock::time_point intended =
      shared.start + std::chrono::duration_cast<Clock::duration>(interval * index / std::max(1u, s.connections));
  for (;;) {
    if (shared.stop.load(std::memory_order_relaxed)) break;
    Clock::time_point now = Clock::now();
    if (open_loop) {
      if (intended >= shared.measure_end) break;
      if (intended > now && s.busy_poll) {
        // Yield to the other connections until it is time; no timer, no sleep.
        while (Clock::now() < intended) co_await net::post(executor, net::use_awaitable);
      } else if (intended > now) {
        timer.expires_at(intended);
        boost::system::error_code ec;
        co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
        now = Clock::now();
      }
    } else if (now >= shared.measure_end) {
      break;
    }
    if (!connected) {
      boost::system::error_code ignored;
      socket.close(ignored);
      socket = tcp::socket(executor);
      if (!co_await Connect(socket, shared.endpoint, stats)) {
        ++stats.errors;
        timer.expires_after(std::chrono::milliseconds(10));
        boost::system::error_code ec;
        co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
        continue;
      }
      connected = true;
      buffer.clear();
    }
    idrecon::load::GeneratedRequest req;
    {
      std::lock_guard<std::mutex> lock(shared.workload_mu);
      req = shared.workload.Next();
    }
    const Clock::time_point sent = Clock::now();
    const Clock::time_point from = open_loop ? intended : sent;
    bool keep_alive = true;
    const unsigned status =
        co_await Exchange(socket, buffer, BuildRequest(shared, req.body), &body, &keep_alive, stats);
    const Clock::time_point done = Clock::now();
    if (!keep_alive) connected = false;  // reconnect before the next request
    ++stats.sent_total;
    if (open_loop) intended += interval;
    const bool measured = from >= shared.measure_start && from < shared.measure_end;
    if (status == 0) {
      connected = false;
      if (measured) ++stats.errors;
      continue;
    }
    if (!measured) continue;
    ++stats.completed;
    stats.hist.Record(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(done - from).count()));
    if (status == 409 || status == 422) {
      ++(status == 409 ? stats.status_409 : stats.status_422);
      continue;
    }
    if (status != 200) {
      ++stats.non_200[status];
      continue;
    }
    idrecon::load::CheckedAnswer answer;
    const CheckResult check =
        idrecon::load::CheckIdentifyResponse(body, req.email, req.phone, s.check_values, &answer);
    stats.max_cluster_values = std::max(stats.max_cluster_values, answer.cluster_values);
    if (check != CheckResult::kOk) {
      ++stats.wrong[static_cast<int>(check)];
      if (stats.first_wrong.empty()) {
        stats.first_wrong = std::string(idrecon::load::CheckResultName(check)) + ": request " + req.body +
                            " got " + body.substr(0, 300);
      }
    }
  }
  boost::system::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

// Runs `make(thread, index)` for every connection on `threads` io_contexts,
// until all finish or `deadline` passes.
template <class Make>
void RunPhase(Shared& shared, std::vector<ThreadStats>& stats, unsigned connections, Clock::time_point deadline,
              Make make) {
  const unsigned threads = shared.settings.threads;
  struct Context {
    net::io_context io{1};
    net::steady_timer guard{io};
    unsigned remaining = 0;  // touched only on this context's thread
  };
  std::vector<std::unique_ptr<Context>> contexts;
  for (unsigned t = 0; t < threads; ++t) {
    contexts.push_back(std::make_unique<Context>());
    Context& ctx = *contexts.back();
    ctx.guard.expires_at(deadline);
    ctx.guard.async_wait([&shared, &ctx](const boost::system::error_code& ec) {
      if (!ec) {  // the deadline passed with connections still running: cut them off
        shared.stop = true;
        ctx.io.stop();
      }
    });
  }
  for (unsigned c = 0; c < connections; ++c) {
    Context& ctx = *contexts[c % threads];
    ++ctx.remaining;
    net::co_spawn(ctx.io, make(stats[c % threads], c), [&ctx](const std::exception_ptr&) {
      if (--ctx.remaining == 0) ctx.guard.cancel();
    });
  }
  std::vector<std::thread> workers;
  const bool busy_poll = shared.settings.busy_poll;
  for (unsigned t = 0; t < threads; ++t) {
    workers.emplace_back([&contexts, t, busy_poll] {
      net::io_context& io = contexts[t]->io;
      if (!busy_poll) return static_cast<void>(io.run());
      // --busy-poll: never block in epoll_wait (see the top of this file).
      // Measured on the dev VM: an open-loop request cost the harness 47 µs
      // of CPU at 2-8k req/s, against 15 µs in a saturated closed loop.
      // sched_yield lets a server thread that the scheduler put on this
      // CPU run at once, instead of waiting out this thread's time slice.
      while (!io.stopped()) {
        io.poll();
        sched_yield();
      }
    });
  }
  for (auto& w : workers) w.join();
}

}  // namespace

int main(int argc, char** argv) {
  const Settings settings = idrecon::load::ParseArgs(argc, argv);
  Shared shared(settings);
  {
    // Resolve, and refuse anything but loopback: this tool is for the machine it runs on.
    net::io_context io;
    tcp::resolver resolver(io);
    boost::system::error_code ec;
    const auto results = resolver.resolve(settings.host, settings.port, ec);
    if (ec || results.empty()) Usage(("cannot resolve " + settings.host + ":" + settings.port).c_str());
    for (const auto& r : results) {
      if (!r.endpoint().address().is_loopback()) Usage("only loopback targets (127.0.0.0/8, ::1) are allowed");
    }
    shared.endpoint = results.begin()->endpoint();
  }
  std::string host_header = settings.host.find(':') != std::string::npos ? "[" + settings.host + "]" : settings.host;
  shared.request_head = "POST /identify HTTP/1.1\r\nHost: " + host_header + ":" + settings.port +
                        "\r\nContent-Type: application/json\r\nContent-Length: ";

  std::vector<ThreadStats> stats(settings.threads);
  std::uint64_t preload_errors = 0, preload_non200 = 0;
  double preload_seconds = 0;
  if (settings.preload > 0) {
    const auto t0 = Clock::now();
    RunPhase(shared, stats, settings.connections, t0 + std::chrono::seconds(600),
             [&](ThreadStats& st, unsigned) { return PreloadConnection(shared, st); });
    preload_seconds = ToSeconds(Clock::now() - t0);
    for (auto& st : stats) {
      preload_errors += st.errors;
      for (auto& [code, n] : st.non_200) preload_non200 += n;
      st = ThreadStats{};
    }
    std::fprintf(stderr, "idrecon-load: preloaded %llu customers in %.2f s (%.0f/s), %llu errors, %llu non-200\n",
                 static_cast<unsigned long long>(shared.preload_done.load()), preload_seconds,
                 static_cast<double>(shared.preload_done.load()) / preload_seconds,
                 static_cast<unsigned long long>(preload_errors), static_cast<unsigned long long>(preload_non200));
    if (shared.stop) {
      std::fprintf(stderr, "idrecon-load: preload did not finish\n");
      return 1;
    }
  }

  shared.start = Clock::now();
  auto secs = [](double s) { return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s)); };
  shared.measure_start = shared.start + secs(settings.warmup);
  shared.measure_end = shared.measure_start + secs(settings.duration);
  RunPhase(shared, stats, settings.connections, shared.measure_end + std::chrono::seconds(10),
           [&](ThreadStats& st, unsigned c) { return LoadConnection(shared, st, c); });
  const bool cut_off = shared.stop.load();

  ThreadStats total;
  for (const auto& st : stats) {
    total.hist.Merge(st.hist);
    total.completed += st.completed;
    total.sent_total += st.sent_total;
    total.errors += st.errors;
    for (int i = 0; i < 4; ++i) total.wrong[i] += st.wrong[i];
    for (const auto& [code, n] : st.non_200) total.non_200[code] += n;
    total.status_409 += st.status_409;
    total.status_422 += st.status_422;
    total.max_cluster_values = std::max(total.max_cluster_values, st.max_cluster_values);
    if (total.first_wrong.empty()) total.first_wrong = st.first_wrong;
    if (total.first_error.empty()) total.first_error = st.first_error;
  }
  std::uint64_t non200 = 0, wrong = 0;
  for (const auto& [code, n] : total.non_200) non200 += n;
  for (int i = 1; i < 4; ++i) wrong += total.wrong[i];
  const double qps = static_cast<double>(total.completed) / settings.duration;
  const auto& h = total.hist;

  std::printf(
      "mode=%s rate=%.0f connections=%u threads=%u duration=%.1f qps=%.0f requests=%llu p50_us=%llu p90_us=%llu "
      "p99_us=%llu p999_us=%llu max_us=%llu mean_us=%.1f non200=%llu wrong=%llu errors=%llu status409=%llu "
      "status422=%llu max_cluster_values=%llu cut_off=%d\n",
      settings.rate > 0 ? "open" : "closed", settings.rate, settings.connections, settings.threads,
      settings.duration, qps, static_cast<unsigned long long>(total.completed),
      static_cast<unsigned long long>(h.Percentile(50)), static_cast<unsigned long long>(h.Percentile(90)),
      static_cast<unsigned long long>(h.Percentile(99)), static_cast<unsigned long long>(h.Percentile(99.9)),
      static_cast<unsigned long long>(h.max()), h.mean(), static_cast<unsigned long long>(non200),
      static_cast<unsigned long long>(wrong), static_cast<unsigned long long>(total.errors),
      static_cast<unsigned long long>(total.status_409), static_cast<unsigned long long>(total.status_422),
      static_cast<unsigned long long>(total.max_cluster_values), cut_off ? 1 : 0);
  if (!total.first_error.empty()) std::fprintf(stderr, "idrecon-load: first transport error: %s\n", total.first_error.c_str());
  if (!total.first_wrong.empty()) std::fprintf(stderr, "idrecon-load: first wrong answer: %s\n", total.first_wrong.c_str());

  if (!settings.json_path.empty()) {
    std::ofstream out(settings.json_path);
    out << "{\"target\":\"http://" << host_header << ":" << settings.port << "\",\"mode\":\""
        << (settings.rate > 0 ? "open" : "closed") << "\",\"rate\":" << settings.rate
        << ",\"connections\":" << settings.connections << ",\"threads\":" << settings.threads
        << ",\"busy_poll\":" << (settings.busy_poll ? "true" : "false")
        << ",\"duration_s\":" << settings.duration << ",\"warmup_s\":" << settings.warmup
        << ",\"seed\":" << settings.seed << ",\"mix\":\"" << settings.mix_spec << "\",\"zipf\":" << settings.zipf
        << ",\"preload\":" << settings.preload << ",\"preload_seconds\":" << preload_seconds
        << ",\"check\":\"" << (settings.check_values ? "full" : "shape") << "\",\"requests\":" << total.completed
        << ",\"qps\":" << qps << ",\"latency_us\":{\"p50\":" << h.Percentile(50) << ",\"p90\":" << h.Percentile(90)
        << ",\"p99\":" << h.Percentile(99) << ",\"p99_9\":" << h.Percentile(99.9) << ",\"max\":" << h.max()
        << ",\"min\":" << h.min() << ",\"mean\":" << h.mean() << "},\"non_200\":{";
    bool first = true;
    for (const auto& [code, n] : total.non_200) {
      out << (first ? "" : ",") << "\"" << code << "\":" << n;
      first = false;
    }
    out << "},\"non_200_total\":" << non200 << ",\"wrong_answers\":" << wrong << ",\"wrong_by_kind\":{\"not_json\":"
        << total.wrong[1] << ",\"bad_shape\":" << total.wrong[2] << ",\"missing_value\":" << total.wrong[3]
        << "},\"errors\":" << total.errors << ",\"status_409\":" << total.status_409
        << ",\"status_422\":" << total.status_422 << ",\"max_cluster_values\":" << total.max_cluster_values
        << ",\"cut_off\":" << (cut_off ? "true" : "false") << "}\n";
    if (!out) {
      std::fprintf(stderr, "idrecon-load: cannot write %s\n", settings.json_path.c_str());
      return 1;
    }
  }
  return (wrong > 0 || cut_off) ? 1 : 0;
}
