// ServiceContext: what request handling needs from the rest of the process.
//
// Holds references only; whoever builds it (main, a test) owns the pieces and
// keeps them alive longer than any server or router call that uses it.
//
// Thread-safety: the members are themselves thread-safe (Engine is); the
// struct is never modified after construction.
#pragma once

#include "engine/engine.h"

namespace idrecon {

struct ServiceContext {
  Engine& engine;
};

}  // namespace idrecon
