// ServiceContext: what request handling needs from the rest of the process.
//
// Holds references only; whoever builds it (main, a test) owns the pieces and
// keeps them alive longer than any server or router call that uses it.
//
// Thread-safety: the members are themselves thread-safe (Engine is); the
// struct is never modified after construction.
#pragma once

#include <string>

#include "engine/engine.h"
#include "persistence/durability.h"
#include "server/metrics.h"

namespace idrecon {

struct ServiceContext {
  Engine& engine;
  // The durable log behind the engine; null for a purely in-memory service
  // (router tests). Responses wait for it; after its sticky error, changes
  // are refused with 503 and /health reports the error.
  Durability* log = nullptr;
  // Rendered by GET /metrics; null: /metrics is 404.
  ServiceMetrics* metrics = nullptr;
  // When non-empty, every endpoint but /health requires
  // "Authorization: Bearer <auth_token>" (compared in constant time).
  std::string auth_token;
};

}  // namespace idrecon
