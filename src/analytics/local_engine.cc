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

// ---------------------------------------------------------------------------------------
// Map output. Pairs are ordered by (hash of the key, key): any total order in which equal
// keys are adjacent serves the combiners and the merge, and comparing hashes first spares
// most byte comparisons (keys share long prefixes such as "Observation/"). The reduce is
// split into partitions, contiguous ranges of that order, reduced in parallel.

uint64_t KeyHash(std::string_view key) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a, then a final mix for the high bits
  for (const char c : key) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

// Partition of a hash among `parts`: non-decreasing in the hash.
size_t PartitionOf(uint64_t hash, size_t parts) {
  return static_cast<size_t>(((hash >> 32) * parts) >> 32);
}

// Key/value pairs in one byte arena: no allocation per pair.
class PairArena {
 public:
  struct Entry {
    uint64_t hash;
    size_t offset;  // key bytes, then value bytes
    uint32_t key_size;
    uint32_t value_size;
  };
  static constexpr uint64_t kEntryOverhead = sizeof(Entry) + 16;

  void Add(std::string_view key, std::string_view value) {
    entries_.push_back({KeyHash(key), bytes_.size(), static_cast<uint32_t>(key.size()),
                        static_cast<uint32_t>(value.size())});
    bytes_.append(key).append(value);
  }
  std::string_view key(const Entry& e) const { return {bytes_.data() + e.offset, e.key_size}; }
  std::string_view value(const Entry& e) const {
    return {bytes_.data() + e.offset + e.key_size, e.value_size};
  }
  uint64_t footprint() const { return bytes_.size() + entries_.size() * kEntryOverhead; }
  std::vector<Entry>& entries() { return entries_; }
  const std::vector<Entry>& entries() const { return entries_; }
  void Sort() {
    std::sort(entries_.begin(), entries_.end(), [this](const Entry& a, const Entry& b) {
      if (a.hash != b.hash) return a.hash < b.hash;
      return key(a) < key(b);
    });
  }
  void Clear() {
    entries_.clear();
    bytes_.clear();
  }
  void Release() {
    std::vector<Entry>().swap(entries_);
    std::string().swap(bytes_);
  }

 private:
  std::string bytes_;
  std::vector<Entry> entries_;
};

bool Before(uint64_t ha, std::string_view ka, uint64_t hb, std::string_view kb) {
  return ha != hb ? ha < hb : ka < kb;
}

// A sorted run: in memory, or a spill file of "key\tvalue\n" lines.
// A spill file also records where each partition's lines begin (offsets[p], with
// offsets[parts] = the file size), so that each reducer reads only its own part.
struct Run {
  PairArena memory;
  std::string path;
  std::vector<uint64_t> offsets;
};

// One worker's map output.
class Buffer {
 public:
  Buffer(const Stage& stage, uint64_t limit, size_t parts, SpillArea* spill, RunStats* stats,
         std::mutex* mu)
      : stage_(stage), limit_(limit), parts_(parts), spill_(spill), stats_(stats), stats_mu_(mu) {}

  void Add(std::string_view key, std::string_view value) {
    pairs_.Add(key, value);
    if (pairs_.footprint() > limit_ && status_.ok()) status_ = Relieve();
  }
  const Status& status() const { return status_; }

  // Sorts and combines what is left; appends all runs of this buffer to *runs.
  void Finish(std::vector<Run>* runs) {
    SortAndCombine();
    runs->push_back(Run{std::move(pairs_), {}});
    for (Run& r : spilled_) runs->push_back(std::move(r));
  }

 private:
  void SortAndCombine() {
    pairs_.Sort();
    if (!stage_.has_combiner()) return;
    PairArena out;
    std::vector<std::string_view> values;
    const auto& entries = pairs_.entries();
    const Emit emit = [&](std::string_view k, std::string_view v) { out.Add(k, v); };
    for (size_t i = 0; i < entries.size();) {
      const std::string_view key = pairs_.key(entries[i]);
      values.assign(1, pairs_.value(entries[i]));
      size_t j = i + 1;
      for (; j < entries.size() && entries[j].hash == entries[i].hash &&
             pairs_.key(entries[j]) == key;
           ++j) {
        values.push_back(pairs_.value(entries[j]));
      }
      stage_.Combine(key, values, emit);
      i = j;
    }
    out.Sort();  // a combiner may emit other keys than it was given
    pairs_ = std::move(out);
  }

  Status Relieve() {
    SortAndCombine();
    if (pairs_.footprint() <= limit_ / 2) return Status::Ok();
    ASSIGN_OR_RETURN(std::string path, spill_->NewFile());
    std::ofstream out(path, std::ios::binary);
    uint64_t written = 0;
    std::vector<uint64_t> offsets;
    for (const PairArena::Entry& e : pairs_.entries()) {
      while (offsets.size() <= PartitionOf(e.hash, parts_)) offsets.push_back(written);
      out << pairs_.key(e) << '\t' << pairs_.value(e) << '\n';
      written += e.key_size + e.value_size + 2;
    }
    offsets.resize(parts_ + 1, written);
    out.close();
    if (!out) return Status::Internal("cannot write spill file " + path);
    spilled_.push_back(Run{{}, path, std::move(offsets)});
    pairs_.Release();
    std::lock_guard lock(*stats_mu_);
    stats_->spilled_runs += 1;
    stats_->spilled_bytes += written;
    return Status::Ok();
  }

  const Stage& stage_;
  uint64_t limit_;
  size_t parts_;
  SpillArea* spill_;
  RunStats* stats_;
  std::mutex* stats_mu_;
  PairArena pairs_;
  std::vector<Run> spilled_;
  Status status_;
};

// Reads the pairs of one partition of a run, in order.
class RunCursor {
 public:
  RunCursor(const Run* run, size_t part, size_t parts) : run_(run), parts_(parts) {
    if (run_->path.empty()) {
      const auto& entries = run_->memory.entries();
      auto in_part = [&](const PairArena::Entry& e, size_t p) {
        return PartitionOf(e.hash, parts_) < p;
      };
      pos_ = std::lower_bound(entries.begin(), entries.end(), part, in_part) - entries.begin();
      end_ = std::lower_bound(entries.begin(), entries.end(), part + 1, in_part) - entries.begin();
    } else {
      in_.open(run_->path, std::ios::binary);
      pos_ = run_->offsets[part];
      end_ = run_->offsets[part + 1];
      in_.seekg(static_cast<std::streamoff>(pos_));
    }
  }
  bool ok() const { return run_->path.empty() || static_cast<bool>(in_) || in_.eof(); }
  // Advances; false at the end of the partition.
  bool Next() { return run_->path.empty() ? NextInMemory() : NextInFile(); }
  uint64_t hash() const { return hash_; }
  std::string_view key() const { return key_; }
  std::string_view value() const { return value_; }

 private:
  bool NextInMemory() {
    if (pos_ >= end_) return false;
    const PairArena::Entry& e = run_->memory.entries()[pos_++];
    hash_ = e.hash;
    key_ = run_->memory.key(e);
    value_ = run_->memory.value(e);
    return true;
  }
  bool NextInFile() {
    if (pos_ >= end_ || !std::getline(in_, line_)) return false;
    pos_ += line_.size() + 1;
    const size_t tab = line_.find('\t');
    key_ = std::string_view(line_).substr(0, tab);
    value_ = tab == std::string::npos ? std::string_view()
                                      : std::string_view(line_).substr(tab + 1);
    hash_ = KeyHash(key_);
    return true;
  }

  const Run* run_;
  size_t parts_;
  size_t pos_ = 0, end_ = 0;  // entries, or byte offsets in the spill file
  std::ifstream in_;
  std::string line_;
  uint64_t hash_ = 0;
  std::string_view key_, value_;
};

// Merges one partition of the runs by key and reduces each key's values; appends
// "key\tvalue\n" lines to *out.
Status ReducePartition(const Stage& stage, const std::vector<Run>& runs, size_t part,
                       size_t parts, CounterMap* counters, std::string* out) {
  std::vector<std::unique_ptr<RunCursor>> cursors;
  for (const Run& r : runs) {
    cursors.push_back(std::make_unique<RunCursor>(&r, part, parts));
    if (!cursors.back()->ok()) return Status::Internal("cannot read spill file " + r.path);
  }
  auto greater = [&](size_t a, size_t b) {
    return Before(cursors[b]->hash(), cursors[b]->key(), cursors[a]->hash(), cursors[a]->key());
  };
  std::priority_queue<size_t, std::vector<size_t>, decltype(greater)> heap(greater);
  for (size_t i = 0; i < cursors.size(); ++i) {
    if (cursors[i]->Next()) heap.push(i);
  }
  const Emit emit = [&](std::string_view k, std::string_view v) {
    out->append(k).append(1, '\t').append(v).append(1, '\n');
  };
  std::string key, value_bytes;
  std::vector<size_t> ends;
  std::vector<std::string_view> views;
  while (!heap.empty()) {
    key.assign(cursors[heap.top()]->key());
    value_bytes.clear();
    ends.clear();
    while (!heap.empty() && cursors[heap.top()]->key() == key) {
      const size_t i = heap.top();
      heap.pop();
      value_bytes.append(cursors[i]->value());
      ends.push_back(value_bytes.size());
      if (cursors[i]->Next()) heap.push(i);
    }
    views.clear();
    for (size_t v = 0, start = 0; v < ends.size(); start = ends[v++]) {
      views.emplace_back(value_bytes.data() + start, ends[v] - start);
    }
    stage.Reduce(key, views, emit, counters);
  }
  return Status::Ok();
}

// Calls fn(line, line_number) for each non-empty line of `data`, numbering from first + 1.
template <typename Fn>
void ForEachLine(std::string_view data, uint64_t first, Fn&& fn) {
  uint64_t number = first;
  size_t start = 0;
  while (start < data.size()) {
    const void* nl = std::memchr(data.data() + start, '\n', data.size() - start);
    const size_t end = nl ? static_cast<const char*>(nl) - data.data() : data.size();
    ++number;
    if (end > start) fn(data.substr(start, end - start), number);
    start = end + 1;
  }
}

// A piece of a later stage's input: whole "key\tvalue\n" lines.
struct Chunk {
  std::string_view text;
  uint64_t first_line = 0;  // lines before it in the stage input
};

// Cuts the previous stage's output into chunks of about `target` bytes.
std::vector<Chunk> Chunks(const std::vector<std::string>& parts, size_t target) {
  std::vector<Chunk> chunks;
  uint64_t lines = 0;
  for (const std::string& part : parts) {
    size_t start = 0;
    while (start < part.size()) {
      size_t end = std::min(part.size(), start + target);
      const size_t nl = part.find('\n', end > 0 ? end - 1 : 0);
      end = nl == std::string::npos ? part.size() : nl + 1;
      const std::string_view text(part.data() + start, end - start);
      chunks.push_back({text, lines});
      lines += static_cast<uint64_t>(std::count(text.begin(), text.end(), '\n'));
      start = end;
    }
  }
  return chunks;
}

struct StageInput {
  const std::vector<InputFile>* files = nullptr;  // stage 1
  std::vector<Chunk> chunks;                      // later stages
  size_t units() const { return files ? files->size() : chunks.size(); }
};

// What the map workers of one stage share.
struct MapShared {
  const Stage& stage;
  const StageInput& input;
  uint64_t buffer_limit;
  size_t parts;  // reduce partitions
  SpillArea* spill;
  RunStats* stats;
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::vector<Run> runs;
  CounterMap counters;
  Status failure;
};

// One map worker: takes input units until none is left, then hands its runs, counters and
// statistics over.
class MapWorker {
 public:
  explicit MapWorker(MapShared* shared)
      : s_(*shared), buffer_(s_.stage, s_.buffer_limit, s_.parts, s_.spill, s_.stats, &s_.mu) {}

  void Run() {
    const Emit emit = [this](std::string_view k, std::string_view v) { buffer_.Add(k, v); };
    for (size_t u = s_.next++; u < s_.input.units() && buffer_.status().ok(); u = s_.next++) {
      if (s_.input.files == nullptr) {
        const Chunk& c = s_.input.chunks[u];
        ForEachLine(c.text, c.first_line,
                    [&](std::string_view l, uint64_t n) { MapLine(l, n, kStageInput, emit); });
        continue;
      }
      const InputFile& f = (*s_.input.files)[u];
      Result<std::string> data = f.read();
      if (!data.ok()) return Fail(data.status());
      bytes_ += data->size();
      ForEachLine(*data, 0, [&](std::string_view l, uint64_t n) { MapLine(l, n, f.name, emit); });
    }
    Publish();
  }

 private:
  static inline const std::string kStageInput = "stage input";

  void MapLine(std::string_view line, uint64_t number, const std::string& file, const Emit& emit) {
    ++lines_;
    const Status s = s_.stage.Map(line, emit, &local_);
    if (s.ok()) return;
    ++bad_;
    if (bad_lines_.size() < kMaxReportedBadLines) bad_lines_.push_back({file, number, s.message()});
  }

  void Fail(const Status& status) {
    std::lock_guard lock(s_.mu);
    if (s_.failure.ok()) s_.failure = status;
  }

  void Publish() {
    std::lock_guard lock(s_.mu);
    if (!buffer_.status().ok() && s_.failure.ok()) s_.failure = buffer_.status();
    buffer_.Finish(&s_.runs);
    for (auto& [k, v] : local_.map()) s_.counters.Add(k, v);
    RunStats& stats = *s_.stats;
    if (s_.input.files != nullptr) {
      stats.input_bytes += bytes_;
      stats.input_lines += lines_;
    }
    stats.bad_lines += bad_;
    for (BadLine& b : bad_lines_) {
      if (stats.first_bad_lines.size() < kMaxReportedBadLines) {
        stats.first_bad_lines.push_back(std::move(b));
      }
    }
  }

  MapShared& s_;
  Buffer buffer_;
  CounterMap local_;
  uint64_t bytes_ = 0, lines_ = 0, bad_ = 0;
  std::vector<BadLine> bad_lines_;
};

// Reduces the runs, one partition per thread at a time; the output of partition i is
// (*parts)[i].
Status ReduceAll(const Stage& stage, const std::vector<Run>& runs, unsigned threads, size_t n,
                 CounterMap* counters, std::vector<std::string>* parts) {
  parts->assign(n, {});
  std::vector<CounterMap> part_counters(n);
  std::vector<Status> statuses(n);
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t p = next++; p < n; p = next++) {
      statuses[p] = ReducePartition(stage, runs, p, n, &part_counters[p], &(*parts)[p]);
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) pool.emplace_back(work);
  for (std::thread& t : pool) t.join();
  for (size_t p = 0; p < n; ++p) {
    RETURN_IF_ERROR(statuses[p]);
    for (auto& [k, v] : part_counters[p].map()) counters->Add(k, v);
  }
  return Status::Ok();
}

// Runs one stage: parallel map (with combiner and spills), then parallel reduce. Returns
// the reduce output as blocks of "key\tvalue\n" lines.
Result<std::vector<std::string>> RunStage(const Stage& stage, const StageInput& input,
                                          const EngineOptions& options, unsigned threads,
                                          SpillArea* spill, RunStats* stats) {
  MapShared shared{stage, input, std::max<uint64_t>(options.memory_limit_bytes / threads, 1024),
                   size_t{threads} * 4, spill, stats};
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&shared] { MapWorker(&shared).Run(); });
  }
  for (std::thread& t : pool) t.join();
  RETURN_IF_ERROR(shared.failure);
  std::vector<std::string> parts;
  RETURN_IF_ERROR(ReduceAll(stage, shared.runs, threads, shared.parts, &shared.counters, &parts));
  for (auto& [k, v] : shared.counters.map()) stats->counters[k] += v;
  return parts;
}

// The lines of the last stage's output, sorted bytewise.
std::vector<std::string> SortedLines(const std::vector<std::string>& parts) {
  std::vector<std::string> lines;
  for (const std::string& part : parts) {
    ForEachLine(part, 0, [&](std::string_view l, uint64_t) { lines.emplace_back(l); });
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

}  // namespace

Result<RunResult> RunLocal(const Job& job, const std::vector<InputFile>& inputs,
                           const EngineOptions& options) {
  unsigned threads = options.threads;
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  SpillArea spill(options.spill_dir);
  RunResult result;
  std::vector<std::string> parts;
  bool first = true;
  for (const auto& stage : job.stages()) {
    StageInput input;
    if (first) {
      input.files = &inputs;
    } else {
      input.chunks = Chunks(parts, 1 << 20);
    }
    ASSIGN_OR_RETURN(std::vector<std::string> out,
                     RunStage(*stage, input, options, threads, &spill, &result.stats));
    parts = std::move(out);
    first = false;
  }
  result.lines = SortedLines(parts);
  return result;
}

}  // namespace medhub::analytics
