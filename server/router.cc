#include "server/router.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "api/contact_json.h"
#include "api/identify_request.h"
#include "api/json_writer.h"
#include "api/matching_json.h"
#include "api/response_json.h"

namespace idrecon {
namespace {

constexpr std::string_view kContactsPrefix = "/contacts/";

HttpResponse JsonResponse(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

HttpResponse MethodNotAllowed(std::string_view allowed) {
  HttpResponse response = ErrorResponse(405, "method not allowed; this path accepts " + std::string(allowed));
  response.allow = std::string(allowed);
  return response;
}

// Maps an engine error to its HTTP status. InvalidArgument is the client's
// fault; NotFound is a missing contact; Unavailable is the service refusing
// work (the engine refuses changes after the log's sticky error).
HttpResponse EngineErrorResponse(const Status& status) {
  switch (status.code()) {
    case Status::Code::kInvalidArgument: return ErrorResponse(400, status.message());
    case Status::Code::kNotFound: return ErrorResponse(404, status.message());
    case Status::Code::kUnavailable: return ErrorResponse(503, status.message());
    default: return InternalErrorResponse();
  }
}

std::string IdentifyBody(const ClusterView& cluster) {
  std::string body;
  body.reserve(128);
  AppendClusterJson(cluster, &body);
  return body;
}

std::string ContactBody(const ContactRow& row) {
  std::string body;
  body.reserve(256);
  AppendContactJson(row, &body);
  return body;
}

bool LogFailed(const ServiceContext& context) { return context.log != nullptr && context.log->failed(); }

std::string LogFailure(const ServiceContext& context) {
  return "the mutation log cannot record changes (" + context.log->error().message() +
         "); lookups of stored data still work, changes are refused until the server is restarted";
}

// The guard's refusals (docs/api.md §8): 422 when every value is guarded,
// 409 with both primaries when the cluster cap refuses a merge.
HttpResponse GuardRefusal(const Status& s, std::uint8_t guarded, const ContactId cap_clusters[2],
                          ServiceContext& context) {
  if (s.IsGuarded()) {
    if (context.metrics != nullptr) context.metrics->CountGuarded(guarded);
    return ErrorResponse(422, s.message());
  }
  if (context.metrics != nullptr) {
    context.metrics->CountCapRefusal();
    context.metrics->CountGuarded(guarded);  // a value may have been dropped first
  }
  std::string body;
  AppendClusterCapJson(s.message(), cap_clusters, &body);
  return JsonResponse(409, std::move(body));
}

HttpResponse HandleIdentify(const HttpRequest& request, ServiceContext& context) {
  IdentifyRequest parsed;
  if (Status s = ParseIdentifyRequest(request.body, &parsed); !s.ok()) return EngineErrorResponse(s);
  thread_local IdentifyOutcome outcome;  // reused: its vectors keep their capacity
  IdentifyQuery query{parsed.email, parsed.phone};
  // After a failed commit memory is ahead of the disk: nothing new may be
  // accepted, but a request that changes nothing can still be answered.
  query.allow_changes = !LogFailed(context);
  if (Status s = context.engine.Identify(query, &outcome); !s.ok()) {
    if (s.IsUnavailable() && LogFailed(context)) return ErrorResponse(503, LogFailure(context));
    if (s.IsGuarded() || s.IsClusterCap()) return GuardRefusal(s, outcome.guarded, outcome.cap_clusters, context);
    return EngineErrorResponse(s);
  }
  const bool normalizes = context.engine.match_keys().normalizes();
  HttpResponse response;
  if (outcome.guarded == 0 && !normalizes) {
    response = JsonResponse(200, IdentifyBody(outcome.cluster));
  } else {
    if (context.metrics != nullptr) context.metrics->CountGuarded(outcome.guarded);
    std::string body;
    body.reserve(192);
    AppendIdentifyJson(outcome, normalizes, &body);
    response = JsonResponse(200, std::move(body));
  }
  response.durable_after = outcome.depends_on_seq;
  return response;
}

HttpResponse HandleLookup(const HttpRequest& request, ServiceContext& context) {
  IdentifyRequest parsed;
  if (Status s = ParseIdentifyRequest(request.body, &parsed); !s.ok()) return EngineErrorResponse(s);
  thread_local LookupOutcome outcome;
  if (Status s = context.engine.Lookup(IdentifyQuery{parsed.email, parsed.phone}, &outcome); !s.ok()) {
    if (s.IsGuarded()) return GuardRefusal(s, outcome.guarded, nullptr, context);
    return EngineErrorResponse(s);
  }
  if (context.metrics != nullptr) context.metrics->CountGuarded(outcome.guarded);
  std::string body;
  body.reserve(256);
  AppendLookupJson(outcome, context.engine.match_keys().normalizes(), &body);
  HttpResponse response = JsonResponse(200, std::move(body));
  response.durable_after = outcome.depends_on_seq;  // like every read: durable data only
  return response;
}

// GET, PUT and DELETE /guard (docs/api.md §8).
HttpResponse HandleGuard(const HttpRequest& request, ServiceContext& context) {
  if (request.method == "GET" || request.method == "HEAD") {
    std::vector<GuardEntry> entries;
    context.engine.ListGuards(&entries);
    Seq depends_on = 0;
    for (const GuardEntry& e : entries) depends_on = std::max(depends_on, e.seq);
    std::string body;
    AppendGuardListJson(entries, &body);
    HttpResponse response = JsonResponse(200, std::move(body));
    response.durable_after = depends_on;
    return response;
  }
  const bool put = request.method == "PUT";
  if (!put && request.method != "DELETE") return MethodNotAllowed("GET, HEAD, PUT, DELETE");
  GuardRequest parsed;
  if (Status s = ParseGuardRequest(request.body, &parsed); !s.ok()) return EngineErrorResponse(s);
  if (LogFailed(context)) return ErrorResponse(503, LogFailure(context));
  GuardEntry entry;
  std::vector<ClusterView> clusters;
  Status s;
  if (put) {
    bool changed = false;
    s = context.engine.Guard(parsed.field, parsed.value, parsed.split, true, &entry, &changed, &clusters);
  } else {
    s = context.engine.Unguard(parsed.field, parsed.value, true, &entry, &clusters);
  }
  if (!s.ok()) return EngineErrorResponse(s);
  // With split (PUT), or undoing one (DELETE): what the clusters became.
  const bool show_clusters = put ? parsed.split : entry.split;
  std::string body;
  AppendGuardEntryJson(entry, show_clusters ? &clusters : nullptr, &body);
  HttpResponse response = JsonResponse(200, std::move(body));
  response.durable_after = entry.seq;  // the clusters' change is the guard change itself
  return response;
}

HttpResponse HandleHealth(const ServiceContext& context) {
  if (!LogFailed(context)) return JsonResponse(200, R"({"status":"ok"})");
  // /health is open to anyone who can reach the port: it says that storage
  // failed, never how (the storage layer's text names files and errors).
  return JsonResponse(503, R"({"status":"unavailable","error":"storage error"})");
}

// Decimal digits only, 1..UINT32_MAX; anything else is "no such contact".
bool ParseContactId(std::string_view text, ContactId* id) {
  if (text.empty()) return false;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
    if (value > UINT32_MAX) return false;
  }
  if (value == 0) return false;
  *id = static_cast<ContactId>(value);
  return true;
}

HttpResponse HandleGetContact(std::string_view id_text, ServiceContext& context) {
  ContactId id = 0;
  if (!ParseContactId(id_text, &id)) {
    // The id is the client's bytes, not validated: keep the JSON valid UTF-8.
    return ErrorResponse(404, "no contact with id '" + ReplaceInvalidUtf8(id_text) + "'");
  }
  ContactRow row;
  const Status s = context.engine.GetContact(id, &row);
  if (s.IsNotFound()) return ErrorResponse(404, "no contact with id " + std::to_string(id));
  if (!s.ok()) return EngineErrorResponse(s);
  HttpResponse response = JsonResponse(200, ContactBody(row));
  response.durable_after = row.depends_on_seq;
  return response;
}

}  // namespace

HttpResponse ErrorResponse(int status, std::string_view message) {
  std::string body;
  body.reserve(message.size() + 16);
  AppendErrorJson(message, &body);
  return JsonResponse(status, std::move(body));
}

HttpResponse PayloadTooLargeResponse(std::size_t max_body_bytes) {
  return ErrorResponse(413, "request body is larger than " + std::to_string(max_body_bytes) + " bytes");
}

HttpResponse HeaderTooLargeResponse(std::size_t max_header_bytes) {
  return ErrorResponse(431, "request header is larger than " + std::to_string(max_header_bytes) + " bytes");
}

HttpResponse MalformedRequestResponse() { return ErrorResponse(400, "malformed HTTP request"); }

HttpResponse InternalErrorResponse() { return ErrorResponse(500, "internal server error"); }

namespace {

HttpResponse Tagged(HttpResponse response, std::string_view endpoint) {
  response.endpoint = endpoint;
  return response;
}

HttpResponse RouteAuthorized(const HttpRequest& request, std::string_view path, ServiceContext& context) {
  if (path == "/identify") {
    if (request.method != "POST") return MethodNotAllowed("POST");
    return HandleIdentify(request, context);
  }
  if (path == "/lookup") {
    if (request.method != "POST") return MethodNotAllowed("POST");
    return HandleLookup(request, context);
  }
  if (path == "/guard") return HandleGuard(request, context);
  // GET endpoints answer HEAD like GET; the transport drops the body.
  const bool get = request.method == "GET" || request.method == "HEAD";
  if (path == "/metrics" && context.metrics != nullptr) {
    if (!get) return MethodNotAllowed("GET, HEAD");
    HttpResponse response = JsonResponse(200, context.metrics->Render());
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return response;
  }
  if (path.starts_with(kContactsPrefix)) {
    const std::string_view id_text = path.substr(kContactsPrefix.size());
    // One non-empty segment: /contacts/{id}. "/contacts/" or "/contacts/1/x"
    // are other (unknown) paths.
    if (!id_text.empty() && id_text.find('/') == std::string_view::npos) {
      if (!get) return MethodNotAllowed("GET, HEAD");
      return HandleGetContact(id_text, context);
    }
  }
  return ErrorResponse(404, "no such endpoint: " + ReplaceInvalidUtf8(path));
}

std::string_view EndpointOf(std::string_view path) {
  if (path == "/identify") return "identify";
  if (path == "/lookup") return "lookup";
  if (path == "/guard") return "guard";
  if (path == "/health") return "health";
  if (path == "/metrics") return "metrics";
  if (path.starts_with(kContactsPrefix)) return "contacts";
  return "other";
}

}  // namespace

bool TokenMatches(std::string_view presented, std::string_view expected) {
  // Constant time in the presented token's content: every byte of the
  // longer of the two is looked at, and the result is accumulated without
  // branches, so timing does not reveal how much of a guess was right.
  const std::size_t n = std::max(presented.size(), expected.size());
  unsigned char diff = presented.size() == expected.size() ? 0 : 1;
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char a = i < presented.size() ? static_cast<unsigned char>(presented[i]) : 0;
    const unsigned char b = i < expected.size() ? static_cast<unsigned char>(expected[i]) : 0;
    diff = static_cast<unsigned char>(diff | (a ^ b));
  }
  return diff == 0;
}

HttpResponse Route(const HttpRequest& request, ServiceContext& context) {
  std::string_view path = request.target;
  if (const std::size_t query = path.find('?'); query != std::string_view::npos) path = path.substr(0, query);
  const std::string_view endpoint = EndpointOf(path);

  if (path == "/health") {  // open to load balancers even with auth on
    const bool get = request.method == "GET" || request.method == "HEAD";
    return Tagged(get ? HandleHealth(context) : MethodNotAllowed("GET, HEAD"), endpoint);
  }
  if (!context.auth_token.empty()) {
    constexpr std::string_view kBearer = "Bearer ";
    const std::string_view auth = request.authorization;
    if (auth.size() <= kBearer.size() || auth.substr(0, kBearer.size()) != kBearer ||
        !TokenMatches(auth.substr(kBearer.size()), context.auth_token)) {
      HttpResponse response = ErrorResponse(401, auth.empty() ? "this server requires an Authorization: Bearer token"
                                                              : "the bearer token is not valid");
      response.www_authenticate = R"(Bearer realm="idrecon")";
      return Tagged(std::move(response), endpoint);
    }
  }
  return Tagged(RouteAuthorized(request, path, context), endpoint);
}

}  // namespace idrecon
