// HttpRequest / HttpResponse: the transport-free view of one HTTP exchange
// that the router works on. No Beast types, so routing compiles and is tested
// without Asio.
//
// HttpRequest only borrows: its views point into the session's parser and are
// valid until the handler returns. HttpResponse owns its bytes so it can be
// completed later (e.g. parked until a log commit) on another thread.
//
// Thread-safety: plain values.
#pragma once

#include <string>
#include <string_view>

#include "engine/change.h"

namespace idrecon {

struct HttpRequest {
  std::string_view method;  // as sent, e.g. "POST"
  std::string_view target;  // request-target, e.g. "/contacts/7?x=1"
  std::string_view body;
  std::string_view authorization;  // the Authorization header; empty if absent
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string allow;  // the Allow header (405 only); empty = no header
  // The response shows state that changes up to this seq shaped; it may
  // leave only once they are durable (docs/api.md §4). 0: nothing to wait for.
  Seq durable_after = 0;
  // Which endpoint answered, for metrics: "identify", "contacts", "health",
  // "metrics" or "other". Always a string literal.
  std::string_view endpoint = "other";
  // Extra response header (401 only): WWW-Authenticate.
  std::string www_authenticate;
};

}  // namespace idrecon
