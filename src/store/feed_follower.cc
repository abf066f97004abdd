#include "store/feed_follower.h"

#include <algorithm>
#include <iostream>
#include <utility>

namespace medhub::store {

FeedFollower::FeedFollower(StepFn step, ReachedFn reached, FeedFollowerOptions options)
    : step_(std::move(step)), reached_(std::move(reached)), options_(std::move(options)) {}

FeedFollower::~FeedFollower() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void FeedFollower::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Run(); });
}

Status FeedFollower::Stop() {
  {
    std::lock_guard lock(mu_);
    if (!thread_.joinable()) return status_;
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  // The thread has exited; drain what was published before Stop() here.
  return CatchUp();
}

Status FeedFollower::CatchUp() {
  for (;;) {
    bool progressed = false;
    const Status s = step_(/*force=*/true, &progressed);
    SetStatus(s);
    if (!s.ok() || !progressed) return s;
  }
}

void FeedFollower::Run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    bool progressed = false;
    const Status s = step_(/*force=*/false, &progressed);
    if (!s.ok()) Log(s.ToString());
    SetStatus(s);
    lock.lock();
    if (s.ok() && progressed) continue;
    wake_.wait_for(lock, s.ok() ? options_.idle_poll : options_.retry_delay,
                   [this] { return stopping_; });
  }
}

Status FeedFollower::WaitForSequence(uint64_t seq, std::chrono::milliseconds timeout,
                                     std::string_view where) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mu_);
  while (reached_() < seq) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      const std::string why = status_.ok() ? "" : " (" + status_.ToString() + ")";
      return Status::Unavailable("change " + std::to_string(seq) + " is not " + std::string(where) +
                                 " yet" + why);
    }
    // Progress made by CatchUp() on another thread also notifies; the slice bounds a miss.
    progress_.wait_until(lock, std::min(deadline, now + std::chrono::milliseconds(20)));
  }
  return Status::Ok();
}

Status FeedFollower::status() const {
  std::lock_guard lock(mu_);
  return status_;
}

void FeedFollower::SetStatus(const Status& s) {
  {
    std::lock_guard lock(mu_);
    status_ = s;
  }
  progress_.notify_all();
}

void FeedFollower::NotifyProgress() { progress_.notify_all(); }

void FeedFollower::Log(std::string_view message) const {
  if (options_.log) {
    options_.log(message);
  } else {
    std::cerr << "medhub: " << options_.name << ": " << message << "\n";
  }
}

}  // namespace medhub::store
