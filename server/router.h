// Route: maps one HTTP request to its response (docs/api.md §2–§3). Pure: no
// sockets, no Beast; everything it needs arrives in the request and context.
//
// Endpoints (the query string, "?..." in the target, is ignored):
//   POST /identify        → 200 cluster JSON, 400 on a bad body (docs/api.md §2);
//                           422 when every value is guarded, 409 when the
//                           cluster cap refuses the merge (docs/api.md §8)
//   POST /lookup          → 200 what /identify would do, changing nothing (§7)
//   GET|PUT|DELETE /guard → the guarded values; guard one; unguard one (§8)
//   GET  /health          → 200 {"status":"ok"}; after the log's sticky error
//                           503 {"status":"unavailable","error":"storage error"}
//                           (the endpoint needs no token, so it never shows the
//                           storage layer's own message)
//   GET  /metrics         → 200 Prometheus text; 404 when context.metrics is null
//   GET  /contacts/{id}   → 200 the contact row, 404 for an id that does not
//                           exist or is not a decimal number in 1..2^32-1
//                           (leading zeros are accepted: /contacts/007 is 7)
// HEAD is answered like GET on the GET endpoints (the transport sends the
// headers only). An unknown path is 404; a known path with another method is
// 405 with an Allow header ("POST" or "GET, HEAD"). Methods are
// case-sensitive (RFC 9110). Every error body is
// {"error":"<message for a person>"} with Content-Type application/json.
// After the log's sticky error, an /identify that would change something is
// 503 (its message names the storage error: that endpoint is behind the
// token when auth is on); one that changes nothing is still answered. A 200
// carries durable_after: the transport holds it until then. Engine errors map
// to statuses: InvalidArgument → 400, NotFound → 404, Unavailable → 503,
// anything else → 500.
//
// With context.auth_token set, every endpoint but /health first requires
// "Authorization: Bearer <token>"; otherwise 401 with WWW-Authenticate.
//
// Thread-safety: Route may run concurrently on any number of threads.
#pragma once

#include <cstddef>
#include <string_view>

#include "server/http_message.h"
#include "server/service_context.h"

namespace idrecon {

HttpResponse Route(const HttpRequest& request, ServiceContext& context);

// True when `presented` equals `expected`, in time that depends only on the
// lengths (for bearer tokens).
bool TokenMatches(std::string_view presented, std::string_view expected);

// {"error": message} with the given status, for every error the server
// produces, in the router or before a request reaches it.
HttpResponse ErrorResponse(int status, std::string_view message);

// Responses the transport produces when a request cannot be routed at all.
HttpResponse PayloadTooLargeResponse(std::size_t max_body_bytes);  // 413
HttpResponse HeaderTooLargeResponse(std::size_t max_header_bytes);  // 431
HttpResponse MalformedRequestResponse();                            // 400
HttpResponse InternalErrorResponse();                               // 500

}  // namespace idrecon
