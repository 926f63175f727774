// idrecon-tool: import, export, rebuild, verify and stats on the data
// directory of a stopped idrecon-server, and backup of a running one's
// (docs/api.md §5). See tools/cli.h.
#include <cstdio>
#include <exception>
#include <string_view>
#include <vector>

#include "tools/cli.h"

int main(int argc, char** argv) {
  try {
    return idrecon::tools::RunTool(std::vector<std::string_view>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "idrecon-tool: fatal: %s\n", e.what());
    return 1;
  }
}
