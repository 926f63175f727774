// Tool: runs this build's idrecon-tool (the path comes from the compile
// definition IDRECON_TOOL_PATH, which tests/tools/CMakeLists.txt sets for the
// suites that run it) and returns what it printed and its exit status.
//
// Thread-safety: as RunCommand.
#pragma once

#include <string>
#include <vector>

#include "testing/process.h"

namespace idrecon::testing {

inline CommandResult Tool(std::vector<std::string> args) {
  args.insert(args.begin(), IDRECON_TOOL_PATH);
  return RunCommand(args);
}

}  // namespace idrecon::testing
