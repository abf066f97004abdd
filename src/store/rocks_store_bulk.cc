// Bulk loading: staged commits written as SST files and added atomically a chunk at a
// time (bulk_load.h has the design; docs/formats/store.md, "Bulk load").
#include <rocksdb/sst_file_writer.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "store/bulk_load.h"
#include "store/rocks_store.h"

namespace medhub::store {
namespace {

// Writes the writes of one column family (indices into chunk.writes, in write order) as a
// sorted SST file at `path`; of several writes of a key the last one wins.
Status WriteSst(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, const BulkChunk& chunk,
                std::vector<uint32_t>& order, const std::string& path) {
  const std::vector<BulkWrite>& w = chunk.writes;
  std::sort(order.begin(), order.end(), [&w](uint32_t a, uint32_t b) {
    if (int c = w[a].key.compare(w[b].key); c != 0) return c < 0;
    return a < b;
  });
  const rocksdb::Options options = db->GetOptions(cf);
  rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), options, cf);
  RETURN_IF_ERROR(FromRocks(writer.Open(path), "opening a bulk-load file"));
  for (size_t i = 0; i < order.size(); ++i) {
    const BulkWrite& x = w[order[i]];
    if (i + 1 < order.size() && w[order[i + 1]].key == x.key) continue;  // a later write wins
    RETURN_IF_ERROR(FromRocks(x.del ? writer.Delete(x.key) : writer.Put(x.key, x.value),
                              "writing a bulk-load file"));
  }
  // Finish fsyncs the file before it is closed.
  return FromRocks(writer.Finish(), "finishing a bulk-load file");
}

// One SST file per column family the chunk writes, ready for IngestExternalFiles.
Status WriteChunkFiles(rocksdb::DB* db, const BulkChunk& chunk, const std::string& dir,
                       std::vector<rocksdb::IngestExternalFileArg>* args) {
  std::map<uint32_t, std::pair<rocksdb::ColumnFamilyHandle*, std::vector<uint32_t>>> by_cf;
  for (uint32_t i = 0; i < chunk.writes.size(); ++i) {
    auto& [cf, order] = by_cf[chunk.writes[i].cf->GetID()];
    cf = chunk.writes[i].cf;
    order.push_back(i);
  }
  for (auto& [id, entry] : by_cf) {
    auto& [cf, order] = entry;
    const std::string path =
        dir + "/" + std::to_string(chunk.gen) + "-" + std::to_string(id) + ".sst";
    RETURN_IF_ERROR(WriteSst(db, cf, chunk, order, path));
    rocksdb::IngestExternalFileArg arg;
    arg.column_family = cf;
    arg.external_files = {path};
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

const BulkStaged* RocksStore::StagedCurrent(const std::string& cur_key) const {
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
  bulk_ = std::move(b);
  bulk_active_.store(true, std::memory_order_release);
  return Status::Ok();
}

Status RocksStore::EndBulkLoad() {
  if (!bulk_active()) return Status::Ok();
  Status s = AddStaged();
  std::lock_guard lock(write_mu_);
  if (s.ok()) s = bulk_->failure;
  std::error_code ec;
  std::filesystem::remove_all(bulk_->dir, ec);
  bulk_active_.store(false, std::memory_order_release);
  bulk_.reset();
  return s;
}

Status RocksStore::AddStaged() {
  std::unique_ptr<BulkChunk> chunk;
  uint64_t wait_for = 0;
  {
    std::lock_guard lock(write_mu_);
    if (!bulk_) return Status::Ok();
    if (!bulk_->open->writes.empty()) {
      chunk = std::move(bulk_->open);
      bulk_->open = std::make_unique<BulkChunk>();
      bulk_->open->gen = bulk_->next_gen++;
    }
    wait_for = bulk_->open->gen - 1;
  }
  Status s = chunk ? AddChunk(std::move(chunk)) : Status::Ok();
  std::unique_lock lock(write_mu_);
  bulk_->added_cv.wait(lock, [&] { return bulk_->added_gen >= wait_for; });
  return s.ok() ? bulk_->failure : s;
}

Status RocksStore::AddChunk(std::unique_ptr<BulkChunk> chunk) {
  std::vector<rocksdb::IngestExternalFileArg> args;
  Status s = WriteChunkFiles(db_.get(), *chunk, bulk_->dir, &args);  // no lock held
  std::unique_lock lock(write_mu_);
  BulkState& b = *bulk_;
  // Chunks are added in the order they were closed: a later one may overwrite keys.
  b.added_cv.wait(lock, [&] { return b.added_gen + 1 == chunk->gen; });
  if (s.ok() && !b.failure.ok()) s = b.failure;
  if (s.ok()) {
    lock.unlock();  // this chunk's turn: no other chunk is added meanwhile
    s = FromRocks(db_->IngestExternalFiles(args), "adding a bulk-load chunk");
    lock.lock();
  }
  if (s.ok()) {
    for (const DataKeyRef& k : chunk->new_keys) k->durable = true;
    for (auto it = b.staged.begin(); it != b.staged.end();) {
      it = it->second.gen == chunk->gen ? b.staged.erase(it) : std::next(it);
    }
  } else if (b.failure.ok()) {
    b.failure = s;
  }
  // Published as written, or as a gap when the chunk failed (like a failed commit).
  for (uint64_t first : chunk->first_seqs) pending_.erase(first);
  published_seq_ = pending_.empty() ? assigned_seq_ : pending_.begin()->first - 1;
  b.added_gen = chunk->gen;
  b.added_cv.notify_all();
  lock.unlock();
  RemoveFiles(args);  // left only when the chunk was not added (move_files links them)
  return s;
}

}  // namespace medhub::store
