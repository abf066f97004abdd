// Internal to the store module: the state of a bulk load (Store::BeginBulkLoad ..
// EndBulkLoad; docs/formats/store.md, "Bulk load").
//
// A bulk load runs the normal commit path (prepare, plan, seal) but, instead of writing
// each commit's batch to the WAL and memtables, moves the batch into the open *chunk*.
// When the chunk holds its limit of keys and values (ChunkLimit(): `chunk_bytes`, growing
// to half of what the load has closed so far, at most 4 × `chunk_bytes`: a long load makes
// fewer, larger files, so the L0 → L1 compactions that rewrite the growing L1 during the
// load stay few — docs/formats/store.md), the committing thread closes it
// and hands it to the load's writer thread (at most `max_closed` closed chunks wait for
// it; a committing thread that would exceed that waits), so that parsing and planning go
// on while a chunk is written and fsynced. The writer sorts the chunk's writes per column
// family (the last write of a key wins, as in the batches), writes one SST file per column
// family with rocksdb::SstFileWriter (fsynced by Finish, left in the page cache), and adds
// the files of all column families in one IngestExternalFiles call, which is atomic:
// after a crash the store holds all of a chunk or none of it. Chunks are added in the
// order they were closed (a later chunk may overwrite keys of an earlier one), and a
// chunk's sequence numbers are published only once it is added.
//
// Until its chunk is added, the state a commit left (current record, stored bytes) is kept
// in `staged`, so that later commits plan against it and Read() returns it.
//
// Thread safety: everything here is guarded by RocksStore::write_mu_, except `writer` (the
// thread is started by BeginBulkLoad and joined by EndBulkLoad or the store's destructor).
#pragma once

#include <rocksdb/db.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/status.h"
#include "store/key_ring.h"
#include "store/keys.h"
#include "store/store.h"

namespace medhub::store {

struct BulkWrite {
  rocksdb::ColumnFamilyHandle* cf = nullptr;
  std::string key;
  std::string value;
  bool del = false;
};

struct BulkChunk {
  uint64_t gen = 0;  // chunks are added in gen order
  std::vector<BulkWrite> writes;
  size_t bytes = 0;
  std::vector<uint64_t> first_seqs;  // the pending_ entries of the staged commits
  std::vector<DataKeyRef> new_keys;  // data keys whose records this chunk writes
};

// A resource as the staged commits left it.
struct BulkStaged {
  keys::CurrentRecord current;
  StoredResource stored;  // the current version (json empty for a delete marker)
  uint64_t gen = 0;       // the chunk that writes it
};

struct BulkState {
  size_t chunk_bytes = 16u << 20;  // the first chunks' limit
  uint64_t closed_bytes = 0;       // keys and values of every chunk closed so far
  size_t ChunkLimit() const {
    return static_cast<size_t>(std::clamp<uint64_t>(closed_bytes / 2, chunk_bytes,
                                                     uint64_t{4} * chunk_bytes));
  }
  std::string dir;  // where the SST files are built (inside the data directory)
  std::unique_ptr<BulkChunk> open;
  std::deque<std::unique_ptr<BulkChunk>> closed;  // waiting for the writer, in gen order
  size_t max_closed = 1;
  bool stop = false;                  // the writer exits (closed chunks are dropped)
  std::condition_variable closed_cv;  // a chunk was closed or taken by the writer, or stop
  std::thread writer;                 // RocksStore::BulkWriter
  uint64_t next_gen = 1;
  uint64_t added_gen = 0;  // every chunk with a gen <= this was added (or failed)
  std::unordered_map<std::string, BulkStaged> staged;  // current key -> latest staged state
  // Loading into a store without resources: a current key is in the database only if this
  // load staged it, so a key whose hash is not in `written` needs no lookup. Up to
  // kMaxWritten keys (then `fresh` is cleared and every miss is looked up again).
  static constexpr size_t kMaxWritten = 1u << 20;
  bool fresh = false;
  std::unordered_set<uint64_t> written;  // hashes of the current keys staged so far
  Status failure;
  std::condition_variable added_cv;  // added_gen advanced
};

}  // namespace medhub::store
