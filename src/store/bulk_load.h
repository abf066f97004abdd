// Internal to the store module: the state of a bulk load (Store::BeginBulkLoad ..
// EndBulkLoad; docs/formats/store.md, "Bulk load").
//
// A bulk load runs the normal commit path (prepare, plan, seal) but, instead of writing
// each commit's batch to the WAL and memtables, moves the batch into the open *chunk*.
// When the chunk holds its limit of keys and values (ChunkLimit(): `chunk_bytes`, growing
// to half of what the load has closed so far, at most 4 × `chunk_bytes`: a long load makes
// fewer, larger files, so the L0 → L1 compactions that rewrite the growing L1 during the
// load stay few — docs/formats/store.md), it goes to the load's writer thread: the
// committing thread closes it if the writer is idle; if the writer is busy the chunk stays
// open and keeps filling, and the writer takes it when done (a chunk that reaches
// ChunkCap() is closed anyway; at most `max_closed` closed chunks wait for the writer and
// a committing thread that would exceed that waits). So parsing and planning go on while
// a chunk is written, without a closed chunk waiting beside the open one (fresh pages
// cost: on the benchmark machine a first touch costs 0.06–3 ms per MiB). The writer sorts the
// chunk's writes per column family (the last write of a key wins, as in the batches),
// writes one SST file per column family with rocksdb::SstFileWriter (fsynced by Finish,
// left in the page cache) and hands them to the load's adder thread, which adds the files
// of all column families in one IngestExternalFiles call, which is atomic: after a crash
// the store holds all of a chunk or none of it. Adding mostly waits for fsyncs (links,
// directory, MANIFEST), so the writer writes the next chunk meanwhile. Chunks are added in
// the order they were closed (a later chunk may overwrite keys of an earlier one), and a
// chunk's sequence numbers are published only once it is added.
//
// A chunk copies its writes' keys and values into arenas (BulkArena: the keys of each
// column family side by side, the values apart) instead of keeping a string per write; an
// added chunk is kept in `spare` and reused, memory included, by a later chunk, so a long
// load does not give chunk memory back to the allocator and fault it in again. A chunk
// keeps its memory until it is added, because the staged states below are views of it.
//
// Until its chunk is added, the state a commit left (where its current record and stored
// bytes are in the chunk) is kept in `staged`, so that later commits plan against it and
// Read() returns it (decrypting the staged record like one read from the database).
//
// Thread safety: everything here is guarded by RocksStore::write_mu_, except `writer` and
// `adder` (the threads are started by BeginBulkLoad and joined by EndBulkLoad or the
// store's destructor), the chunk the writer has taken from `closed` (its own until it hands
// it to the adder) and the written chunk the adder has taken from `written_chunks` (its own
// until it puts it in `spare`).
#pragma once

#include <rocksdb/db.h>

#include <algorithm>
#include <bit>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "store/key_ring.h"
#include "store/keys.h"
#include "store/store.h"

namespace medhub::store {

// Keys or values of a chunk, copied into slabs of kSlabSize bytes (one larger than a
// quarter slab gets a block of its own). A chunk's arena is reused by later chunks (Rewind), so
// a long load neither allocates a string per write nor gives chunk memory back to the
// allocator and faults it in again.
class BulkArena {
 public:
  static constexpr size_t kSlabSize = size_t{1} << 20;
  // Copies `bytes` into the arena; the copy stays put until Rewind.
  const char* Append(std::string_view bytes) {
    const size_t n = bytes.size();
    if (n == 0) return nullptr;
    char* p = nullptr;
    if (n > kSlabSize / 4) {
      large_.push_back(std::make_unique_for_overwrite<char[]>(n));
      p = large_.back().get();
    } else {
      if (slabs_.empty() || used_ + n > kSlabSize) NextSlab();
      p = slabs_[current_].get() + used_;
      used_ += n;
    }
    std::memcpy(p, bytes.data(), n);
    return p;
  }
  // Forgets every write; the slabs are kept for the next chunk, the large blocks freed.
  void Rewind() {
    current_ = 0;
    used_ = 0;
    large_.clear();
  }

 private:
  void NextSlab() {
    if (!slabs_.empty() && current_ + 1 < slabs_.size()) {
      ++current_;
    } else {
      slabs_.push_back(std::make_unique_for_overwrite<char[]>(kSlabSize));
      current_ = slabs_.size() - 1;
    }
    used_ = 0;
  }
  std::vector<std::unique_ptr<char[]>> slabs_;
  size_t current_ = 0;  // the slab being filled
  size_t used_ = 0;     // bytes of slabs_[current_] in use
  std::vector<std::unique_ptr<char[]>> large_;
};

// One write of a chunk: its key in the family's key arena, its value in the chunk's.
struct BulkWrite {
  const char* key = nullptr;
  const char* value = nullptr;
  uint32_t key_size = 0;
  uint32_t value_size = 0;
  bool del = false;
  std::string_view Key() const { return {key, key_size}; }
};

// The writes of one column family in a chunk, in write order. The keys have an arena of
// their own: the sort and the SST writer read them in key order, and a family's keys side
// by side stay in the CPU caches while its values (sealed resources) are read once.
struct BulkFamily {
  rocksdb::ColumnFamilyHandle* cf = nullptr;
  std::vector<BulkWrite> writes;
  BulkArena keys;
};

// A chunk; a written chunk is kept (BulkState::spare) and reused with its memory.
struct BulkChunk {
  uint64_t gen = 0;                  // chunks are added in gen order
  std::vector<BulkFamily> families;  // by column family id (unused ones empty)
  BulkArena values;
  size_t bytes = 0;
  std::vector<uint64_t> first_seqs;  // the pending_ entries of the staged commits
  std::vector<DataKeyRef> new_keys;  // data keys whose records this chunk writes
  // The bytes the chunk is expected to hold (its limit, set by the committing threads). A
  // family's write list, once it has kGrowFrom writes, grows at once to the share of `limit`
  // the family has had so far, not by doubling: each doubling copies the list into fresh
  // memory, whose first touch is costly (zeroed pages).
  size_t limit = 0;
  static constexpr size_t kGrowFrom = 1024;
  // Copies one write into the arenas; returns it (its key and value stay put until Reset).
  const BulkWrite& Add(rocksdb::ColumnFamilyHandle* cf, std::string_view key,
                       std::string_view value, bool del) {
    const uint32_t id = cf->GetID();
    if (id >= families.size()) families.resize(id + 1);
    BulkFamily& f = families[id];
    f.cf = cf;
    if (f.writes.size() == f.writes.capacity()) Grow(&f.writes);
    f.writes.push_back({f.keys.Append(key), values.Append(value),
                        static_cast<uint32_t>(key.size()), static_cast<uint32_t>(value.size()),
                        del});
    bytes += key.size() + value.size() + 16;
    return f.writes.back();
  }
  bool empty() const { return bytes == 0; }
  void Grow(std::vector<BulkWrite>* writes) const {
    const size_t n = writes->size();
    size_t want = std::max<size_t>(n * 2, 16);
    if (n >= kGrowFrom && limit > bytes)  // n writes in `bytes`: about n * limit / bytes in all
      want = std::max(want, static_cast<size_t>(static_cast<double>(n) * 1.125 *
                                                static_cast<double>(limit) / bytes));
    writes->reserve(want);
  }
  // Makes the chunk empty, keeping its memory.
  void Reset(uint64_t new_gen) {
    gen = new_gen;
    for (BulkFamily& f : families) {
      f.writes.clear();
      f.keys.Rewind();
    }
    values.Rewind();
    bytes = 0;
    first_seqs.clear();
    new_keys.clear();
  }
};

// A set of 64-bit hashes (open addressing, linear probing): the current keys a load
// staged (BulkState::written). One array, no node per key.
class HashSet64 {
 public:
  bool contains(uint64_t h) const {
    if (slots_.empty()) return false;
    h = h == 0 ? 1 : h;  // 0 marks an empty slot
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      if (slots_[i] == h) return true;
      if (slots_[i] == 0) return false;
    }
  }
  void insert(uint64_t h) {
    if ((size_ + 1) * 2 > slots_.size()) Grow(std::max<size_t>(slots_.size() * 2, 1024));
    h = h == 0 ? 1 : h;
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      if (slots_[i] == h) return;
      if (slots_[i] == 0) {
        slots_[i] = h;
        ++size_;
        return;
      }
    }
  }
  void reserve(size_t n) {
    if (n * 2 > slots_.size()) Grow(std::bit_ceil(n * 2));
  }
  size_t size() const { return size_; }

 private:
  void Grow(size_t capacity) {  // a power of two
    std::vector<uint64_t> old = std::move(slots_);
    slots_.assign(capacity, 0);
    mask_ = capacity - 1;
    size_ = 0;
    for (uint64_t h : old)
      if (h != 0) insert(h);
  }
  std::vector<uint64_t> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

// A chunk whose files are written (or failed to be), waiting for the adder thread. The
// chunk keeps its memory until it is added: the staged states are views of it (BulkStaged).
struct BulkWritten {
  std::unique_ptr<BulkChunk> chunk;
  Status status;  // of writing the files
  std::vector<rocksdb::IngestExternalFileArg> files;
};

// A resource as the staged commits left it: views of the writes of chunk `gen` (its value
// arena), which lives until that chunk is added and the entry removed (AddChunk), so no
// copy of the stored bytes is kept.
struct BulkStaged {
  std::string_view current;  // the encoded current record (keys::EncodeCurrent)
  std::string_view record;   // the resource record of the current version (sealed)
  uint64_t gen = 0;          // the chunk that writes it
};

struct BulkState {
  size_t chunk_bytes = 16u << 20;  // the first chunks' limit
  uint64_t closed_bytes = 0;       // keys and values of every chunk closed so far
  size_t ChunkLimit() const {
    return static_cast<size_t>(std::clamp<uint64_t>(closed_bytes / 2, chunk_bytes,
                                                     uint64_t{4} * chunk_bytes));
  }
  // A full chunk stays open while the writer is busy, up to this size (then it is closed
  // and waits for the writer in `closed`).
  size_t ChunkCap() const { return ChunkLimit() + ChunkLimit() / 2; }
  std::string dir;  // where the SST files are built (inside the data directory)
  std::unique_ptr<BulkChunk> open;
  std::deque<std::unique_ptr<BulkChunk>> closed;  // waiting for the writer, in gen order
  std::vector<std::unique_ptr<BulkChunk>> spare;   // written chunks, reused by CloseOpenChunk
  size_t max_closed = 1;
  bool stop = false;                  // the threads exit (closed/written chunks are dropped)
  std::condition_variable closed_cv;  // a chunk was closed or taken by the writer, or stop
  std::thread writer;                 // RocksStore::BulkWriter
  bool writing = false;               // the writer is writing a chunk
  // Written chunks waiting for the adder, in gen order: the writer writes the next chunk
  // while the adder adds this one (ingestion mostly waits for fsyncs). At most
  // kMaxWrittenChunks wait, with their memory; the writer waits for room.
  static constexpr size_t kMaxWrittenChunks = 1;
  std::deque<BulkWritten> written_chunks;
  std::condition_variable written_cv;  // a chunk was written or added, or stop
  std::thread adder;                   // RocksStore::BulkAdder
  uint64_t next_gen = 1;
  uint64_t added_gen = 0;  // every chunk with a gen <= this was added (or failed)
  // Current key (a view of the key in chunk `gen`'s arena) -> latest staged state. The
  // entries of a chunk are removed when it is added or fails, before its memory is reused.
  std::unordered_map<std::string_view, BulkStaged> staged;
  // Loading into a store without resources (nothing in `current`, no device readings): a
  // current key is in the database only if this load staged it, so a key whose hash is not
  // in `written` needs no lookup. Up to kMaxWritten keys (then `fresh` is cleared and every
  // miss is looked up again).
  static constexpr size_t kMaxWritten = 1u << 20;
  bool fresh = false;
  HashSet64 written;  // hashes of the current keys staged so far
  Status failure;
  std::condition_variable added_cv;  // added_gen advanced
};

}  // namespace medhub::store
