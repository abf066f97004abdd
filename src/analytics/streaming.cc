#include "analytics/streaming.h"

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "analytics/stages.h"

namespace medhub::analytics {
namespace {

class StreamCounters : public Counters {
 public:
  void Add(std::string_view name, int64_t n) override {
    auto it = map_.find(name);
    if (it == map_.end()) it = map_.emplace(std::string(name), 0).first;
    it->second += n;
  }
  void Report(std::ostream& err) const {
    for (const auto& [name, n] : map_) {
      err << "reporter:counter:medhub," << name << "," << n << "\n";
    }
  }

 private:
  std::map<std::string, int64_t, std::less<>> map_;
};

void RunMap(const Stage& stage, std::istream& in, std::ostream& out, std::ostream& err,
            StreamCounters* counters) {
  const char* input_file = std::getenv("mapreduce_map_input_file");
  const std::string file = input_file != nullptr ? input_file : "stdin";
  const Emit emit = [&](std::string_view k, std::string_view v) {
    out.write(k.data(), static_cast<std::streamsize>(k.size()));
    out.put('\t');
    out.write(v.data(), static_cast<std::streamsize>(v.size()));
    out.put('\n');
  };
  std::string line;
  uint64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    counters->Add("input_bytes", static_cast<int64_t>(line.size() + 1));  // with its '\n'
    if (line.empty()) continue;
    counters->Add("input_lines", 1);
    const Status s = stage.Map(line, emit, counters);
    if (!s.ok()) {
      counters->Add("bad_lines", 1);
      err << "medhub: " << file << ":" << number << ": " << s.message() << "\n";
    }
  }
}

// Groups sorted "key\tvalue" lines by key and hands each group to `fn`.
template <typename Fn>
void ForEachGroup(std::istream& in, std::ostream& err, StreamCounters* counters, Fn&& fn) {
  std::string line, key;
  std::vector<std::string> values;
  bool have = false;
  auto flush = [&] {
    if (!have) return;
    std::vector<std::string_view> views(values.begin(), values.end());
    fn(key, views);
    values.clear();
  };
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto kv = SplitKeyValue(line);
    if (!kv.ok()) {
      counters->Add("bad_lines", 1);
      err << "medhub: reduce input: " << kv.status().message() << "\n";
      continue;
    }
    if (!have || kv->first != key) {
      flush();
      key.assign(kv->first);
      have = true;
    }
    values.emplace_back(kv->second);
  }
  flush();
}

}  // namespace

Status RunStreaming(const Job& job, int stage, StreamingRole role, std::istream& in,
                    std::ostream& out, std::ostream& err) {
  if (stage < 1 || static_cast<size_t>(stage) > job.stages().size()) {
    return Status::InvalidArgument("job " + std::string(job.name()) + " has stages 1.." +
                                   std::to_string(job.stages().size()));
  }
  const Stage& s = *job.stages()[stage - 1];
  StreamCounters counters;
  const Emit emit = [&](std::string_view k, std::string_view v) {
    out.write(k.data(), static_cast<std::streamsize>(k.size()));
    out.put('\t');
    out.write(v.data(), static_cast<std::streamsize>(v.size()));
    out.put('\n');
  };
  switch (role) {
    case StreamingRole::kMap:
      RunMap(s, in, out, err, &counters);
      break;
    case StreamingRole::kCombine:
      ForEachGroup(in, err, &counters, [&](std::string_view k, const auto& vs) {
        s.Combine(k, vs, emit);
      });
      break;
    case StreamingRole::kReduce:
      ForEachGroup(in, err, &counters, [&](std::string_view k, const auto& vs) {
        s.Reduce(k, vs, emit, &counters);
      });
      break;
  }
  out.flush();
  counters.Report(err);
  if (!out) return Status::Internal("cannot write the output stream");
  return Status::Ok();
}

}  // namespace medhub::analytics
