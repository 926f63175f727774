#include "server/metrics.h"

#include <gtest/gtest.h>

#include <regex>

#include "persistence/database.h"
#include "testing/log_writer_support.h"
#include "testing/temp_dir.h"

namespace idrecon {
namespace {

using std::chrono::microseconds;

TEST(MetricsTest, CountsRequestsAndBuildsCumulativeHistograms) {
  RequestMetrics m;
  m.Observe("identify", 200, microseconds(80));    // ≤ 0.0001
  m.Observe("identify", 200, microseconds(700));   // ≤ 0.001
  m.Observe("identify", 400, microseconds(30));    // ≤ 0.00005
  m.Observe("contacts", 404, microseconds(3000000));  // > 2.5: +Inf only
  m.Observe("weird", 418, microseconds(1));        // endpoint and status "other"
  std::string out;
  m.Render(out);
  EXPECT_NE(out.find("idrecon_http_requests_total{endpoint=\"identify\",status=\"200\"} 2\n"), std::string::npos) << out;
  EXPECT_NE(out.find("idrecon_http_requests_total{endpoint=\"identify\",status=\"400\"} 1\n"), std::string::npos);
  EXPECT_NE(out.find("idrecon_http_requests_total{endpoint=\"contacts\",status=\"404\"} 1\n"), std::string::npos);
  EXPECT_NE(out.find("idrecon_http_requests_total{endpoint=\"other\",status=\"other\"} 1\n"), std::string::npos);
  EXPECT_NE(out.find("endpoint=\"identify\",le=\"5e-05\"} 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("endpoint=\"identify\",le=\"0.0001\"} 2\n"), std::string::npos);
  EXPECT_NE(out.find("endpoint=\"identify\",le=\"0.001\"} 3\n"), std::string::npos);
  EXPECT_NE(out.find("endpoint=\"identify\",le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(out.find("idrecon_http_request_duration_seconds_count{endpoint=\"identify\"} 3\n"), std::string::npos);
  EXPECT_NE(out.find("endpoint=\"contacts\",le=\"2.5\"} 0\n"), std::string::npos);
  EXPECT_NE(out.find("endpoint=\"contacts\",le=\"+Inf\"} 1\n"), std::string::npos);
  EXPECT_NE(out.find("idrecon_http_request_duration_seconds_sum{endpoint=\"contacts\"} 3\n"), std::string::npos);
  // Every non-comment line is "name{labels} value".
  const std::regex sample(R"(^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [-+0-9.e]+(Inf)?$)");
  std::size_t start = 0;
  while (start < out.size()) {
    const std::size_t end = out.find('\n', start);
    const std::string line = out.substr(start, end - start);
    if (!line.starts_with("#")) {
      EXPECT_TRUE(std::regex_match(line, sample)) << line;
    }
    start = end + 1;
  }
}

TEST(MetricsTest, ServiceMetricsIncludeEngineGauges) {
  ManualClock clock(0);
  Engine engine(Engine::Options{&clock, nullptr, 4, nullptr});
  IdentifyOutcome out;
  ASSERT_TRUE(engine.Identify({"a@x", "1"}, &out).ok());
  ASSERT_TRUE(engine.Identify({"b@x", "1"}, &out).ok());
  ServiceMetrics metrics(&engine, nullptr);
  const std::string text = metrics.Render();
  EXPECT_NE(text.find("idrecon_contacts 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("idrecon_clusters 1\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE idrecon_contacts gauge\n"), std::string::npos);
  EXPECT_EQ(text.find("idrecon_log_"), std::string::npos) << "no log: no log metrics";
}

TEST(MetricsTest, ContactsCountsOnlyDurableContacts) {
  // A contact whose create record never became durable (here: the log is
  // full) exists in memory but a restart would not bring it back; the
  // gauge must not count it.
  testing::TempDir dir;
  ManualClock clock(0);
  DatabaseOptions options;
  options.max_map_bytes = std::size_t{256} << 10;
  options.engine.clock = &clock;
  options.checkpoints.every_changes = 0;
  options.checkpoints.every_seconds = 0;
  std::unique_ptr<Database> db;
  ASSERT_TRUE(Database::Open(dir.path(), options, &db).ok());
  Seq last_ok = 0;
  ASSERT_FALSE(testing::FillUntilFailure(*db->engine(), *db->durability(), &last_ok).ok());
  // Every acknowledged request created one contact: ids 1..last_ok.
  ASSERT_GT(db->engine()->contact_count(), last_ok) << "the refused contact is in memory";
  ServiceMetrics metrics(db->engine(), db.get());
  const std::string text = metrics.Render();
  EXPECT_NE(text.find("\nidrecon_contacts " + std::to_string(last_ok) + "\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nidrecon_log_failed 1\n"), std::string::npos);
}

}  // namespace
}  // namespace idrecon
