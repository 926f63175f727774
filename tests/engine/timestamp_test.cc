#include "engine/timestamp.h"

#include <gtest/gtest.h>

namespace idrecon {
namespace {

TEST(TimestampTest, FormatsIsoWithMilliseconds) {
  EXPECT_EQ(FormatIsoTimestamp(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatIsoTimestamp(1795310419123), "2026-11-22T01:20:19.123Z");
  EXPECT_EQ(FormatIsoTimestamp(951782400000), "2000-02-29T00:00:00.000Z");  // leap day
  EXPECT_EQ(FormatIsoTimestamp(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatIsoTimestamp(253402300799999), "9999-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatIsoTimestamp(253402300799999 + 5), "9999-12-31T23:59:59.999Z") << "clamped";
}

TEST(TimestampTest, AppendsToExistingText) {
  std::string s = "at ";
  AppendIsoTimestamp(s, 86400000 + 3723004);
  EXPECT_EQ(s, "at 1970-01-02T01:02:03.004Z");
}

}  // namespace
}  // namespace idrecon
