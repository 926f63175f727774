// LoadAuthToken: the bearer token idrecon-server requires, and the start-up
// log lines that say whether it requires one.
//
// Contract: the token is the text of Config::auth_token_file (trailing
// whitespace and newlines trimmed) when that is set, else Config::auth_token
// (IDRECON_AUTH_TOKEN); empty means no authentication. A file that cannot be
// read or holds fewer than 16 characters is an error: logged, and false is
// returned (the server exits 2). On success exactly one info line says
// "auth on" (with where the token came from, never the token) or "auth off";
// with auth off and a listen address that is not loopback, a warning follows,
// because anyone who can reach the port can then read and change contacts.
// A token file readable by everyone is warned about too.
//
// IsLoopbackHost: "localhost", an IPv4 address in 127.0.0.0/8, "::1" or an
// IPv4-mapped ::ffff:127.x.y.z. Anything else (a wildcard, another address, a
// host name, which may resolve anywhere) is not.
//
// Thread-safety: call once at start-up; IsLoopbackHost is pure.
#pragma once

#include <string>
#include <string_view>

#include "server/config.h"
#include "server/logger.h"

namespace idrecon {

bool LoadAuthToken(const Config& config, const Logger& log, std::string* token);

bool IsLoopbackHost(std::string_view host);

}  // namespace idrecon
