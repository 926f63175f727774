// The router's side of durability (docs/api.md §4): every 200 names the seq it
// depends on so the transport can hold it, and after the log's sticky error
// changes get 503 while lookups of stored data still answer.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "engine/engine.h"
#include "persistence/database.h"
#include "server/router.h"
#include "testing/temp_dir.h"

namespace idrecon {
namespace {

class RouterDurabilityTest : public ::testing::Test {
 protected:
  void Open(std::size_t max_map_bytes) {
    DatabaseOptions options;
    options.max_map_bytes = max_map_bytes;
    options.engine.clock = &clock_;
    options.engine.lock_stripes = 16;
    options.checkpoints.every_changes = 0;
    options.checkpoints.every_seconds = 0;
    ASSERT_TRUE(Database::Open(dir_.path(), options, &db_).ok());
    engine_ = db_->engine();
    log_ = db_->durability();
    context_ = std::make_unique<ServiceContext>(ServiceContext{*engine_, log_});
  }
  HttpResponse Identify(const std::string& body) { return Route({"POST", "/identify", body}, *context_); }

  testing::TempDir dir_;
  ManualClock clock_{1000};
  std::unique_ptr<Database> db_;
  Engine* engine_ = nullptr;
  Durability* log_ = nullptr;
  std::unique_ptr<ServiceContext> context_;
};

TEST_F(RouterDurabilityTest, ResponsesNameTheSeqTheyDependOn) {
  Open(std::size_t{64} << 20);
  EXPECT_EQ(Identify(R"({"email":"a@x","phoneNumber":"1"})").durable_after, 1u);
  EXPECT_EQ(Identify(R"({"email":"b@x"})").durable_after, 2u);
  EXPECT_EQ(Identify(R"({"email":"a@x"})").durable_after, 1u) << "a read waits for its own cluster only";
  EXPECT_EQ(Identify(R"({"email":"b@x","phoneNumber":"1"})").durable_after, 3u) << "merge";
  EXPECT_EQ(Route({"GET", "/contacts/2", ""}, *context_).durable_after, 3u);
  EXPECT_EQ(Identify(R"({"email":"zzz"})").status, 200);
  EXPECT_EQ(Route({"GET", "/health", ""}, *context_).status, 200);
}

TEST_F(RouterDurabilityTest, AfterAFailedCommitChangesAre503AndReadsStillWork) {
  Open(std::size_t{256} << 10);
  ASSERT_EQ(Identify(R"({"email":"first@x","phoneNumber":"1"})").status, 200);
  // Wait until the first contact is durable, then fill the log until it fails.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (log_->durable_seq() < 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(log_->durable_seq(), 1u);
  const std::string padding(300, 'p');
  for (int i = 0; !log_->failed() && std::chrono::steady_clock::now() < deadline; ++i) {
    Identify(R"({"email":")" + std::to_string(i) + padding + R"("})");
  }
  ASSERT_TRUE(log_->failed());
  const std::size_t contacts = engine_->contact_count();

  HttpResponse r = Identify(R"({"email":"brand-new@x"})");
  EXPECT_EQ(r.status, 503);
  EXPECT_TRUE(r.body.starts_with(R"({"error":"the mutation log cannot record changes)")) << r.body;
  EXPECT_EQ(Identify(R"({"email":"first@x","phoneNumber":"2"})").status, 503) << "a new phone is a change";
  r = Identify(R"({"email":"first@x"})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.durable_after, 1u);
  EXPECT_EQ(engine_->contact_count(), contacts) << "refused requests changed nothing";

  // /health needs no token: it says that storage failed, not the storage
  // layer's message (which names files and errors).
  r = Route({"GET", "/health", ""}, *context_);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, R"({"status":"unavailable","error":"storage error"})");
}

}  // namespace
}  // namespace idrecon
