#include "store/feed_follower.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/ids.h"
#include "fhir/resource.h"
#include "store/store.h"

namespace medhub::store {
namespace {

using namespace std::chrono_literals;

// A consumer of a real store's change feed: copies the ids it reads, three at a time, and
// fails while `broken` is set (as a writer whose target is down).
class Consumer {
 public:
  explicit Consumer(Store* store) : store_(store) {}
  Status Step(bool force, bool* progressed) {
    *progressed = false;
    if (broken) return Status::Unavailable("target down");
    ASSIGN_OR_RETURN(std::vector<Change> changes, store_->ChangesSince(reached_, 3));
    std::lock_guard lock(mu_);
    for (const Change& c : changes) ids_.push_back(c.id);
    if (!changes.empty()) reached_ = changes.back().seq;
    *progressed = !changes.empty();
    if (force) forced_ = true;
    return Status::Ok();
  }
  uint64_t reached() const { return reached_; }
  std::vector<std::string> ids() {
    std::lock_guard lock(mu_);
    return ids_;
  }
  std::atomic<bool> broken{false};
  bool forced() const { return forced_; }

 private:
  Store* const store_;
  std::atomic<uint64_t> reached_{0};
  std::atomic<bool> forced_{false};
  std::mutex mu_;
  std::vector<std::string> ids_;
};

class FeedFollowerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("medhub-follower-" + NewId());
    StoreOptions o;
    o.path = dir_.string();
    o.sync_writes = false;
    store_ = OpenRocksStore(o).value();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Commit(int n) {
    for (int i = 0; i < n; ++i) {
      WriteOp op;
      op.type = "Patient";
      op.id = "p" + std::to_string(next_++);
      op.resource =
          fhir::ParseResource(R"({"resourceType":"Patient","id":")" + op.id + "\"}").value();
      ASSERT_TRUE(store_->Commit({std::move(op)}).ok());
    }
  }
  FeedFollower Make(Consumer* c) {
    FeedFollowerOptions o;
    o.name = "test consumer";
    o.idle_poll = 1ms;
    o.retry_delay = 1ms;
    o.log = [this](std::string_view m) {
      std::lock_guard lock(log_mu_);
      logged_.emplace_back(m);
    };
    return FeedFollower([c](bool f, bool* p) { return c->Step(f, p); },
                        [c] { return c->reached(); }, o);
  }

  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
  int next_ = 0;
  std::mutex log_mu_;
  std::vector<std::string> logged_;
};

TEST_F(FeedFollowerTest, TheThreadFollowsTheFeedAndStopDrainsWhatWasPublishedBefore) {
  Consumer consumer(store_.get());
  FeedFollower follower = Make(&consumer);
  follower.Start();
  follower.Start();  // a no-op
  Commit(10);
  EXPECT_TRUE(follower.WaitForSequence(store_->LastSequence(), 30s).ok());
  Commit(7);
  ASSERT_TRUE(follower.Stop().ok());
  EXPECT_EQ(consumer.reached(), store_->LastSequence());
  const std::vector<std::string> ids = consumer.ids();
  ASSERT_EQ(ids.size(), 17u);
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], "p" + std::to_string(i));
  EXPECT_TRUE(consumer.forced());     // the drain in Stop asks the consumer to publish
  EXPECT_TRUE(follower.Stop().ok());  // idempotent
}

TEST_F(FeedFollowerTest, ErrorsAreLoggedKeptInStatusAndRetriedUntilTheyClear) {
  Commit(5);
  Consumer consumer(store_.get());
  consumer.broken = true;
  FeedFollower follower = Make(&consumer);
  follower.Start();
  // The first failed attempt may come late on a busy machine: wait for it, then for the
  // sequence, which cannot arrive while the consumer is broken.
  for (int i = 0; i < 3000 && follower.status().ok(); ++i) std::this_thread::sleep_for(10ms);
  const Status waited = follower.WaitForSequence(store_->LastSequence(), 30ms, "in the test");
  EXPECT_EQ(waited.code(), StatusCode::kUnavailable);
  EXPECT_NE(waited.message().find("is not in the test yet"), std::string::npos);
  EXPECT_NE(waited.message().find("target down"), std::string::npos) << waited.message();
  EXPECT_EQ(follower.status().code(), StatusCode::kUnavailable);
  consumer.broken = false;
  EXPECT_TRUE(follower.WaitForSequence(store_->LastSequence(), 30s).ok());
  ASSERT_TRUE(follower.Stop().ok());
  EXPECT_TRUE(follower.status().ok());
  std::lock_guard lock(log_mu_);
  ASSERT_FALSE(logged_.empty());
  EXPECT_NE(logged_.front().find("target down"), std::string::npos);
}

TEST_F(FeedFollowerTest, CatchUpWithoutAThreadConsumesEverythingOrReturnsTheError) {
  Commit(8);
  Consumer consumer(store_.get());
  FeedFollower follower = Make(&consumer);
  consumer.broken = true;
  EXPECT_EQ(follower.CatchUp().code(), StatusCode::kUnavailable);
  EXPECT_EQ(follower.Stop().code(), StatusCode::kUnavailable);  // no thread: the last status
  consumer.broken = false;
  ASSERT_TRUE(follower.CatchUp().ok());
  EXPECT_EQ(consumer.ids().size(), 8u);
  EXPECT_TRUE(follower.WaitForSequence(store_->LastSequence(), 0ms).ok());
}

}  // namespace
}  // namespace medhub::store
