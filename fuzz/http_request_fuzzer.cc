// Fuzz target: raw HTTP/1.1 bytes → Beast's request parser (with the limits
// HttpServer sets) → Route() over a real in-memory Engine.
//
// The input is a byte stream as a client would send it; like the server, a
// fresh parser reads each pipelined request in turn. Every routed request is
// answered twice: by a context without auth (and with /metrics) and by one
// that requires a bearer token ("fuzz-token"; seeds carry it).
//
// Properties: the parser and Route never crash; every status is one the
// server documents; a JSON response body is valid JSON, an error body is
// {"error": string}; 405 carries Allow, 401 WWW-Authenticate; a 200 from
// /identify has the §2 shape, one from /lookup its clusters and identify,
// a 409 its two clusters. The engine runs with a small automatic guard and
// cluster cap (docs/api.md §8) so that every answer of /guard is reachable.
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/clock.h"
#include "engine/engine.h"
#include "fuzz/fuzz_check.h"
#include "server/http_message.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "server/router.h"
#include "server/service_context.h"

namespace {

namespace http = boost::beast::http;
using idrecon::HttpRequest;
using idrecon::HttpResponse;

// The limits HttpServer applies by default (HttpServerOptions).
const idrecon::HttpServerOptions kServerDefaults;
constexpr int kMaxRequestsPerInput = 8;

std::string_view ToStd(boost::beast::string_view s) { return {s.data(), s.size()}; }

bool DocumentedStatus(int status) {
  switch (status) {
    case 200: case 400: case 401: case 404: case 405: case 409: case 413: case 422: case 431: case 500: case 503:
      return true;
    default: return false;
  }
}

bool KnownEndpoint(std::string_view e) {
  return e == "identify" || e == "lookup" || e == "guard" || e == "contacts" || e == "health" || e == "metrics" ||
         e == "other";
}

void CheckResponse(const HttpRequest& request, const HttpResponse& response, simdjson::dom::parser& json) {
  const std::string detail = "method '" + std::string(request.method) + "' target '" + std::string(request.target) +
                             "' -> " + std::to_string(response.status) + " " + response.body;
  FUZZ_CHECK(DocumentedStatus(response.status), detail);
  FUZZ_CHECK(KnownEndpoint(response.endpoint), detail);
  FUZZ_CHECK((response.status == 405) == !response.allow.empty(), detail);
  FUZZ_CHECK((response.status == 401) == !response.www_authenticate.empty(), detail);
  if (response.content_type != "application/json") {
    FUZZ_CHECK(response.status == 200 && response.endpoint == "metrics", detail);
    return;
  }
  simdjson::dom::element doc;
  FUZZ_CHECK(json.parse(response.body).get(doc) == simdjson::SUCCESS, "body is not JSON: " + detail);
  simdjson::dom::object object;
  FUZZ_CHECK(doc.get_object().get(object) == simdjson::SUCCESS, "body is not an object: " + detail);
  if (response.status >= 400 && response.endpoint != "health") {
    std::string_view message;
    FUZZ_CHECK(object["error"].get_string().get(message) == simdjson::SUCCESS, "no error string: " + detail);
    FUZZ_CHECK(!message.empty(), detail);
  }
  if (response.status == 409) {
    simdjson::dom::array clusters;
    FUZZ_CHECK(object["clusters"].get_array().get(clusters) == simdjson::SUCCESS && clusters.size() == 2, detail);
  }
  if (response.status == 200 && response.endpoint == "lookup") {
    simdjson::dom::array clusters;
    simdjson::dom::object identify;
    FUZZ_CHECK(object["clusters"].get_array().get(clusters) == simdjson::SUCCESS && clusters.size() <= 2, detail);
    FUZZ_CHECK(object["identify"].get_object().get(identify) == simdjson::SUCCESS, detail);
  }
  if (response.status == 200 && response.endpoint == "identify") {
    simdjson::dom::object contact;
    FUZZ_CHECK(object["contact"].get_object().get(contact) == simdjson::SUCCESS, detail);
    std::uint64_t a = 0, b = 0;
    FUZZ_CHECK(contact["primaryContatctId"].get_uint64().get(a) == simdjson::SUCCESS, detail);
    FUZZ_CHECK(contact["primaryContactId"].get_uint64().get(b) == simdjson::SUCCESS, detail);
    FUZZ_CHECK(a == b && a >= 1, detail);
    simdjson::dom::array emails, phones, secondaries;
    FUZZ_CHECK(contact["emails"].get_array().get(emails) == simdjson::SUCCESS, detail);
    FUZZ_CHECK(contact["phoneNumbers"].get_array().get(phones) == simdjson::SUCCESS, detail);
    FUZZ_CHECK(contact["secondaryContactIds"].get_array().get(secondaries) == simdjson::SUCCESS, detail);
    FUZZ_CHECK(emails.size() + phones.size() >= 1, detail);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  idrecon::ManualClock clock(1'700'000'000'000);
  // A small guard and cluster cap, so that 409, 422 and the guarded
  // answers are reachable from short inputs.
  idrecon::Engine::Options options{&clock, nullptr, 16, nullptr};
  options.guard = idrecon::GuardSettings{3, 4};
  idrecon::Engine engine(options);
  idrecon::ServiceMetrics metrics(&engine, nullptr);
  idrecon::ServiceContext open{engine, nullptr, &metrics, ""};
  idrecon::ServiceContext locked{engine, nullptr, nullptr, "fuzz-token"};
  thread_local simdjson::dom::parser json;

  boost::asio::const_buffer input(data, size);
  for (int i = 0; i < kMaxRequestsPerInput && input.size() > 0; ++i) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(kServerDefaults.max_header_bytes));
    parser.body_limit(kServerDefaults.max_body_bytes);
    boost::beast::error_code ec;
    // Feed what there is, as the server's read loop would.
    while (input.size() > 0 && !parser.is_done()) {
      const std::size_t used = parser.put(input, ec);
      input += used;
      if (ec == http::error::need_more) {
        ec = {};
        if (used == 0) break;
        continue;
      }
      if (ec) break;
      if (used == 0) break;
    }
    if (!ec && !parser.is_done() && input.size() == 0) parser.put_eof(ec);
    if (ec || !parser.is_done()) return 0;  // the server answers 400/413/431 or waits

    const auto& request = parser.get();
    const HttpRequest view{ToStd(request.method_string()), ToStd(request.target()), request.body(),
                           ToStd(request[http::field::authorization])};
    FUZZ_CHECK(view.body.size() <= kServerDefaults.max_body_bytes);
    for (idrecon::ServiceContext* context : {&open, &locked}) {
      const HttpResponse response = idrecon::Route(view, *context);
      CheckResponse(view, response, json);
    }
    clock.Advance(1);
  }
  return 0;
}
