// Bulk loading: staged commits written as SST files and added atomically a chunk at a
// time (bulk_load.h has the design; docs/formats/store.md, "Bulk load").
#include <rocksdb/sst_file_writer.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>

#include "store/bulk_load.h"
#include "store/bulk_sort.h"
#include "store/rocks_store.h"

namespace medhub::store {
namespace {

// Writes the writes of one column family as a sorted SST file at `path`; of several
// writes of a key the last one wins.
Status WriteSst(rocksdb::DB* db, const BulkFamily& family, const std::string& path) {
  const std::vector<BulkWrite>& w = family.writes;
  std::vector<uint32_t> order;
  std::vector<uint8_t> same;
  SortWrites(w, &order, &same);
  const rocksdb::Options options = db->GetOptions(family.cf);
  // The file stays in the page cache (invalidate_page_cache = false): the commits planned
  // next and the first reads after the load read it.
  rocksdb::EnvOptions env_options;
  env_options.bytes_per_sync = 1u << 20;  // writeback starts early: Finish waits less
  rocksdb::SstFileWriter writer(env_options, options, family.cf,
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
  // The files are written on two threads, each taking the next column family, the largest
  // (by write count) first, so that the last chunk of an import, which nothing else
  // overlaps, takes about half the time.
  std::vector<uint32_t> ids;
  for (uint32_t id = 0; id < chunk.families.size(); ++id)
    if (!chunk.families[id].writes.empty()) ids.push_back(id);
  auto count = [&chunk](uint32_t id) { return chunk.families[id].writes.size(); };
  std::sort(ids.begin(), ids.end(), [&](uint32_t a, uint32_t b) { return count(a) > count(b); });
  std::atomic<size_t> next{0};
  Status status[2];
  auto write = [&](int h) {
    for (size_t i = next++; i < ids.size(); i = next++) {
      status[h] = WriteSst(db, chunk.families[ids[i]], ChunkFile(dir, chunk.gen, ids[i]));
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
  bulk_->adder = std::thread([this] { BulkAdder(); });
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
  std::thread writer, adder;
  {
    std::lock_guard lock(write_mu_);
    if (!bulk_ || !bulk_->writer.joinable()) return;
    bulk_->stop = true;
    bulk_->closed_cv.notify_all();
    bulk_->written_cv.notify_all();
    writer = std::move(bulk_->writer);
    adder = std::move(bulk_->adder);
  }
  writer.join();
  adder.join();
}

void RocksStore::CloseOpenChunk() {
  BulkState& b = *bulk_;
  // While the writer is busy, the open chunk keeps filling (up to the cap) and the writer
  // takes it when it is done: a closed chunk waiting beside the open one would hold a third
  // chunk's memory (fresh pages are expensive: docs/formats/store.md).
  if (b.writing && b.open->bytes < b.ChunkCap()) return;
  CloseOpenChunkNow();
}

void RocksStore::CloseOpenChunkNow() {
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
    b.closed_cv.wait(lock, [&b] {
      return !b.closed.empty() || b.stop || b.open->bytes >= b.ChunkLimit();
    });
    if (b.stop) return;
    if (b.closed.empty()) CloseOpenChunkNow();  // full, left open while the writer was busy
    std::unique_ptr<BulkChunk> chunk = std::move(b.closed.front());
    b.closed.pop_front();
    b.writing = true;
    b.closed_cv.notify_all();  // room for a committing thread that waits to close a chunk
    lock.unlock();
    WriteChunk(std::move(chunk));
    lock.lock();
    b.writing = false;
  }
}

void RocksStore::BulkAdder() {
  std::unique_lock lock(write_mu_);
  BulkState& b = *bulk_;
  while (true) {
    b.written_cv.wait(lock, [&b] { return !b.written_chunks.empty() || b.stop; });
    if (b.stop) return;
    BulkWritten written = std::move(b.written_chunks.front());
    b.written_chunks.pop_front();
    b.written_cv.notify_all();  // room for the writer
    lock.unlock();
    AddChunk(std::move(written));
    lock.lock();
  }
}

Status RocksStore::AddStaged() {
  std::unique_lock lock(write_mu_);
  if (!bulk_) return Status::Ok();
  BulkState& b = *bulk_;
  if (!b.open->empty()) CloseOpenChunkNow();
  const uint64_t wait_for = b.open->gen - 1;
  b.added_cv.wait(lock, [&] { return b.added_gen >= wait_for; });
  return b.failure;
}

void RocksStore::WriteChunk(std::unique_ptr<BulkChunk> chunk) {
  BulkWritten w;
  w.status = WriteChunkFiles(db_.get(), *chunk, bulk_->dir, &w.files);  // no lock held
  w.chunk = std::move(chunk);
  std::unique_lock lock(write_mu_);
  BulkState& b = *bulk_;
  // Back-pressure: a written chunk may wait for the adder (its files on disk).
  b.written_cv.wait(lock, [&b] {
    return b.written_chunks.size() < BulkState::kMaxWrittenChunks || b.stop;
  });
  if (b.stop) {
    b.spare.push_back(std::move(w.chunk));  // staged states may still view it
    lock.unlock();
    RemoveFiles(w.files);
    return;
  }
  b.written_chunks.push_back(std::move(w));
  b.written_cv.notify_all();
}

void RocksStore::AddChunk(BulkWritten written) {
  Status s = std::move(written.status);
  BulkChunk& chunk = *written.chunk;
  std::unique_lock lock(write_mu_);
  BulkState& b = *bulk_;
  if (s.ok() && !b.failure.ok()) s = b.failure;
  if (s.ok()) {
    lock.unlock();  // only this thread adds chunks, in the order they were closed
    s = FromRocks(db_->IngestExternalFiles(written.files), "adding a bulk-load chunk");
    lock.lock();
  }
  // The staged states this chunk made durable, freed after the lock is released.
  // Removed when the chunk failed too: they are views of the chunk, which is reused.
  std::vector<decltype(b.staged)::node_type> done;
  for (auto it = b.staged.begin(); it != b.staged.end();) {
    auto next = std::next(it);
    if (it->second.gen == chunk.gen) done.push_back(b.staged.extract(it));
    it = next;
  }
  if (s.ok()) {
    for (const DataKeyRef& k : chunk.new_keys) k->durable = true;
  } else if (b.failure.ok()) {
    b.failure = s;
  }
  // Published as written, or as a gap when the chunk failed (like a failed commit).
  for (uint64_t first : chunk.first_seqs) pending_.erase(first);
  published_seq_ = pending_.empty() ? assigned_seq_ : pending_.begin()->first - 1;
  b.added_gen = chunk.gen;
  b.added_cv.notify_all();
  chunk.new_keys.clear();  // its data keys are durable (or the load failed)
  b.spare.push_back(std::move(written.chunk));  // reused, with its memory, by a later chunk
  lock.unlock();
  done.clear();
  RemoveFiles(written.files);  // left only when the chunk was not added (move_files links them)
}

}  // namespace medhub::store
