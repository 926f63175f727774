#include "server/logger.h"

#include <gtest/gtest.h>

namespace idrecon {
namespace {

TEST(LoggerTest, FormatsLogfmtWithQuotingOnlyWhereNeeded) {
  EXPECT_EQ(Logger::Format(1795310419123, LogLevel::kInfo, "recovered", {{"contacts", 4}, {"sync", "fsync"}}),
            "ts=2026-11-22T01:20:19.123Z level=info msg=recovered contacts=4 sync=fsync\n");
  EXPECT_EQ(Logger::Format(0, LogLevel::kError, "cannot bind 127.0.0.1:80", {{"error", "Permission denied"}}),
            "ts=1970-01-01T00:00:00.000Z level=error msg=\"cannot bind 127.0.0.1:80\" error=\"Permission denied\"\n");
}

TEST(LoggerTest, EscapesSoEveryLineParsesBack) {
  const std::string line = Logger::Format(0, LogLevel::kWarn, "a\"b\\c\nd", {{"empty", ""}, {"eq", "k=v"}});
  EXPECT_EQ(line, "ts=1970-01-01T00:00:00.000Z level=warn msg=\"a\\\"b\\\\c\\x0ad\" empty=\"\" eq=\"k=v\"\n");
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line, whatever the input";
}

TEST(LoggerTest, MasksPersonalData) {
  EXPECT_EQ(MaskEmail("lorraine@hillvalley.edu"), "l***@h***.edu");
  EXPECT_EQ(MaskEmail("x@y"), "x***@y***");
  EXPECT_EQ(MaskEmail("no-at-sign"), "n***");
  EXPECT_EQ(MaskEmail(""), "");
  EXPECT_EQ(MaskPhone("+15551234567"), "***567");
  EXPECT_EQ(MaskPhone("12"), "***");
}

}  // namespace
}  // namespace idrecon
