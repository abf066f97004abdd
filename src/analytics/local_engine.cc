#include "analytics/local_engine.h"

#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <queue>
#include <thread>

namespace medhub::analytics {
namespace {

using Pair = std::pair<std::string, std::string>;
constexpr uint64_t kPairOverhead = 64;  // rough heap cost of a pair beyond its bytes

class CounterMap : public Counters {
 public:
  void Add(std::string_view name, int64_t n) override {
    auto it = map_.find(name);
    if (it == map_.end()) it = map_.emplace(std::string(name), 0).first;
    it->second += n;
  }
  std::map<std::string, int64_t, std::less<>>& map() { return map_; }

 private:
  std::map<std::string, int64_t, std::less<>> map_;
};

// Spill files of one run of the engine; removed with the folder at the end.
class SpillArea {
 public:
  explicit SpillArea(std::string dir) : dir_(std::move(dir)) {}
  ~SpillArea() {
    if (created_) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }
  Result<std::string> NewFile() {
    std::lock_guard lock(mu_);
    if (!created_) {
      std::string base = dir_;
      if (base.empty()) {
        const char* tmp = getenv("TMPDIR");
        base = std::string(tmp && *tmp ? tmp : "/tmp") + "/medhub-spill-XXXXXX";
        if (mkdtemp(base.data()) == nullptr) return Status::Internal("cannot create spill folder");
      } else {
        std::error_code ec;
        std::filesystem::create_directories(base, ec);
        if (ec) return Status::Internal("cannot create spill folder " + base);
        base += "/run-" + std::to_string(reinterpret_cast<uintptr_t>(this));
        std::filesystem::create_directories(base, ec);
      }
      dir_ = base;
      created_ = true;
    }
    return dir_ + "/spill-" + std::to_string(next_++) + ".tsv";
  }

 private:
  std::mutex mu_;
  std::string dir_;
  bool created_ = false;
  int next_ = 0;
};

// A sorted run: in memory, or a spill file of "key\tvalue\n" lines.
struct Run {
  std::vector<Pair> memory;
  std::string path;
};

// One worker's map output.
class Buffer {
 public:
  Buffer(const Stage& stage, uint64_t limit, SpillArea* spill, RunStats* stats, std::mutex* mu)
      : stage_(stage), limit_(limit), spill_(spill), stats_(stats), stats_mu_(mu) {}

  void Add(std::string_view key, std::string_view value) {
    pairs_.emplace_back(std::string(key), std::string(value));
    bytes_ += key.size() + value.size() + kPairOverhead;
    if (bytes_ > limit_ && status_.ok()) status_ = Relieve();
  }
  const Status& status() const { return status_; }

  // Sorts and combines what is left; appends all runs of this buffer to *runs.
  void Finish(std::vector<Run>* runs) {
    SortAndCombine();
    runs->push_back(Run{std::move(pairs_), {}});
    for (std::string& p : spilled_) runs->push_back(Run{{}, std::move(p)});
  }

 private:
  void SortAndCombine() {
    std::sort(pairs_.begin(), pairs_.end(),
              [](const Pair& a, const Pair& b) { return a.first < b.first; });
    if (!stage_.has_combiner()) return;
    std::vector<Pair> out;
    std::vector<std::string_view> values;
    for (size_t i = 0; i < pairs_.size();) {
      size_t j = i;
      values.clear();
      while (j < pairs_.size() && pairs_[j].first == pairs_[i].first) {
        values.push_back(pairs_[j].second);
        ++j;
      }
      stage_.Combine(pairs_[i].first, values, [&](std::string_view k, std::string_view v) {
        out.emplace_back(std::string(k), std::string(v));
      });
      i = j;
    }
    pairs_ = std::move(out);
    bytes_ = 0;
    for (const Pair& p : pairs_) bytes_ += p.first.size() + p.second.size() + kPairOverhead;
  }

  Status Relieve() {
    SortAndCombine();
    if (bytes_ <= limit_ / 2) return Status::Ok();
    ASSIGN_OR_RETURN(std::string path, spill_->NewFile());
    std::ofstream out(path, std::ios::binary);
    uint64_t written = 0;
    for (const Pair& p : pairs_) {
      out << p.first << '\t' << p.second << '\n';
      written += p.first.size() + p.second.size() + 2;
    }
    out.close();
    if (!out) return Status::Internal("cannot write spill file " + path);
    spilled_.push_back(path);
    pairs_.clear();
    pairs_.shrink_to_fit();
    bytes_ = 0;
    std::lock_guard lock(*stats_mu_);
    stats_->spilled_runs += 1;
    stats_->spilled_bytes += written;
    return Status::Ok();
  }

  const Stage& stage_;
  uint64_t limit_;
  SpillArea* spill_;
  RunStats* stats_;
  std::mutex* stats_mu_;
  std::vector<Pair> pairs_;
  uint64_t bytes_ = 0;
  std::vector<std::string> spilled_;
  Status status_;
};

// Reads a run in key order.
class RunCursor {
 public:
  explicit RunCursor(Run* run) : run_(run) {
    if (!run_->path.empty()) in_.open(run_->path, std::ios::binary);
  }
  bool ok() const { return run_->path.empty() || static_cast<bool>(in_) || in_.eof(); }
  // Advances; false at the end.
  bool Next() {
    if (run_->path.empty()) {
      if (pos_ >= run_->memory.size()) return false;
      current_ = std::move(run_->memory[pos_++]);
      return true;
    }
    std::string line;
    if (!std::getline(in_, line)) return false;
    const size_t tab = line.find('\t');
    current_.first = line.substr(0, tab);
    current_.second = tab == std::string::npos ? "" : line.substr(tab + 1);
    return true;
  }
  const Pair& current() const { return current_; }

 private:
  Run* run_;
  std::ifstream in_;
  size_t pos_ = 0;
  Pair current_;
};

// Merges the runs by key and reduces each key's values into "key\tvalue" lines.
Result<std::vector<std::string>> MergeAndReduce(const Stage& stage, std::vector<Run>* runs,
                                                CounterMap* counters) {
  std::vector<std::unique_ptr<RunCursor>> cursors;
  for (Run& r : *runs) {
    cursors.push_back(std::make_unique<RunCursor>(&r));
    if (!cursors.back()->ok()) return Status::Internal("cannot read spill file " + r.path);
  }
  auto greater = [&](size_t a, size_t b) {
    return cursors[a]->current().first > cursors[b]->current().first;
  };
  std::priority_queue<size_t, std::vector<size_t>, decltype(greater)> heap(greater);
  for (size_t i = 0; i < cursors.size(); ++i) {
    if (cursors[i]->Next()) heap.push(i);
  }
  std::vector<std::string> out;
  auto emit = [&](std::string_view k, std::string_view v) {
    std::string line;
    line.reserve(k.size() + v.size() + 1);
    line.append(k).append(1, '\t').append(v);
    out.push_back(std::move(line));
  };
  std::vector<std::string> values;
  std::vector<std::string_view> views;
  while (!heap.empty()) {
    const std::string key = cursors[heap.top()]->current().first;
    values.clear();
    while (!heap.empty() && cursors[heap.top()]->current().first == key) {
      const size_t i = heap.top();
      heap.pop();
      values.push_back(cursors[i]->current().second);
      if (cursors[i]->Next()) heap.push(i);
    }
    views.assign(values.begin(), values.end());
    stage.Reduce(key, views, emit, counters);
  }
  return out;
}

// Calls fn(line, line_number) for each non-empty line of `data`.
template <typename Fn>
void ForEachLine(std::string_view data, Fn&& fn) {
  uint64_t number = 0;
  size_t start = 0;
  while (start < data.size()) {
    const void* nl = std::memchr(data.data() + start, '\n', data.size() - start);
    const size_t end = nl ? static_cast<const char*>(nl) - data.data() : data.size();
    ++number;
    if (end > start) fn(data.substr(start, end - start), number);
    start = end + 1;
  }
}

struct StageInput {
  const std::vector<InputFile>* files = nullptr;  // stage 1
  const std::vector<std::string>* lines = nullptr;  // later stages
};

Result<std::vector<std::string>> RunStage(const Stage& stage, const StageInput& input,
                                          const EngineOptions& options, unsigned threads,
                                          SpillArea* spill, RunStats* stats) {
  const size_t units = input.files ? input.files->size() : std::max<size_t>(1, threads * 8);
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::vector<Run> runs;
  CounterMap counters;
  Status failure;
  auto work = [&]() {
    Buffer buffer(stage, std::max<uint64_t>(options.memory_limit_bytes / threads, 1024), spill,
                  stats, &mu);
    CounterMap local;
    uint64_t bytes = 0, lines = 0, bad = 0;
    std::vector<BadLine> bad_lines;
    auto emit = [&](std::string_view k, std::string_view v) { buffer.Add(k, v); };
    auto map_line = [&](std::string_view line, uint64_t number, const std::string& file) {
      ++lines;
      Status s = stage.Map(line, emit, &local);
      if (s.ok()) return;
      ++bad;
      if (bad_lines.size() < kMaxReportedBadLines) bad_lines.push_back({file, number, s.message()});
    };
    for (size_t u = next++; u < units && buffer.status().ok(); u = next++) {
      if (input.files) {
        const InputFile& f = (*input.files)[u];
        Result<std::string> data = f.read();
        if (!data.ok()) {
          std::lock_guard lock(mu);
          if (failure.ok()) failure = data.status();
          return;
        }
        bytes += data->size();
        ForEachLine(*data, [&](std::string_view l, uint64_t n) { map_line(l, n, f.name); });
      } else {
        const auto& all = *input.lines;
        const size_t per = (all.size() + units - 1) / units;
        for (size_t i = u * per; i < std::min(all.size(), (u + 1) * per); ++i) {
          bytes += all[i].size() + 1;
          map_line(all[i], i + 1, "stage input");
        }
      }
    }
    std::lock_guard lock(mu);
    if (!buffer.status().ok() && failure.ok()) failure = buffer.status();
    buffer.Finish(&runs);
    for (auto& [k, v] : local.map()) counters.Add(k, v);
    if (input.files) {
      stats->input_bytes += bytes;
      stats->input_lines += lines;
    }
    stats->bad_lines += bad;
    for (BadLine& b : bad_lines) {
      if (stats->first_bad_lines.size() < kMaxReportedBadLines) {
        stats->first_bad_lines.push_back(std::move(b));
      }
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) pool.emplace_back(work);
  for (std::thread& t : pool) t.join();
  RETURN_IF_ERROR(failure);
  auto out = MergeAndReduce(stage, &runs, &counters);
  for (auto& [k, v] : counters.map()) stats->counters[k] += v;
  return out;
}

}  // namespace

Result<RunResult> RunLocal(const Job& job, const std::vector<InputFile>& inputs,
                           const EngineOptions& options) {
  unsigned threads = options.threads;
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  SpillArea spill(options.spill_dir);
  RunResult result;
  std::vector<std::string> lines;
  bool first = true;
  for (const auto& stage : job.stages()) {
    StageInput input;
    if (first) {
      input.files = &inputs;
    } else {
      input.lines = &lines;
    }
    ASSIGN_OR_RETURN(std::vector<std::string> out,
                     RunStage(*stage, input, options, threads, &spill, &result.stats));
    lines = std::move(out);
    first = false;
  }
  std::sort(lines.begin(), lines.end());
  result.lines = std::move(lines);
  return result;
}

}  // namespace medhub::analytics
