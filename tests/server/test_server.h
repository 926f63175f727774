// The scaffolding of tests/testing/ under the namespace idrecon::test, for
// the server tests that include this header rather than testing/*.h
// (disk_full_test.cc). New tests include testing/*.h and live in
// idrecon::testing.
#pragma once

#include "testing/http_client.h"
#include "testing/process.h"
#include "testing/seed.h"
#include "testing/server_process.h"
#include "testing/temp_dir.h"

namespace idrecon::test {
using namespace idrecon::testing;  // NOLINT(google-build-using-namespace)
}  // namespace idrecon::test
