#include "server/ledger_api.h"

#include <algorithm>
#include <charconv>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/hash.h"
#include "core/time.h"
#include "server/http_util.h"

namespace medhub::server {
namespace {

using json::Value;
using ledger::Hash;

constexpr char kJson[] = "application/json";

std::string Hex(const Hash& h) { return ToHex(h); }
std::string Hex(const Signature& s) { return ToHex(SignatureBytes(s)); }
Value Int(uint64_t v) { return Value::Int(static_cast<int64_t>(v)); }
Value Str(std::string s) { return Value::String(std::move(s)); }

Value HashList(const ledger::Proof& proof) {
  Value list = Value::Array();
  for (const Hash& h : proof) list.push_back(Str(Hex(h)));
  return list;
}

Result<uint64_t> ParseUint(std::string_view name, std::string_view text) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size()) {
    return Status::InvalidArgument("'" + std::string(name) + "' must be a non-negative integer");
  }
  return v;
}

// The query parameter `name` as a number; `fallback` when absent (nullopt: required).
// InvalidArgument for unknown or repeated parameters.
Result<uint64_t> QueryUint(const HttpRequest& req, std::string_view name,
                           std::optional<uint64_t> fallback,
                           std::initializer_list<std::string_view> allowed) {
  std::optional<uint64_t> value;
  for (const auto& [k, v] : req.query) {
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
      return Status::InvalidArgument("unknown parameter '" + k.substr(0, 40) + "'");
    }
    if (k != name) continue;
    if (value) return Status::InvalidArgument("'" + std::string(name) + "' given twice");
    ASSIGN_OR_RETURN(value, ParseUint(name, v));
  }
  if (value) return *value;
  if (fallback) return *fallback;
  return Status::InvalidArgument("'" + std::string(name) + "' is required");
}

HttpResponse Reply(const Value& doc) { return JsonResponse(200, json::Serialize(doc), kJson); }

HttpResponse Reply(Result<Value> doc) {
  if (!doc.ok()) return ErrorResponse(doc.status());
  return Reply(*doc);
}

void AddEntryFields(const ledger::Entry& entry, Value* out) {
  if (const ledger::RecordFields* r = ledger::AsRecord(entry)) {
    out->set("seq", Int(r->seq));
    out->set("type", Str(r->type));
    out->set("id", Str(r->id));
    out->set("version", Int(r->version));
    out->set("deleted", Value::Bool(r->deleted));
    out->set("institution", Str(r->institution));
    out->set("commitment", Str(Hex(r->commitment)));
  } else if (const auto* a = std::get_if<ledger::AccessLogged>(&entry)) {
    out->set("institution", Str(a->institution));
    out->set("audit_event_hash", Str(Hex(a->audit_event_hash)));
  } else if (const auto* m = std::get_if<ledger::MemberAdded>(&entry)) {
    out->set("name", Str(m->name));
    out->set("public_key", Str(ToHex(m->public_key)));
  } else if (const auto* k = std::get_if<ledger::KeyRotated>(&entry)) {
    out->set("name", Str(k->name));
    out->set("public_key", Str(ToHex(k->new_public_key)));
  }
}

Value Param(std::string name, Value value, const char* type = "valueString") {
  Value p = Value::Object();
  p.set("name", Str(std::move(name)));
  p.set(type, std::move(value));
  return p;
}

Value Part(std::string name, Value parts) {
  Value p = Value::Object();
  p.set("name", Str(std::move(name)));
  p.set("part", std::move(parts));
  return p;
}

Value TreeHeadPart(const ledger::SignedTreeHead& sth) {
  Value parts = Value::Array();
  parts.push_back(Param("treeSize", Str(std::to_string(sth.head.tree_size))));
  parts.push_back(Param("rootHash", Str(Hex(sth.head.root))));
  parts.push_back(Param("timestamp", Str(FormatInstant(sth.head.timestamp_us)), "valueInstant"));
  parts.push_back(Param("timestampMicros", Str(std::to_string(sth.head.timestamp_us))));
  parts.push_back(Param("signer", Str(sth.head.signer)));
  parts.push_back(Param("signature", Str(Hex(sth.signature))));
  Result<std::string> encoded = ledger::EncodeTreeHead(sth.head);
  if (encoded.ok()) parts.push_back(Param("encoded", Str(ToHex(*encoded))));
  return Part("treeHead", std::move(parts));
}

}  // namespace

json::Value HeadJson(const ledger::Ledger& ledger) {
  const ledger::SignedTreeHead sth = ledger.Head();
  Value doc = Value::Object();
  doc.set("tree_size", Int(sth.head.tree_size));
  doc.set("root", Str(Hex(sth.head.root)));
  doc.set("timestamp", Value::Int(sth.head.timestamp_us));
  doc.set("timestamp_instant", Str(FormatInstant(sth.head.timestamp_us)));
  doc.set("signer", Str(sth.head.signer));
  doc.set("signature", Str(Hex(sth.signature)));
  doc.set("public_key", Str(ledger.public_key().Hex()));
  Result<std::string> encoded = ledger::EncodeTreeHead(sth.head);
  if (encoded.ok()) doc.set("tree_head", Str(ToHex(*encoded)));
  doc.set("height", Int(ledger.height()));
  doc.set("last_seq", Int(ledger.last_seq()));
  return doc;
}

Result<json::Value> BlockJson(const ledger::Block& block) {
  const ledger::BlockHeader& h = block.header;
  ASSIGN_OR_RETURN(const Hash hash, ledger::BlockHash(h));
  Value doc = Value::Object();
  doc.set("height", Int(h.height));
  doc.set("hash", Str(Hex(hash)));
  doc.set("previous_hash", Str(Hex(h.previous_hash)));
  doc.set("first_leaf", Int(h.first_leaf));
  doc.set("entry_count", Int(h.entry_count));
  doc.set("entries_root", Str(Hex(h.entries_root)));
  doc.set("log_size", Int(h.log_size));
  doc.set("log_root", Str(Hex(h.log_root)));
  doc.set("timestamp", Value::Int(h.timestamp_us));
  doc.set("last_seq", Int(h.last_seq));
  doc.set("proposer", Str(h.proposer));
  doc.set("proposer_signature", Str(Hex(block.proposer_signature)));
  Value endorsements = Value::Array();
  for (const ledger::Endorsement& e : block.endorsements) {
    Value v = Value::Object();
    v.set("member", Str(e.member));
    v.set("signature", Str(Hex(e.signature)));
    endorsements.push_back(std::move(v));
  }
  doc.set("endorsements", std::move(endorsements));
  Value entries = Value::Array();
  for (size_t i = 0; i < block.entries.size(); ++i) {
    ASSIGN_OR_RETURN(const ledger::Entry entry, ledger::DecodeEntry(block.entries[i]));
    Value v = Value::Object();
    v.set("leaf", Int(h.first_leaf + i));
    v.set("kind", Str(std::string(ledger::EntryKindName(ledger::EntryKindOf(entry)))));
    AddEntryFields(entry, &v);
    v.set("bytes", Str(ToHex(block.entries[i])));
    entries.push_back(std::move(v));
  }
  doc.set("entries", std::move(entries));
  return doc;
}

Result<json::Value> VerifyParameters(const ledger::Ledger& ledger, store::Store* store,
                                     std::string_view type, std::string_view id, uint64_t version) {
  ASSIGN_OR_RETURN(const store::StoredResource stored, store->ReadVersion(type, id, version));
  const std::string name = ledger::RecordName(type, id, version);
  Result<uint64_t> leaf = ledger.LookupLeaf(type, id, version);
  if (!leaf.ok()) return Status::Unavailable(name + " is not on the ledger yet; retry shortly");
  const ledger::SignedTreeHead sth = ledger.Head();  // after the lookup: it covers the leaf
  ASSIGN_OR_RETURN(const std::string entry_bytes, ledger.EntryBytes(*leaf));
  ASSIGN_OR_RETURN(const ledger::Entry entry, ledger::DecodeEntry(entry_bytes));
  ASSIGN_OR_RETURN(const ledger::Proof proof, ledger.InclusionProof(*leaf, sth.head.tree_size));
  ASSIGN_OR_RETURN(const Hash commitment,
                   ledger::RecordCommitment(stored.salt, stored.json, stored.deleted));
  const ledger::RecordFields* record = ledger::AsRecord(entry);
  const bool matches = record != nullptr && record->commitment == commitment;

  Value params = Value::Array();
  params.push_back(Param("resource", Str(name)));
  params.push_back(Param("deleted", Value::Bool(stored.deleted), "valueBoolean"));
  params.push_back(Param("salt", Str(stored.deleted ? std::string(64, '0') : ToHex(stored.salt))));
  params.push_back(Param("commitment", Str(Hex(commitment))));
  params.push_back(Param("matches", Value::Bool(matches), "valueBoolean"));
  params.push_back(Param("leafIndex", Str(std::to_string(*leaf))));
  params.push_back(Param("entry", Str(ToHex(entry_bytes))));
  params.push_back(Param("leafHash", Str(Hex(ledger::HashLeaf(entry_bytes)))));
  Value proof_parts = Value::Array();
  for (const Hash& h : proof) proof_parts.push_back(Param("hash", Str(Hex(h))));
  params.push_back(Part("inclusionProof", std::move(proof_parts)));
  params.push_back(TreeHeadPart(sth));
  params.push_back(Param("publicKey", Str(ledger.public_key().Hex())));
  Value doc = Value::Object();
  doc.set("resourceType", Str("Parameters"));
  doc.set("parameter", std::move(params));
  return doc;
}

HttpResponse LedgerApi::Handle(const HttpRequest& req) {
  if (req.method != "GET" && req.method != "HEAD") {
    HttpResponse r = ErrorResponse(Status::Unsupported("only GET is allowed on " + req.path));
    r.status = 405;
    return r;
  }
  const std::string_view path = req.path;
  if (path == "/ledger/head") return Head();
  if (path.starts_with("/ledger/blocks/")) return Block(path.substr(15));
  if (path == "/ledger/proof/inclusion") return Inclusion(req);
  if (path == "/ledger/proof/consistency") return Consistency(req);
  if (path == "/ledger/evidence") return Evidence();
  return ErrorResponse(Status::NotFound("no such ledger endpoint: " + req.path));
}

HttpResponse LedgerApi::Head() { return Reply(HeadJson(*ledger_)); }

HttpResponse LedgerApi::Evidence() {
  Value list = Value::Array();
  if (evidence_ != nullptr) {
    for (const ledger::EvidenceRecord& r : evidence_->All()) {
      Value v = Value::Object();
      v.set("kind", Str(r.kind));
      v.set("member", Str(r.member));
      v.set(r.kind == "block" ? "height" : "tree_size", Int(r.position));
      v.set("first", Str(r.first));
      v.set("second", Str(r.second));
      v.set("reporter", Str(r.reporter));
      v.set("detected", Value::Int(r.detected_us));
      v.set("note", Str(r.note));
      list.push_back(std::move(v));
    }
  }
  Value doc = Value::Object();
  doc.set("evidence", std::move(list));
  return Reply(doc);
}

HttpResponse LedgerApi::Block(std::string_view height_text) {
  Result<uint64_t> height = ParseUint("height", height_text);
  if (!height.ok()) return ErrorResponse(height.status());
  Result<ledger::Block> block = ledger_->ReadBlock(*height);
  if (!block.ok()) return ErrorResponse(block.status());
  return Reply(BlockJson(*block));
}

HttpResponse LedgerApi::Inclusion(const HttpRequest& req) {
  const uint64_t head_size = ledger_->Head().head.tree_size;
  Result<uint64_t> leaf = QueryUint(req, "leaf", std::nullopt, {"leaf", "size"});
  if (!leaf.ok()) return ErrorResponse(leaf.status());
  Result<uint64_t> size = QueryUint(req, "size", head_size, {"leaf", "size"});
  if (!size.ok()) return ErrorResponse(size.status());
  Result<ledger::Proof> proof = ledger_->InclusionProof(*leaf, *size);
  if (!proof.ok()) return ErrorResponse(proof.status());
  Result<Hash> leaf_hash = ledger_->LeafHash(*leaf);
  Result<Hash> root = ledger_->RootAt(*size);
  if (!leaf_hash.ok() || !root.ok())
    return ErrorResponse(Status::Internal("proof inputs vanished"));
  Value doc = Value::Object();
  doc.set("leaf_index", Int(*leaf));
  doc.set("tree_size", Int(*size));
  doc.set("leaf_hash", Str(Hex(*leaf_hash)));
  doc.set("root", Str(Hex(*root)));
  doc.set("proof", HashList(*proof));
  return Reply(doc);
}

HttpResponse LedgerApi::Consistency(const HttpRequest& req) {
  const uint64_t head_size = ledger_->Head().head.tree_size;
  Result<uint64_t> first = QueryUint(req, "first", std::nullopt, {"first", "second"});
  if (!first.ok()) return ErrorResponse(first.status());
  Result<uint64_t> second = QueryUint(req, "second", head_size, {"first", "second"});
  if (!second.ok()) return ErrorResponse(second.status());
  Result<ledger::Proof> proof = ledger_->ConsistencyProof(*first, *second);
  if (!proof.ok()) return ErrorResponse(proof.status());
  Value doc = Value::Object();
  doc.set("first", Int(*first));
  doc.set("second", Int(*second));
  doc.set("first_root", Str(Hex(ledger_->RootAt(*first).value())));
  doc.set("second_root", Str(Hex(ledger_->RootAt(*second).value())));
  doc.set("proof", HashList(*proof));
  return Reply(doc);
}

HttpResponse LedgerApi::VerifyVersion(std::string_view type, std::string_view id,
                                      uint64_t version) {
  Result<Value> doc = VerifyParameters(*ledger_, store_, type, id, version);
  if (!doc.ok()) return ErrorResponse(doc.status());
  return JsonResponse(200, json::Serialize(*doc));
}

}  // namespace medhub::server
