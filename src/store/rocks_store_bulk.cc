// Bulk loading: staged commits written as SST files and added atomically a chunk at a
// time (bulk_load.h has the design; docs/formats/store.md, "Bulk load").
#include <rocksdb/sst_file_writer.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <filesystem>
#include <thread>

#include "store/bulk_load.h"
#include "store/rocks_store.h"

namespace medhub::store {
namespace {

// Sorts writes (indices into `w`, all sharing their first `depth` key bytes) by key, then
// by index. Keys share long prefixes ("Observation\0code\0..."), so instead of comparing
// whole strings n log n times, this sorts 8-byte big-endian words of the keys at `depth`
// (a contiguous array of integers) and sorts each run of equal words again at depth + 8.
// It also sets same[i] (parallel to `first`) when the key at position i equals the next
// one, found from the words (or from the bytes after `depth`), never by whole-key compares.
static_assert(std::endian::native == std::endian::little, "SortKeys swaps bytes");

struct KeyWord {
  uint64_t word;  // key bytes [depth, depth + 8), zero-padded
  uint32_t rest;  // key bytes from depth on, capped at 9 ("more than this word")
  uint32_t index;
  auto operator<=>(const KeyWord&) const = default;
};

void SortSmall(const std::vector<BulkWrite>& w, uint32_t* first, uint32_t* last, uint8_t* same,
               size_t depth) {
  auto tail = [&w, depth](uint32_t i) { return w[i].Key().substr(depth); };
  std::sort(first, last, [&](uint32_t a, uint32_t b) {
    if (int c = tail(a).compare(tail(b)); c != 0) return c < 0;
    return a < b;
  });
  for (uint32_t* p = first; p + 1 < last; ++p) same[p - first] = tail(p[0]) == tail(p[1]);
}

void SortKeys(const std::vector<BulkWrite>& w, uint32_t* first, uint32_t* last, uint8_t* same,
              size_t depth) {
  const size_t n = static_cast<size_t>(last - first);
  if (n < 2) return;
  if (n <= 16) return SortSmall(w, first, last, same, depth);
  // Skip the bytes all the keys share: sorting by words that are all equal would reorder
  // nothing (a run is in write order) and cost n log n.
  const std::string_view head = w[first[0]].Key();
  size_t common = head.size();
  for (size_t i = 1; i < n && common > depth; ++i) {
    const std::string_view k = w[first[i]].Key();
    const size_t limit = std::min(common, k.size());
    size_t d = depth;
    while (d + 8 <= limit && std::memcmp(head.data() + d, k.data() + d, 8) == 0) d += 8;
    while (d < limit && head[d] == k[d]) ++d;
    common = d;
  }
  depth = common;
  std::vector<KeyWord> words(n);
  for (size_t i = 0; i < n; ++i) {
    const std::string_view k = w[first[i]].Key();
    const size_t rest = k.size() - depth;
    uint64_t word = 0;
    if (rest >= 8) {
      std::memcpy(&word, k.data() + depth, 8);
      word = __builtin_bswap64(word);  // big-endian: integer order is byte order
    } else {
      for (size_t b = 0; b < 8; ++b)
        word = (word << 8) | (b < rest ? static_cast<uint8_t>(k[depth + b]) : 0u);
    }
    words[i] = {word, static_cast<uint32_t>(std::min<size_t>(rest, 9)), first[i]};
  }
  std::sort(words.begin(), words.end());
  for (size_t i = 0; i < n; ++i) first[i] = words[i].index;
  for (size_t i = 0; i < n;) {
    size_t j = i + 1;
    while (j < n && words[j].word == words[i].word && words[j].rest == words[i].rest) ++j;
    if (words[i].rest == 9) {  // the keys go on: sort the run by the next word
      if (j - i > 1) SortKeys(w, first + i, first + j, same + i, depth + 8);
    } else {  // the keys end in this word: the run is one key, written j - i times
      for (size_t k = i; k + 1 < j; ++k) same[k] = 1;
    }
    i = j;
  }
}

// Writes the writes of one column family as a sorted SST file at `path`; of several
// writes of a key the last one wins.
Status WriteSst(rocksdb::DB* db, const BulkFamily& family, const std::string& path) {
  const std::vector<BulkWrite>& w = family.writes;
  std::vector<uint32_t> order(w.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::vector<uint8_t> same(order.size(), 0);
  SortKeys(w, order.data(), order.data() + order.size(), same.data(), 0);
  const rocksdb::Options options = db->GetOptions(family.cf);
  // The file stays in the page cache (invalidate_page_cache = false): the commits planned
  // next and the first reads after the load read it.
  rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), options, family.cf,
                                /*invalidate_page_cache=*/false);
  RETURN_IF_ERROR(FromRocks(writer.Open(path), "opening a bulk-load file"));
  // The writes are read in key order, that is all over the chunk: fetch ahead, the records
  // first, then (once a record is in the cache) its key and value.
  constexpr size_t kAhead = 4, kRecordAhead = 16;
  for (size_t i = 0; i < order.size(); ++i) {
    if (i + kRecordAhead < order.size()) __builtin_prefetch(&w[order[i + kRecordAhead]]);
    if (i + kAhead < order.size()) {
      __builtin_prefetch(w[order[i + kAhead]].key);
      __builtin_prefetch(w[order[i + kAhead]].value);
    }
    if (same[i]) continue;  // a later write of the same key wins
    const BulkWrite& x = w[order[i]];
    const rocksdb::Slice key(x.key, x.key_size);
    RETURN_IF_ERROR(FromRocks(
        x.del ? writer.Delete(key) : writer.Put(key, rocksdb::Slice(x.value, x.value_size)),
        "writing a bulk-load file"));
  }
  // Finish fsyncs the file before it is closed.
  return FromRocks(writer.Finish(), "finishing a bulk-load file");
}

std::string ChunkFile(const std::string& dir, uint64_t gen, uint32_t cf_id) {
  return dir + "/" + std::to_string(gen) + "-" + std::to_string(cf_id) + ".sst";
}

// One SST file per column family the chunk writes, ready for IngestExternalFiles.
Status WriteChunkFiles(rocksdb::DB* db, const BulkChunk& chunk, const std::string& dir,
                       std::vector<rocksdb::IngestExternalFileArg>* args) {
  // The files are written on two threads (the column families split by write count), so
  // that the last chunk of an import, which nothing else overlaps, takes half the time.
  std::vector<uint32_t> ids;
  for (uint32_t id = 0; id < chunk.families.size(); ++id)
    if (!chunk.families[id].writes.empty()) ids.push_back(id);
  auto count = [&chunk](uint32_t id) { return chunk.families[id].writes.size(); };
  std::sort(ids.begin(), ids.end(), [&](uint32_t a, uint32_t b) { return count(a) > count(b); });
  std::vector<std::vector<uint32_t>> halves(2);
  size_t load[2] = {0, 0};
  for (uint32_t id : ids) {
    const int h = load[0] <= load[1] ? 0 : 1;
    halves[h].push_back(id);
    load[h] += count(id);
  }
  Status status[2];
  auto write = [&](int h) {
    for (uint32_t id : halves[h]) {
      status[h] = WriteSst(db, chunk.families[id], ChunkFile(dir, chunk.gen, id));
      if (!status[h].ok()) return;
    }
  };
  std::thread helper(write, 1);
  write(0);
  helper.join();
  RETURN_IF_ERROR(status[0]);
  RETURN_IF_ERROR(status[1]);
  std::sort(ids.begin(), ids.end());
  for (uint32_t id : ids) {
    rocksdb::IngestExternalFileArg arg;
    arg.column_family = chunk.families[id].cf;
    arg.external_files = {ChunkFile(dir, chunk.gen, id)};
    arg.options.move_files = true;            // hard links: the data is not copied again
    arg.options.write_global_seqno = false;   // the file is not rewritten after its fsync
    arg.options.allow_blocking_flush = true;  // a memtable holding these keys is flushed first
    args->push_back(std::move(arg));
  }
  return Status::Ok();
}

void RemoveFiles(const std::vector<rocksdb::IngestExternalFileArg>& args) {
  std::error_code ec;
  for (const auto& a : args)
    for (const std::string& f : a.external_files) std::filesystem::remove(f, ec);
}

}  // namespace

const BulkStaged* RocksStore::StagedCurrent(std::string_view cur_key) const {
  if (!bulk_) return nullptr;
  auto it = bulk_->staged.find(cur_key);
  return it == bulk_->staged.end() ? nullptr : &it->second;
}

Status RocksStore::BeginBulkLoad(size_t chunk_bytes) {
  if (options_.read_only) return Status::FailedPrecondition("the store is open read-only");
  std::lock_guard lock(write_mu_);
  if (bulk_) return Status::FailedPrecondition("a bulk load is already running");
  if (!in_flight_.empty())
    return Status::FailedPrecondition("a bulk load cannot start while commits are running");
  auto b = std::make_unique<BulkState>();
  b->chunk_bytes = std::max<size_t>(chunk_bytes, 1);
  b->dir = (std::filesystem::path(options_.path) / "bulk").string();
  std::error_code ec;
  std::filesystem::remove_all(b->dir, ec);  // files a crashed bulk load left (never added)
  std::filesystem::create_directories(b->dir, ec);
  if (ec) return Status::Unavailable("cannot create " + b->dir + ": " + ec.message());
  b->open = std::make_unique<BulkChunk>();
  b->open->gen = b->next_gen++;
  {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions(), cf(keys::kCurrent)));
    it->SeekToFirst();
    // No resource in the store yet. Device readings count as resources (an Observation
    // with a reading's id updates that reading: LoadCurrent must look it up).
    b->fresh = !it->Valid() && it->status().ok() && !has_readings();
    if (b->fresh) b->written.reserve(1u << 16);
  }
  bulk_ = std::move(b);
  bulk_->writer = std::thread([this] { BulkWriter(); });
  bulk_active_.store(true, std::memory_order_release);
  return Status::Ok();
}

Status RocksStore::EndBulkLoad() {
  if (!bulk_active()) return Status::Ok();
  Status s = AddStaged();
  StopBulkWriter();
  std::lock_guard lock(write_mu_);
  if (s.ok()) s = bulk_->failure;
  std::error_code ec;
  std::filesystem::remove_all(bulk_->dir, ec);
  bulk_active_.store(false, std::memory_order_release);
  bulk_.reset();
  return s;
}

void RocksStore::StopBulkWriter() {
  std::thread writer;
  {
    std::lock_guard lock(write_mu_);
    if (!bulk_ || !bulk_->writer.joinable()) return;
    bulk_->stop = true;
    bulk_->closed_cv.notify_all();
    writer = std::move(bulk_->writer);
  }
  writer.join();
}

void RocksStore::CloseOpenChunk() {
  BulkState& b = *bulk_;
  b.closed_bytes += b.open->bytes;
  b.closed.push_back(std::move(b.open));
  if (b.spare.empty()) {
    b.open = std::make_unique<BulkChunk>();
  } else {
    b.open = std::move(b.spare.back());
    b.spare.pop_back();
  }
  b.open->Reset(b.next_gen++);
  b.closed_cv.notify_all();
}

void RocksStore::BulkWriter() {
  std::unique_lock lock(write_mu_);
  BulkState& b = *bulk_;
  while (true) {
    b.closed_cv.wait(lock, [&b] { return !b.closed.empty() || b.stop; });
    if (b.stop) return;
    std::unique_ptr<BulkChunk> chunk = std::move(b.closed.front());
    b.closed.pop_front();
    b.closed_cv.notify_all();  // room for a committing thread that waits to close a chunk
    lock.unlock();
    AddChunk(std::move(chunk));
    lock.lock();
  }
}

Status RocksStore::AddStaged() {
  std::unique_lock lock(write_mu_);
  if (!bulk_) return Status::Ok();
  BulkState& b = *bulk_;
  if (!b.open->empty()) CloseOpenChunk();
  const uint64_t wait_for = b.open->gen - 1;
  b.added_cv.wait(lock, [&] { return b.added_gen >= wait_for; });
  return b.failure;
}

void RocksStore::AddChunk(std::unique_ptr<BulkChunk> chunk) {
  std::vector<rocksdb::IngestExternalFileArg> args;
  Status s = WriteChunkFiles(db_.get(), *chunk, bulk_->dir, &args);  // no lock held
  std::unique_lock lock(write_mu_);
  BulkState& b = *bulk_;
  if (s.ok() && !b.failure.ok()) s = b.failure;
  if (s.ok()) {
    lock.unlock();  // only this thread adds chunks, in the order they were closed
    s = FromRocks(db_->IngestExternalFiles(args), "adding a bulk-load chunk");
    lock.lock();
  }
  // The staged states this chunk made durable, freed after the lock is released.
  // Removed when the chunk failed too: they are views of the chunk, which is reused.
  std::vector<decltype(b.staged)::node_type> done;
  for (auto it = b.staged.begin(); it != b.staged.end();) {
    auto next = std::next(it);
    if (it->second.gen == chunk->gen) done.push_back(b.staged.extract(it));
    it = next;
  }
  if (s.ok()) {
    for (const DataKeyRef& k : chunk->new_keys) k->durable = true;
  } else if (b.failure.ok()) {
    b.failure = s;
  }
  // Published as written, or as a gap when the chunk failed (like a failed commit).
  for (uint64_t first : chunk->first_seqs) pending_.erase(first);
  published_seq_ = pending_.empty() ? assigned_seq_ : pending_.begin()->first - 1;
  b.added_gen = chunk->gen;
  b.added_cv.notify_all();
  chunk->new_keys.clear();  // its data keys are durable (or the load failed)
  b.spare.push_back(std::move(chunk));  // reused, with its memory, by a later chunk
  lock.unlock();
  done.clear();
  RemoveFiles(args);  // left only when the chunk was not added (move_files links them)
}

}  // namespace medhub::store
