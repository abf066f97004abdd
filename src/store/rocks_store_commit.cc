// The store's write path: prepare (no lock), plan (locked), write (no lock, group commit),
// publish (locked). See rocks_store.h for the protocol.
#include <algorithm>
#include <charconv>

#include "core/aead.h"
#include "core/hash.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/time.h"
#include "core/view_index.h"
#include "fhir/resource.h"
#include "fhir/search_params.h"
#include "store/bulk_load.h"
#include "store/index_hashing.h"
#include "store/rocks_store.h"
#include "store/sorted_batch.h"

namespace medhub::store {

constexpr size_t kMaxCommitBytes = size_t{1} << 30;

// One write, prepared from its own content before any lock is taken.
struct PreparedOp {
  WriteOp op;
  std::string cur_key;  // the batch holds views of it
  // kPut: the stored bytes are head + server meta + tail (see SplitSerialize).
  std::string head, tail;
  std::string content_hash;
  // The put's search-index keys (kIndex) are keys[index_begin, index_end), its patient
  // compartment keys (kCompartment) keys[index_end, compartment_end); the commit's
  // KeyList holds them (and the batch views of them).
  const keys::KeyList* keys = nullptr;
  size_t index_begin = 0, index_end = 0, compartment_end = 0;
  std::string key_refs;     // the key refs of those keys (keys::AppendKeyRef)
  size_t first_of_key = 0;  // the commit's first op of the same resource (LinkSameKeys)
  std::string key_name;     // the data key of a put (KeyRing)
  DataKeyRef key;           // null in a plaintext store
  // Whether `k` is one of the put's index ('i') or compartment ('c') keys.
  bool Writes(char tag, std::string_view k) const {
    const size_t begin = tag == 'c' ? index_end : index_begin;
    const size_t end = tag == 'c' ? compartment_end : index_end;
    for (size_t i = begin; i < end; ++i)
      if ((*keys)[i] == k) return true;
    return false;
  }
};

// Sets each op's first_of_key, before the lock is taken.
void LinkSameKeys(std::vector<PreparedOp>* ops) {
  ViewIndex first(ops->size());  // views of the ops' cur_keys
  for (size_t i = 0; i < ops->size(); ++i)
    (*ops)[i].first_of_key = first.Insert((*ops)[i].cur_key, i);
}

// A put's stored bytes, rendered (and sealed) after the lock is released (RocksStore::Render).
struct ToRender {
  size_t op = 0;                 // in the prepared ops
  size_t outcome = 0;            // in Planned::outcomes
  size_t write = 0;              // the resource record in the batch; its value holds the header
  const DataKey* key = nullptr;  // null in a plaintext store
  size_t salt_at = 0;            // in Planned::random (an offset: Planned is moved)
  size_t nonce_at = 0;           // in Planned::random (an encrypted store's puts)
};

struct RocksStore::Planned {
  SortedBatch batch;
  // One draw from the random generator per commit: a salt per op (keys::kSaltSize each),
  // then, in an encrypted store, a nonce per op (kAeadNonceSize each).
  std::string random;
  std::vector<ToRender> to_render;
  std::vector<WriteOutcome> outcomes;
  std::vector<std::string_view> keys;  // current keys marked in flight (views of the ops')
  uint64_t first_seq = 0, last_seq = 0;
  // Bulk load: where the state each written resource is left in is, in write order: its
  // current record's and resource record's writes in the batch (BulkStaged once staged).
  struct StagedWrites {
    size_t current = 0, record = 0;
  };
  std::vector<StagedWrites> staged;
};

namespace {

bool IsServerMeta(std::string_view key) { return key == "versionId" || key == "lastUpdated"; }

// Serializes a resource so that its stored form is head + `"versionId":..,"lastUpdated":..`
// + tail: meta comes right after resourceType and id, the server's elements first, the
// client's other meta elements (tags, profiles, ...) after them. Client-sent versionId and
// lastUpdated are dropped: the server owns them.
void SplitSerialize(const json::Value& r, PreparedOp* p) {
  // The tail (nearly all of the resource) is built in the thread's buffer, which keeps its
  // capacity, then copied once: built in place it grew by doubling.
  thread_local std::string tail;
  tail.clear();
  const json::Value* meta = r.find("meta");
  std::string* out = &p->head;
  out->push_back('{');
  bool need_comma = false, meta_done = false;
  auto key = [&](std::string_view k) {
    if (need_comma) out->push_back(',');
    need_comma = true;
    json::AppendQuoted(k, out);
    out->push_back(':');
  };
  auto emit_meta = [&] {
    key("meta");
    out->push_back('{');
    out = &tail;
    if (meta != nullptr && meta->is_object()) {
      for (const auto& [k, v] : meta->members()) {
        if (IsServerMeta(k)) continue;
        out->push_back(',');
        json::AppendQuoted(k, out);
        out->push_back(':');
        json::SerializeTo(v, out);
      }
    }
    out->push_back('}');
    meta_done = true;
  };
  for (const auto& [k, v] : r.members()) {
    if (k == "meta") continue;
    if (!meta_done && k != "resourceType" && k != "id") emit_meta();
    key(k);
    json::SerializeTo(v, out);
  }
  if (!meta_done) emit_meta();
  out->push_back('}');
  p->tail.assign(tail);
  if (tail.capacity() > (size_t{1} << 20)) tail = std::string();  // a rare large resource
}

// Appends the index and compartment keys of a put to *list and their key refs to p->key_refs.
void PrepareKeys(const KeyRing& ring, const WriteOp& op, keys::KeyList* list, PreparedOp* p) {
  // Index values come from the content. _lastUpdated has no keys: search reads the time
  // from the current record and the type history (format 5, rocks_store_search.cc).
  thread_local fhir::IndexValueRefs values;
  fhir::ExtractIndexValueRefs(op.resource, &values);
  const keys::IndexId index_id(op.id);
  p->index_begin = list->size();
  for (const fhir::IndexValueRef& v : values.values) {
    if (v.param->name == "_lastUpdated") continue;
    AppendIndexKeys(ring, op.type, v, index_id, list);
  }
  p->index_end = list->size();
  // The Patient heads its own compartment and is sealed with its own key; a resource of
  // compartments with the first patient's key; anything else with the system key.
  p->key_name = KeyRing::kSystemKeyName;
  if (op.type == "Patient") {
    p->key_name = KeyRing::PatientKeyName(op.id);
  } else {
    thread_local std::vector<std::string_view> patients;
    fhir::PatientCompartmentIds(op.resource, &patients);
    if (!patients.empty()) {
      // The time orders the compartment; now when the resource has no time of its own.
      constexpr int64_t kNoTime = INT64_MIN;
      int64_t time = fhir::ClinicalTime(op.resource, kNoTime);
      if (time == kNoTime) time = NowMicros();
      for (std::string_view patient : patients)
        keys::AppendCompartmentKey(list->Begin(), patient, time, op.type, op.id);
      p->key_name = KeyRing::PatientKeyName(patients.front());
    }
  }
  p->compartment_end = list->size();
  size_t refs_size = 0;  // at most: the long form's header is the longer one
  for (size_t i = p->index_begin; i < p->compartment_end; ++i) refs_size += 5 + (*list)[i].size();
  p->key_refs.reserve(refs_size);
  for (size_t i = p->index_begin; i < p->index_end; ++i)
    keys::AppendKeyRef(&p->key_refs, 'i', (*list)[i], op.type, index_id);
  for (size_t i = p->index_end; i < p->compartment_end; ++i)
    keys::AppendKeyRef(&p->key_refs, 'c', (*list)[i], op.type, index_id);
}

Status Prepare(const KeyRing& ring, WriteOp op, keys::KeyList* list, PreparedOp* p) {
  p->keys = list;
  if (op.type.empty() || !IsValidFhirId(op.id))
    return Status::InvalidArgument("a write needs a resource type and a valid id");
  p->cur_key = keys::CurrentKey(op.type, op.id);
  if (op.kind == WriteOp::Kind::kPut) {
    if (fhir::ResourceType(op.resource) != op.type || fhir::ResourceId(op.resource) != op.id)
      return Status::InvalidArgument(op.type + "/" + op.id +
                                     ": resourceType and id must match the write");
    SplitSerialize(op.resource, p);
    p->content_hash = ring.ContentHash({p->head, std::string_view("\0", 1), p->tail});
    PrepareKeys(ring, op, list, p);
    op.resource = json::Value();  // no longer needed
  }
  p->op = std::move(op);
  return Status::Ok();
}

// The stored JSON in its pieces: head + the server's meta elements + tail (the tail starts
// with ',' when the client's meta has more). Views of the op and of `instant`, which must
// outlive it.
class JsonParts {
 public:
  JsonParts(const PreparedOp& p, uint64_t version, std::string_view instant)
      : p_(p), instant_(instant) {
    digits_size_ = static_cast<size_t>(
        std::to_chars(digits_, digits_ + sizeof(digits_), version).ptr - digits_);
  }
  static constexpr std::string_view kVersion = "\"versionId\":\"";
  static constexpr std::string_view kUpdated = "\",\"lastUpdated\":\"";
  // At most the size of the server's meta elements: the version's digits, an instant.
  static constexpr size_t kMaxServerMeta = kVersion.size() + 20 + kUpdated.size() + 40 + 1;
  std::string_view head() const { return p_.head; }
  std::string_view digits() const { return {digits_, digits_size_}; }
  std::string_view instant() const { return instant_; }
  std::string_view tail() const { return p_.tail; }
  size_t size() const {
    return p_.head.size() + kVersion.size() + digits_size_ + kUpdated.size() + instant_.size() + 1 +
           p_.tail.size();
  }
  void AppendTo(std::string* out) const {
    out->append(head()).append(kVersion).append(digits()).append(kUpdated).append(instant_);
    out->append("\"").append(tail());
  }
  std::string String() const {
    std::string out;
    out.reserve(size());
    AppendTo(&out);
    return out;
  }

 private:
  const PreparedOp& p_;
  std::string_view instant_;
  char digits_[24];
  size_t digits_size_ = 0;
};

std::string RenderJson(const PreparedOp& p, uint64_t version, std::string_view instant) {
  return JsonParts(p, version, instant).String();
}

// The instant of `micros`, formatted again only when it differs from the last one (a
// commit's versions share their time).
std::string_view InstantOf(int64_t micros, std::string* instant, int64_t* instant_of) {
  if (instant->empty() || micros != *instant_of) {
    *instant = FormatInstant(micros);
    *instant_of = micros;
  }
  return *instant;
}

}  // namespace

Status RocksStore::LoadCurrent(const std::string& key, Pending* p) {
  if (bulk_active()) {
    // While `fresh`, every staged key's hash is in `written` (bulk_load.h): a key whose
    // hash is not there is neither staged nor in the database (the common case, a create).
    if (bulk_->fresh && !bulk_->written.contains(std::hash<std::string_view>()(key)))
      return Status::Ok();
    if (const BulkStaged* staged = StagedCurrent(key)) {
      auto rec = keys::DecodeCurrent(staged->current);
      if (!rec) return Status::DataLoss("malformed staged current-version record");
      p->current = std::move(*rec);
      return Status::Ok();
    }
  }
  std::string v;
  auto s = db_->Get(rocksdb::ReadOptions(), cf(keys::kCurrent), key, &v);
  if (s.IsNotFound()) return LoadReadingCurrent(key, p);  // a reading, copied on write
  RETURN_IF_ERROR(FromRocks(s, "reading the current version"));
  auto rec = keys::DecodeCurrent(v);
  if (!rec) return Status::DataLoss("malformed current-version record");
  p->current = std::move(*rec);
  return Status::Ok();
}

Result<std::vector<WriteOutcome>> RocksStore::Commit(std::vector<WriteOp> ops) {
  if (options_.read_only) return Status::FailedPrecondition("the store is open read-only");
  keys::KeyList key_list;  // the index and compartment keys of every put
  key_list.Reserve(ops.size() * 640, ops.size() * 10);
  std::vector<PreparedOp> prepared(ops.size());
  const PreparedOp* keyed = nullptr;  // the last op given a data key
  for (size_t i = 0; i < ops.size(); ++i) {
    RETURN_IF_ERROR(Prepare(*key_ring_, std::move(ops[i]), &key_list, &prepared[i]));
    PreparedOp& p = prepared[i];
    if (p.op.kind != WriteOp::Kind::kPut || !key_ring_->enabled()) continue;
    if (keyed != nullptr && keyed->key_name == p.key_name) {  // a bundle: mostly one patient's
      p.key = keyed->key;
      continue;
    }
    keyed = &p;
    auto key = key_ring_->Get(p.key_name, /*create=*/true);
    if (key.status().code() == StatusCode::kGone)
      return Status::FailedPrecondition(p.op.type + "/" + p.op.id + " belongs to an erased " +
                                        "patient (" + p.key_name + "): it cannot be written");
    RETURN_IF_ERROR(key.status());
    p.key = std::move(key).value();
  }
  LinkSameKeys(&prepared);

  Planned plan;
  {
    std::unique_lock lock(write_mu_);
    write_cv_.wait(lock, [&] {
      for (const PreparedOp& p : prepared)
        if (in_flight_.contains(p.cur_key)) return false;
      return true;
    });
    ASSIGN_OR_RETURN(plan, Plan(prepared));
    if (plan.batch.empty()) return std::move(plan.outcomes);  // nothing changed
    for (const PreparedOp& p : prepared) {
      if (in_flight_.insert(p.cur_key).second) plan.keys.push_back(p.cur_key);
    }
    pending_[plan.first_seq] = plan.last_seq;
  }
  std::vector<const DataKey*> new_keys = Render(prepared, &plan);
  if (bulk_active()) {
    std::vector<DataKeyRef> refs;  // the chunk keeps them alive until they are durable
    for (const DataKey* k : new_keys) {
      for (const PreparedOp& p : prepared) {
        if (p.key.get() == k) {
          refs.push_back(p.key);
          break;
        }
      }
    }
    RETURN_IF_ERROR(Stage(&plan, std::move(refs)));
    return std::move(plan.outcomes);
  }
  rocksdb::WriteBatch batch = plan.batch.Build();
  Status written = FromRocks(db_->Write(SyncWrite(), &batch), "committing");
  Finish(plan);
  RETURN_IF_ERROR(written);
  for (const DataKey* k : new_keys) k->durable = true;
  return std::move(plan.outcomes);
}

std::vector<const DataKey*> RocksStore::Render(const std::vector<PreparedOp>& ops, Planned* plan) {
  std::vector<const DataKey*> new_keys;
  std::string instant;
  int64_t instant_of = 0;
  const std::string_view random = plan->random;
  size_t bytes = 0;  // at most, for the records' values
  for (const ToRender& t : plan->to_render) {
    bytes += plan->batch.value(t.write).size() + kAeadOverhead + keys::kSaltSize +
             ops[t.op].head.size() + ops[t.op].tail.size() + JsonParts::kMaxServerMeta;
  }
  plan->batch.ReserveBytes(bytes);
  thread_local std::string aad;  // a copy: the key is in the buffer the payload is appended to
  for (const ToRender& t : plan->to_render) {
    WriteOutcome& out = plan->outcomes[t.outcome];
    const JsonParts json(ops[t.op], out.version,
                         InstantOf(out.last_updated, &instant, &instant_of));
    if (ops[t.op].op.want_json) out.json = json.String();
    // The record's value is its header (written by Plan) and the payload, built after the
    // other bytes of the batch (the buffer has room for all of them: nothing moves).
    std::string* value = plan->batch.buffer();
    const size_t at = value->size();
    value->append(plan->batch.value(t.write));
    const std::string_view salt = random.substr(t.salt_at, keys::kSaltSize);
    if (!t.key) {
      value->append(salt);
      json.AppendTo(value);
      plan->batch.SetValue(t.write, plan->batch.Since(at));
      continue;
    }
    // The sealed plaintext is salt || json, sealed from the json's pieces (no copy of it is
    // needed); the associated data is the resource key: type \0 id \0 version.
    aad.assign(plan->batch.key(t.write));
    AeadSealPartsTo(t.key->bytes, random.substr(t.nonce_at, kAeadNonceSize),
                    {salt, json.head(), JsonParts::kVersion, json.digits(), JsonParts::kUpdated,
                     json.instant(), "\"", json.tail()},
                    aad, value);
    plan->batch.SetValue(t.write, plan->batch.Since(at));
    if (!t.key->durable && std::find(new_keys.begin(), new_keys.end(), t.key) == new_keys.end())
      new_keys.push_back(t.key);
  }
  // A key not yet known to be durable is written by every commit that uses it.
  for (const DataKey* k : new_keys)
    plan->batch.Put(db_->DefaultColumnFamily(), plan->batch.Copy(KeyRing::KeyRecordKey(k->name)),
                    plan->batch.Copy(k->record));
  return new_keys;
}

Status RocksStore::Stage(Planned* plan, std::vector<DataKeyRef> new_keys) {
  Status failed;
  {
    std::unique_lock lock(write_mu_);
    BulkState& b = *bulk_;
    for (std::string_view k : plan->keys) in_flight_.erase(k);
    if (!b.failure.ok()) {  // an earlier chunk failed: this commit is a gap
      failed = b.failure;
      pending_.erase(plan->first_seq);
      published_seq_ = pending_.empty() ? assigned_seq_ : pending_.begin()->first - 1;
    } else {
      BulkChunk& c = *b.open;
      // Copied into the chunk's arena; the batch's strings are freed with the plan, after
      // the lock is released.
      c.limit = b.ChunkLimit();
      thread_local std::vector<BulkWrite> added;
      added.clear();
      added.reserve(plan->batch.size());
      plan->batch.ForEach([&c](rocksdb::ColumnFamilyHandle* cf, std::string_view key,
                               std::string_view value,
                               bool del) { added.push_back(c.Add(cf, key, value, del)); });
      c.first_seqs.push_back(plan->first_seq);
      for (DataKeyRef& k : new_keys) c.new_keys.push_back(std::move(k));
      // The staged states are views of the chunk's copies (the key's view too: an entry of
      // an earlier chunk gets this chunk's key).
      for (const Planned::StagedWrites& w : plan->staged) {
        const BulkWrite& cur = added[w.current];
        const BulkWrite& rec = added[w.record];
        const BulkStaged state{{cur.value, cur.value_size}, {rec.value, rec.value_size}, c.gen};
        if (b.fresh) b.written.insert(std::hash<std::string_view>()(cur.Key()));
        auto [it, inserted] = b.staged.try_emplace(cur.Key(), state);
        if (inserted) continue;
        auto node = b.staged.extract(it);
        node.key() = cur.Key();
        node.mapped() = state;
        b.staged.insert(std::move(node));
      }
      if (added.capacity() > SortedBatch::kKeptWrites) added = {};
      if (b.written.size() > BulkState::kMaxWritten) {
        b.fresh = false;
        b.written = {};
      }
      if (c.bytes >= b.ChunkLimit()) {
        write_cv_.notify_all();  // commits waiting for this one's keys go on meanwhile
        // Back-pressure: at most max_closed chunks wait for the writer (bounds the memory).
        const uint64_t gen = c.gen;
        b.closed_cv.wait(lock, [&b] { return b.closed.size() < b.max_closed || b.stop; });
        if (!b.stop && b.open->gen == gen) CloseOpenChunk();  // not closed by another commit
      }
    }
    write_cv_.notify_all();
  }
  return failed;
}

void RocksStore::Finish(const Planned& plan) {
  std::lock_guard lock(write_mu_);
  for (std::string_view k : plan.keys) in_flight_.erase(k);
  pending_.erase(plan.first_seq);
  published_seq_ = pending_.empty() ? assigned_seq_ : pending_.begin()->first - 1;
  write_cv_.notify_all();
}

namespace {

// Bytes built by f(std::string*) in the batch's buffer.
template <typename F>
SortedBatch::Ref Built(SortedBatch* batch, F&& f) {
  const size_t at = batch->buffer()->size();
  f(batch->buffer());
  return batch->Since(at);
}

// The resource record of a version: its header (Render appends the payload of a put).
// Returns the write's position.
size_t PutRecord(SortedBatch* batch, rocksdb::ColumnFamilyHandle* cf, const WriteOp& op,
                 const WriteOutcome& out, uint8_t flags, std::string_view key_name) {
  const SortedBatch::Ref key = Built(
      batch, [&](std::string* b) { keys::AppendResourceKey(b, op.type, op.id, out.version); });
  const SortedBatch::Ref header = Built(batch, [&](std::string* b) {
    keys::AppendResourceHeader(b, flags, out.last_updated, out.seq, key_name);
  });
  return batch->Put(cf, key, header);
}

size_t PutCurrent(SortedBatch* batch, rocksdb::ColumnFamilyHandle* cf, std::string_view cur_key,
                  const keys::CurrentRecord& current) {
  const SortedBatch::Ref value =
      Built(batch, [&](std::string* b) { keys::AppendCurrent(b, current); });
  return batch->Put(cf, SortedBatch::View(cur_key), value);
}

// The change feed's and the type history's entries of a version (one value for both).
void PutChange(SortedBatch* batch, rocksdb::ColumnFamilyHandle* changes,
               rocksdb::ColumnFamilyHandle* type_history, const WriteOp& op,
               const WriteOutcome& out, bool deleted) {
  const SortedBatch::Ref change = Built(batch, [&](std::string* b) {
    keys::AppendChange(b, op.type, op.id, out.version, deleted, out.last_updated);
  });
  batch->Put(changes, Built(batch, [&](std::string* b) { PutBigEndian64(b, out.seq); }), change);
  batch->Put(type_history,
             Built(batch, [&](std::string* b) { keys::AppendTypeHistoryKey(b, op.type, out.seq); }),
             change);
}

}  // namespace

Result<RocksStore::Planned> RocksStore::Plan(std::vector<PreparedOp>& ops) {
  Planned plan;
  if (bulk_ && !bulk_->failure.ok()) return bulk_->failure;
  const bool bulk = bulk_active();
  const int64_t now = std::max(NowMicros(), last_time_ + 1);
  uint64_t seq = assigned_seq_;
  std::vector<Pending> pending(ops.size());  // at each resource's first op (first_of_key)
  size_t writes = 0, bytes = 0;              // upper bounds (deletes aside), to size the batch once
  for (const PreparedOp& p : ops) {
    writes += 6 + 2 * (p.compartment_end - p.index_begin);
    bytes += 5 * p.cur_key.size() + 2 * p.key_name.size() + p.key_refs.size() + 160 +
             p.head.size() + p.tail.size() + kAeadOverhead + keys::kSaltSize +
             JsonParts::kMaxServerMeta;  // Render's payload (the header copied once more)
  }
  // The batch and the key list address their bytes with 32 bits.
  if (bytes > kMaxCommitBytes || (!ops.empty() && ops.front().keys->bytes() > kMaxCommitBytes))
    return Status::InvalidArgument("a commit of more than 1 GiB of resources");
  plan.batch.Reserve(writes, bytes);
  plan.outcomes.reserve(ops.size());
  const size_t nonces_at = keys::kSaltSize * ops.size();
  plan.random = RandomBytes(nonces_at + (key_ring_->enabled() ? kAeadNonceSize * ops.size() : 0));

  for (PreparedOp& p : ops) {
    const WriteOp& op = p.op;
    const size_t op_at = static_cast<size_t>(&p - ops.data());
    if (p.key && p.key->erased)
      return Status::FailedPrecondition(op.type + "/" + op.id + " belongs to an erased patient (" +
                                        p.key_name + "): it cannot be written");
    Pending& state = pending[p.first_of_key];
    if (p.first_of_key == op_at) RETURN_IF_ERROR(LoadCurrent(p.cur_key, &state));
    const bool live = state.current && !state.current->deleted;
    auto ref = [&op] { return op.type + "/" + op.id; };  // for errors only
    if (op.if_match && (!live || state.current->version != *op.if_match))
      return Status::FailedPrecondition(ref() + " is at version " +
                                        (live ? std::to_string(state.current->version) : "none") +
                                        ", not " + std::to_string(*op.if_match));
    if (op.create_only && live) return Status::AlreadyExists(ref() + " already exists");

    WriteOutcome out;
    out.created = !live;
    size_t record_write = 0;  // the resource record's write in the batch
    if (op.kind == WriteOp::Kind::kDelete) {
      out.existed = live;
      if (!live) {
        plan.outcomes.push_back(std::move(out));
        continue;
      }
      out.version = state.current->version + 1;
      out.seq = ++seq;
      out.last_updated = now;
      record_write = PutRecord(&plan.batch, cf(keys::kResources), op, out, keys::kFlagDeleted, "");
      keys::ForEachKeyRef(
          state.current->key_refs, op.type, op.id, [&](char tag, std::string_view k) {
            plan.batch.Delete(cf(tag == 'c' ? keys::kCompartment : keys::kIndex), k);
          });
      state.current =
          keys::CurrentRecord{out.version, true, now, out.seq, std::string(32, '\0'), ""};
    } else {
      if (live && state.current->content_hash == p.content_hash) {
        out.unchanged = true;
        out.version = state.current->version;
        out.last_updated = state.current->last_updated;
        if (!op.want_json) {
          // The caller does not need the stored bytes.
        } else if (bulk || state.current->seq > assigned_seq_) {
          // The same content hash means the same bytes around the server's meta: this is
          // what the current version stores (it may be staged, or written by this commit:
          // not yet in the database).
          out.json = RenderJson(p, out.version, FormatInstant(out.last_updated));
        } else {
          ASSIGN_OR_RETURN(StoredResource cur, ReadRecord(op.type, op.id, out.version));
          out.json = std::move(cur.json);
        }
        plan.outcomes.push_back(std::move(out));
        continue;
      }
      out.version = state.current ? state.current->version + 1 : 1;
      out.seq = ++seq;
      out.last_updated = now;
      // Delete the previous version's keys unless this version writes them again.
      if (state.current) {
        keys::ForEachKeyRef(
            state.current->key_refs, op.type, op.id, [&](char tag, std::string_view k) {
              if (!p.Writes(tag, k))
                plan.batch.Delete(cf(tag == 'c' ? keys::kCompartment : keys::kIndex), k);
            });
      }
      // The batch holds views of the keys (a later write of this resource in the same
      // commit prepared its own).
      for (size_t i = p.index_begin; i < p.index_end; ++i)
        plan.batch.Put(cf(keys::kIndex), SortedBatch::View((*p.keys)[i]), {});
      for (size_t i = p.index_end; i < p.compartment_end; ++i)
        plan.batch.Put(cf(keys::kCompartment), SortedBatch::View((*p.keys)[i]), {});
      // The stored bytes are rendered (and sealed) after the header once the lock is
      // released (Render).
      record_write =
          p.key ? PutRecord(&plan.batch, cf(keys::kResources), op, out, 0, p.key_name)
                : PutRecord(&plan.batch, cf(keys::kResources), op, out, keys::kFlagPlaintext, "");
      plan.to_render.push_back({op_at, plan.outcomes.size(), record_write, p.key.get(),
                                keys::kSaltSize * op_at, nonces_at + kAeadNonceSize * op_at});
      state.current = keys::CurrentRecord{
          out.version, false, now, out.seq, std::move(p.content_hash), std::move(p.key_refs)};
    }
    const size_t current_write =
        PutCurrent(&plan.batch, cf(keys::kCurrent), p.cur_key, *state.current);
    if (bulk) plan.staged.push_back({current_write, record_write});
    PutChange(&plan.batch, cf(keys::kChanges), cf(keys::kTypeHistory), op, out,
              state.current->deleted);
    plan.outcomes.push_back(std::move(out));
  }
  if (seq == assigned_seq_) return plan;
  plan.first_seq = assigned_seq_ + 1;
  plan.last_seq = seq;
  assigned_seq_ = seq;
  last_time_ = now;
  return plan;
}

}  // namespace medhub::store
