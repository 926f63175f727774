// The idrecon-tool command line: parses arguments, runs one subcommand,
// prints its results and returns the process exit status.
//
// Contract: `idrecon-tool <command> [options]` with commands import, export,
// rebuild, verify, stats and backup (usage texts in cli.cc). Options are --name VALUE or
// --name=VALUE. `--help` (or `help <command>`) prints the usage on stdout and
// exits 0. Exit status: 0 done (verify: sound), 1 the work failed or verify
// found a violation, 2 bad arguments (unknown command or option, missing or
// conflicting option, bad value) with a clear message on stderr.
// Results go to stdout (import: one line per malformed row and per repair;
// export: the rows unless --out; rebuild: "<sha256>  <snapshot path>";
// verify: one line per violation; stats: the report); summaries and timings
// go to stderr. Every command but backup needs the server stopped (the data
// directory's lock refuses a running one).
//
// Thread-safety: call from one thread.
#pragma once

#include <string_view>
#include <vector>

namespace idrecon::tools {

int RunTool(const std::vector<std::string_view>& args);

}  // namespace idrecon::tools
