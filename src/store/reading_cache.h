// Internal to the store module: the decoded batch records of device readings most recently
// read. A follower of the change feed (ledger, lake) reads a batch's readings one by one, so
// without this every reading would decrypt and decode its whole batch again.
//
// Thread-safe (one mutex). Plaintext readings live here while cached; Clear() (erase)
// drops them all.
#pragma once

#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/aead.h"
#include "fhir/device_reading.h"
#include "store/key_ring.h"

namespace medhub::store {

// A batch record opened: who it belongs to and its readings.
struct OpenedBatch {
  std::string device;
  std::string patient;
  int64_t committed_at = 0;
  uint64_t change_seq = 0;  // the sequence number of readings[0]
  std::string salt;         // the batch salt (32 bytes)
  std::vector<fhir::Reading> readings;
  DataKeyRef key;  // the data key it was opened with (null in a plaintext store)
  ~OpenedBatch() { Wipe(&salt); }
};

class ReadingCache {
 public:
  static constexpr size_t kCapacity = 64;

  std::shared_ptr<const OpenedBatch> Get(const std::string& batch_key) {
    std::lock_guard lock(mu_);
    auto it = map_.find(batch_key);
    return it == map_.end() ? nullptr : it->second;
  }
  void Put(const std::string& batch_key, std::shared_ptr<const OpenedBatch> batch) {
    std::lock_guard lock(mu_);
    if (!map_.emplace(batch_key, std::move(batch)).second) return;
    order_.push_back(batch_key);
    if (order_.size() > kCapacity) {
      map_.erase(order_.front());
      order_.pop_front();
    }
  }
  void Clear() {
    std::lock_guard lock(mu_);
    map_.clear();
    order_.clear();
  }

 private:
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const OpenedBatch>> map_;  // GUARDED_BY(mu_)
  std::deque<std::string> order_;                                            // GUARDED_BY(mu_)
};

}  // namespace medhub::store
