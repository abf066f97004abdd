#include "lake/lake_writer.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <utility>

#include "core/json.h"
#include "core/time.h"
#include "lake/manifest.h"
#include "lake/partition.h"

namespace medhub::lake {

// One data file of the commit being staged.
struct LakeWriter::OpenFile {
  std::string type;
  std::string url;     // final path, relative to the root
  std::string staged;  // path under _staging/<commit>/
  std::string buffer;  // lines not yet written to `staged`
  uint64_t count = 0;
  uint64_t bytes = 0;  // written + buffered
  bool created = false;
};

namespace {

std::string PartFileName(uint64_t commit, size_t index) {
  char idx[8];
  std::snprintf(idx, sizeof idx, "%04zu", index);
  return "part-" + CommitDigits(commit) + "-" + idx + ".ndjson";
}

// Where a data file of `commit` is staged: one flat folder per commit (no partition tree to
// create twice), the partition path folded into the name: _staging/<commit>/A~B~C.ndjson.
std::string StagedPath(uint64_t commit, std::string_view url) {
  std::string flat(url);
  std::replace(flat.begin(), flat.end(), '/', '~');
  return JoinPath(JoinPath(kStagingDir, CommitDigits(commit)), flat);
}

std::string ParentDir(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? "" : std::string(path.substr(0, slash));
}

// Runs fn(0..n-1) on up to `threads` threads (the caller's included); the first error wins
// and stops the rest from starting new items.
Status ParallelFor(size_t n, size_t threads, const std::function<Status(size_t)>& fn) {
  std::atomic<size_t> next{0};
  std::mutex mu;
  Status first;
  auto worker = [&] {
    for (size_t i; (i = next.fetch_add(1)) < n;) {
      Status s = fn(i);
      if (!s.ok()) {
        std::lock_guard lock(mu);
        if (first.ok()) first = std::move(s);
        next = n;
      }
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < std::min(std::max<size_t>(threads, 1), n); ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  return first;
}

}  // namespace

LakeWriter::LakeWriter(store::Store* store, FileSystem* fs, LakeWriterOptions options)
    : store_(store),
      fs_(fs),
      options_(std::move(options)),
      follower_(
          [this](bool force, bool* progressed) {
            const Status s = Step(force, progressed);
            if (!s.ok()) DiscardStaging();  // retried from the last manifest
            return s;
          },
          [this] { return state().seq; }, options_.follow) {}

LakeWriter::~LakeWriter() { (void)Stop(); }

Status LakeWriter::Open() {
  const Status s = Recover();
  follower_.SetStatus(s);
  return s;
}

void LakeWriter::Start() { follower_.Start(); }

Status LakeWriter::Stop() { return follower_.Stop(); }

Status LakeWriter::CatchUp() { return follower_.CatchUp(); }

Status LakeWriter::WaitForSequence(uint64_t seq, std::chrono::milliseconds timeout) {
  return follower_.WaitForSequence(seq, timeout, "in the lake");
}

LakeState LakeWriter::state() const {
  std::lock_guard lock(mu_);
  return state_;
}

Status LakeWriter::status() const { return follower_.status(); }

Status LakeWriter::Recover() {
  DiscardStaging();
  Result<std::vector<FileInfo>> list = fs_->List(kManifestDir);
  if (list.status().code() == StatusCode::kNotFound) {
    list = std::vector<FileInfo>{};
  }
  RETURN_IF_ERROR(list.status().WithPrefix("lake " + fs_->Describe()));
  LakeState latest;
  std::string latest_format(kManifestFormat);
  std::vector<Bucketing> bucketing;
  uint64_t last_changes = 0;
  std::vector<uint64_t> pending;
  for (const FileInfo& f : *list) {
    if (std::optional<uint64_t> c = CommitOfName(f.name, false)) latest.commit = *c;
    if (std::optional<uint64_t> c = CommitOfName(f.name, true)) pending.push_back(*c);
  }
  if (latest.commit > 0) {
    ASSIGN_OR_RETURN(std::string text,
                     fs_->Read(JoinPath(kManifestDir, ManifestName(latest.commit))));
    Result<Manifest> m = ParseManifest(text);
    if (!m.ok()) return m.status().WithPrefix(ManifestName(latest.commit));
    latest.seq = m->seq;
    latest_format = m->format;
    bucketing = m->bucketing;
    last_changes = m->changes;
  }
  for (uint64_t c : pending) {
    const std::string pending_path = JoinPath(kManifestDir, PendingName(c));
    Result<std::string> text = fs_->Read(pending_path);
    RETURN_IF_ERROR(text.status());
    Result<Manifest> m = ParseManifest(*text);
    if (c != latest.commit + 1 || !m.ok() || m->commit != c) {
      RETURN_IF_ERROR(fs_->Delete(pending_path, false));  // incomplete or stale
      continue;
    }
    // Roll forward: every file it names was complete before the pending manifest was written.
    for (const ManifestFile& f : m->output) {
      const std::string from = StagedPath(c, f.url);
      if (fs_->Stat(from).ok()) {
        RETURN_IF_ERROR(fs_->MakeDirs(ParentDir(f.url)));
        RETURN_IF_ERROR(fs_->Rename(from, f.url));
      } else if (!fs_->Stat(f.url).ok()) {
        return Status::DataLoss("lake recovery: " + f.url + " of pending commit " +
                                std::to_string(c) + " is neither staged nor published");
      }
    }
    RETURN_IF_ERROR(fs_->Barrier());
    RETURN_IF_ERROR(fs_->Rename(pending_path, JoinPath(kManifestDir, ManifestName(c))));
    latest = LakeState{c, m->seq};
    latest_format = m->format;
    bucketing = m->bucketing;
    last_changes = m->changes;
  }
  if (latest_format == kManifestFormatV1) {
    return Status::FailedPrecondition(
        "lake " + fs_->Describe() + " has the " + latest_format + " layout (partitioned by " +
        "clinical year); this medhub appends only to " + std::string(kManifestFormatV2) +
        " and " + std::string(kManifestFormat) +
        " lakes: write a new one (medhub lake sync --to NEW_LOCATION) and move readers to it");
  }
  RETURN_IF_ERROR(fs_->Delete(kStagingDir, true));
  RETURN_IF_ERROR(fs_->MakeDirs(kManifestDir));
  RETURN_IF_ERROR(fs_->Barrier());
  {
    std::lock_guard lock(mu_);
    state_ = latest;
  }
  staged_seq_ = latest.seq;
  bucketing_ = std::move(bucketing);
  last_commit_changes_ = last_changes;
  needs_recovery_ = false;
  follower_.NotifyProgress();
  return Status::Ok();
}

void LakeWriter::DiscardStaging() {
  open_.clear();
  closed_.clear();
  made_dirs_.clear();
  staged_bytes_ = buffered_bytes_ = staged_changes_ = superseding_ = 0;
  small_buffers_full_ = false;
  commit_buckets_ = 0;
  needs_recovery_ = true;
}

int LakeWriter::CommitBuckets() {
  if (commit_buckets_ != 0) return commit_buckets_;
  int max = 1;
  while (max * 2 <= std::min(options_.max_buckets, kBuckets)) max *= 2;
  const uint64_t committed = state().seq;
  const uint64_t last = store_->LastSequence();
  const uint64_t expected = std::max(last > committed ? last - committed : 0, last_commit_changes_);
  const uint64_t per_bucket = std::max<uint64_t>(options_.changes_per_bucket, 1);
  int want = 1;
  while (want < max && expected / per_bucket >= static_cast<uint64_t>(want) * 2) want *= 2;
  commit_buckets_ = std::max(want, bucketing_.empty() ? 1 : bucketing_.back().buckets);
  return commit_buckets_;
}

Status LakeWriter::StageChange(const store::Change& c) {
  // AuditEvents stay out of the lake: the access trail is not population data (it names
  // callers and their addresses), and every API request adds one (docs/formats/lake.md).
  if (c.type == "AuditEvent") {
    staged_seq_ = c.seq;
    return Status::Ok();
  }
  std::string line;
  std::string partition;
  ASSIGN_OR_RETURN(store::StoredResource first, store_->ReadVersion(c.type, c.id, 1));
  RETURN_IF_ERROR(first_doc_.Load(first.json));  // in place: no tree for two fields
  const json::LazyNode first_json = first_doc_.root();
  // The bucket count in force when version 1 was published (this commit's if it is here).
  const int buckets =
      first.seq > state().seq ? CommitBuckets() : BucketsAt(bucketing_, first.seq);
  partition = PartitionDir(c.type, PartitionYear(first_json, first.last_updated),
                           BucketOf(PatientOf(first_json, c.type, c.id), c.type, c.id, buckets));
  if (c.deleted) {
    line = TombstoneLine(c.type, c.id, c.version, c.last_updated);
  } else if (c.version == 1) {
    line = std::move(first.json);
  } else {
    ASSIGN_OR_RETURN(store::StoredResource v, store_->ReadVersion(c.type, c.id, c.version));
    line = std::move(v.json);
  }
  line += '\n';
  const uint64_t commit = state().commit + 1;
  std::unique_ptr<OpenFile>& file = open_[partition];
  if (file != nullptr && file->bytes > 0 && file->bytes + line.size() > options_.max_file_bytes) {
    closed_.push_back(std::move(file));  // roll
  }
  if (file == nullptr) {
    size_t index = 0;
    for (const auto& f : closed_) index += ParentDir(f->url) == partition ? 1 : 0;
    file = std::make_unique<OpenFile>();
    file->type = c.type;
    file->url = partition + "/" + PartFileName(commit, index);
    file->staged = StagedPath(commit, file->url);
  }
  if (staged_changes_ == 0) first_staged_ = std::chrono::steady_clock::now();
  file->buffer += line;
  file->bytes += line.size();
  file->count++;
  staged_bytes_ += line.size();
  buffered_bytes_ += line.size();
  staged_changes_++;
  if (c.version > 1 || c.deleted) superseding_++;
  staged_seq_ = c.seq;
  if (buffered_bytes_ >= options_.buffer_bytes) {
    // Writes out only the big buffers (each append carries at least 1/16 of the buffer): on
    // HDFS an append costs as much as a create, so small files are written once, at commit.
    // If the small buffers alone still fill half the memory, Step commits early.
    RETURN_IF_ERROR(FlushBuffers(std::max<uint64_t>(options_.buffer_bytes / 16, 1)));
    small_buffers_full_ = buffered_bytes_ >= options_.buffer_bytes / 2;
  }
  return Status::Ok();
}

Status LakeWriter::FlushBuffers(uint64_t min_bytes) {
  std::vector<OpenFile*> dirty;
  uint64_t bytes = 0;
  auto consider = [&](OpenFile* f) {
    if (!f->buffer.empty() && f->buffer.size() >= min_bytes) {
      dirty.push_back(f);
      bytes += f->buffer.size();
    }
  };
  for (auto& f : closed_) consider(f.get());
  for (auto& [dir, f] : open_) consider(f.get());
  const Status flushed = ParallelFor(dirty.size(), options_.io_threads, [&](size_t i) -> Status {
    OpenFile& f = *dirty[i];
    if (f.created) {
      RETURN_IF_ERROR(fs_->Append(f.staged, f.buffer));
    } else {
      RETURN_IF_ERROR(fs_->Create(f.staged, f.buffer, /*overwrite=*/true));
      f.created = true;
    }
    f.buffer.clear();
    f.buffer.shrink_to_fit();
    return Status::Ok();
  });
  RETURN_IF_ERROR(flushed);
  buffered_bytes_ -= bytes;
  return Status::Ok();
}

Status LakeWriter::Commit() {
  RETURN_IF_ERROR(FlushBuffers(1));
  RETURN_IF_ERROR(fs_->Barrier());  // staged files complete before the pending manifest
  const LakeState before = state();
  Manifest m;
  m.commit = before.commit + 1;
  m.previous_seq = before.seq;
  m.seq = staged_seq_;
  m.transaction_time = FormatInstant(NowMicros());
  m.changes = staged_changes_;
  m.superseding = superseding_;
  m.bucketing = bucketing_;
  if (const int b = CommitBuckets(); m.bucketing.empty() || m.bucketing.back().buckets != b) {
    m.bucketing.push_back(Bucketing{before.seq + 1, b});
  }
  for (auto& [dir, f] : open_) closed_.push_back(std::move(f));
  open_.clear();
  std::sort(closed_.begin(), closed_.end(),
            [](const auto& a, const auto& b) { return a->url < b->url; });
  for (const auto& f : closed_) m.output.push_back({f->type, f->url, f->count, f->bytes});
  const std::string pending = JoinPath(kManifestDir, PendingName(m.commit));
  RETURN_IF_ERROR(fs_->Create(pending, SerializeManifest(m), /*overwrite=*/true));
  RETURN_IF_ERROR(fs_->Barrier());  // the pending manifest before any rename
  // Partition folders: made once per writer (a lake gets few new ones per commit).
  std::vector<std::string> dirs;
  for (const auto& f : closed_) {
    std::string dir = ParentDir(f->url);
    if (!made_dirs_.contains(dir) && (dirs.empty() || dirs.back() != dir)) {
      dirs.push_back(std::move(dir));
    }
  }
  RETURN_IF_ERROR(ParallelFor(dirs.size(), options_.io_threads,
                              [&](size_t i) { return fs_->MakeDirs(dirs[i]); }));
  made_dirs_.insert(dirs.begin(), dirs.end());
  RETURN_IF_ERROR(ParallelFor(closed_.size(), options_.io_threads, [&](size_t i) {
    return fs_->Rename(closed_[i]->staged, closed_[i]->url);
  }));
  RETURN_IF_ERROR(fs_->Barrier());  // every rename before the manifest
  RETURN_IF_ERROR(fs_->Rename(pending, JoinPath(kManifestDir, ManifestName(m.commit))));
  RETURN_IF_ERROR(fs_->Barrier());
  {
    std::lock_guard lock(mu_);
    state_ = LakeState{m.commit, m.seq};
  }
  follower_.NotifyProgress();
  closed_.clear();
  staged_bytes_ = buffered_bytes_ = staged_changes_ = superseding_ = 0;
  small_buffers_full_ = false;
  bucketing_ = std::move(m.bucketing);
  last_commit_changes_ = m.changes;
  commit_buckets_ = 0;
  // Leftover staging only costs space; recovery removes it if this fails.
  (void)fs_->Delete(JoinPath(kStagingDir, CommitDigits(m.commit)), true);
  return Status::Ok();
}

Status LakeWriter::Step(bool force, bool* progressed) {
  *progressed = false;
  if (needs_recovery_) RETURN_IF_ERROR(Recover());
  ASSIGN_OR_RETURN(std::vector<store::Change> changes,
                   store_->ChangesSince(staged_seq_, std::max<size_t>(options_.batch, 1)));
  for (const store::Change& c : changes) {
    const Status s = StageChange(c);
    if (!s.ok()) {
      return s.WithPrefix("lake: change " + std::to_string(c.seq) + " (" + c.type + "/" + c.id +
                          "/_history/" + std::to_string(c.version) + ")");
    }
  }
  *progressed = !changes.empty();
  if (staged_changes_ == 0) return Status::Ok();
  const bool drained = changes.size() < std::max<size_t>(options_.batch, 1);
  // Forced (CatchUp/Stop) commits wait for the end of the feed, so a catch-up of a large
  // feed makes few commits (few, large files) rather than one per batch.
  const auto age = std::chrono::steady_clock::now() - first_staged_;
  const bool due = staged_bytes_ >= options_.commit_bytes || small_buffers_full_ ||
                   age >= options_.max_commit_delay ||
                   (drained && (force || age >= options_.commit_interval));
  if (due) {
    RETURN_IF_ERROR(Commit());
    *progressed = true;
  }
  return Status::Ok();
}

}  // namespace medhub::lake
