// LoadAuthToken: where the token comes from, and the start-up lines that say
// whether auth is on (and warn when an open server listens beyond loopback).
#include "server/auth_token.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "testing/temp_dir.h"

namespace idrecon {
namespace {

// A Logger writing into a temporary file, and the text it wrote.
class CapturedLog {
 public:
  CapturedLog() : file_(std::tmpfile()), log_(::fileno(file_)) {}
  ~CapturedLog() { std::fclose(file_); }
  const Logger& log() const { return log_; }
  std::string Text() const {
    std::string text;
    char buf[4096];
    ssize_t n;
    for (off_t at = 0; (n = ::pread(::fileno(file_), buf, sizeof buf, at)) > 0; at += n) text.append(buf, n);
    return text;
  }

 private:
  std::FILE* file_;
  Logger log_;
};

Config Loopback() {
  Config config;
  config.host = "127.0.0.1";
  return config;
}

TEST(AuthTokenTest, OffIsLoggedAndOnLoopbackNotWarned) {
  CapturedLog captured;
  std::string token = "stale";
  ASSERT_TRUE(LoadAuthToken(Loopback(), captured.log(), &token));
  EXPECT_EQ(token, "");
  const std::string text = captured.Text();
  EXPECT_NE(text.find("level=info msg=\"auth off"), std::string::npos) << text;
  EXPECT_EQ(text.find("level=warn"), std::string::npos) << text;
}

TEST(AuthTokenTest, OffOnANonLoopbackAddressIsWarned) {
  for (std::string_view host : {"0.0.0.0", "::", "192.168.1.10", "db.example"}) {
    CapturedLog captured;
    Config config;
    config.host = std::string(host);
    std::string token;
    ASSERT_TRUE(LoadAuthToken(config, captured.log(), &token));
    const std::string text = captured.Text();
    EXPECT_NE(text.find("level=warn msg=\"listening on a non-loopback address without an auth token"),
              std::string::npos)
        << host << ": " << text;
  }
}

TEST(AuthTokenTest, OnFromTheVariableSaysSoWithoutTheToken) {
  CapturedLog captured;
  Config config;
  config.host = "0.0.0.0";
  config.auth_token = "0123456789abcdef-secret";
  std::string token;
  ASSERT_TRUE(LoadAuthToken(config, captured.log(), &token));
  EXPECT_EQ(token, "0123456789abcdef-secret");
  const std::string text = captured.Text();
  EXPECT_NE(text.find("level=info msg=\"auth on"), std::string::npos) << text;
  EXPECT_NE(text.find("token_from=IDRECON_AUTH_TOKEN"), std::string::npos) << text;
  EXPECT_EQ(text.find("secret"), std::string::npos) << "the token is never logged: " << text;
  EXPECT_EQ(text.find("level=warn"), std::string::npos) << "a token protects a public address: " << text;
}

TEST(AuthTokenTest, TheFileWinsIsTrimmedAndMustBeLongEnough) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/token";
  std::ofstream(path) << "file-token-0123456789\r\n";
  ::chmod(path.c_str(), 0600);
  CapturedLog captured;
  Config config = Loopback();
  config.auth_token_file = path;
  config.auth_token = "variable-token-0123456789";
  std::string token;
  ASSERT_TRUE(LoadAuthToken(config, captured.log(), &token));
  EXPECT_EQ(token, "file-token-0123456789");
  EXPECT_NE(captured.Text().find("token_from=file"), std::string::npos) << captured.Text();

  std::ofstream(path) << "short\n";
  CapturedLog short_log;
  EXPECT_FALSE(LoadAuthToken(config, short_log.log(), &token));
  EXPECT_NE(short_log.Text().find("at least 16 characters"), std::string::npos) << short_log.Text();

  config.auth_token_file = dir.path() + "/missing";
  CapturedLog missing_log;
  EXPECT_FALSE(LoadAuthToken(config, missing_log.log(), &token));
  EXPECT_NE(missing_log.Text().find("cannot read the auth token file"), std::string::npos) << missing_log.Text();
}

TEST(AuthTokenTest, LoopbackHosts) {
  for (std::string_view host : {"localhost", "127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(IsLoopbackHost(host)) << host;
  }
  for (std::string_view host : {"0.0.0.0", "::", "10.0.0.1", "128.0.0.1", "::2", "::ffff:10.0.0.1", "example.com",
                                "localhost.example", ""}) {
    EXPECT_FALSE(IsLoopbackHost(host)) << host;
  }
}

}  // namespace
}  // namespace idrecon
