// The master patient index's records and Person resources (mpi.h; layout in
// docs/formats/sync.md).
#include "sync/mpi.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "core/hash.h"
#include "fhir/search_query.h"

namespace medhub::sync {
namespace {

constexpr char kPatientPrefix[] = "mpi/patient/";    // → person id
constexpr char kReviewPrefix[] = "mpi/review/";      // a|b → review item JSON
constexpr char kUnlinkedPrefix[] = "mpi/unlinked/";  // a|b → "" (a manual unlink)

std::string PairKey(std::string_view a, std::string_view b) {
  return a < b ? std::string(a) + "|" + std::string(b) : std::string(b) + "|" + std::string(a);
}

// The source base of a synced Patient (meta.source up to "/Patient/"), "" for local ones.
std::string SourceOf(const json::Value& patient) {
  const json::Value* meta = patient.find("meta");
  std::string_view src = meta ? meta->get_string("source") : "";
  const size_t pos = src.rfind("/Patient/");
  return std::string(pos == std::string_view::npos ? "" : src.substr(0, pos));
}

using Members = std::map<std::string, std::string>;  // patient id → assurance

Members MembersOf(const store::StoredResource& person) {
  Members out;
  auto doc = json::Parse(person.json);
  if (!doc.ok() || person.deleted) return out;
  if (const json::Value* links = doc->find("link"); links && links->is_array()) {
    for (const json::Value& l : links->items()) {
      const json::Value* t = l.find("target");
      std::string_view ref = t ? t->get_string("reference") : "";
      if (ref.starts_with("Patient/"))
        out[std::string(ref.substr(8))] = std::string(l.get_string("assurance"));
    }
  }
  return out;
}

json::Value PersonResource(const std::string& id, const Members& members) {
  json::Value p = json::Value::Object();
  p.set("resourceType", json::Value::String("Person"));
  p.set("id", json::Value::String(id));
  p.set("active", json::Value::Bool(true));
  json::Value links = json::Value::Array();
  for (const auto& [patient, assurance] : members) {
    json::Value l = json::Value::Object();
    json::Value target = json::Value::Object();
    target.set("reference", json::Value::String("Patient/" + patient));
    l.set("target", std::move(target));
    l.set("assurance", json::Value::String(assurance));
    links.push_back(std::move(l));
  }
  p.set("link", std::move(links));
  return p;
}

}  // namespace

Result<std::string> Mpi::PersonOf(std::string_view patient) {
  ASSIGN_OR_RETURN(auto rec, store_->GetRecord(kPatientPrefix + std::string(patient)));
  return rec ? *rec : std::string();
}

Result<std::vector<std::string>> Mpi::LinkedPatients(std::string_view patient) {
  ASSIGN_OR_RETURN(std::string pid, PersonOf(patient));
  std::vector<std::string> out{std::string(patient)};
  if (pid.empty()) return out;
  auto person = store_->Read("Person", pid);
  if (!person.ok()) return out;  // the index ran ahead of a crash: the Patient alone
  for (const auto& [p, assurance] : MembersOf(*person))
    if (p != patient) out.push_back(p);
  return out;
}

Status Mpi::WritePerson(const std::string& person_id,
                        const std::vector<std::pair<std::string, std::string>>& members) {
  Members m(members.begin(), members.end());
  std::vector<store::WriteOp> ops(1);
  if (m.size() < 2) {
    ops[0].kind = store::WriteOp::Kind::kDelete;
  } else {
    ops[0].resource = PersonResource(person_id, m);
  }
  ops[0].type = "Person";
  ops[0].id = person_id;
  return store_->Commit(std::move(ops)).status();
}

Status Mpi::LinkLocked(std::string_view a, std::string_view b, const char* assurance) {
  if (a == b) return Status::InvalidArgument("a Patient cannot be linked to itself");
  for (std::string_view p : {a, b}) {
    auto r = store_->Read("Patient", p);
    if (!r.ok() || r->deleted) return Status::NotFound("no Patient/" + std::string(p));
  }
  ASSIGN_OR_RETURN(std::string pa, PersonOf(a));
  ASSIGN_OR_RETURN(std::string pb, PersonOf(b));
  if (!pa.empty() && pa == pb) return Status::Ok();
  Members members;
  for (const std::string& pid : {pa, pb}) {
    if (pid.empty()) continue;
    auto person = store_->Read("Person", pid);
    if (person.ok()) members.merge(MembersOf(*person));
  }
  members.emplace(std::string(a), assurance);
  members.emplace(std::string(b), assurance);
  std::string keep = !pa.empty() && !pb.empty() ? std::min(pa, pb) : (pa.empty() ? pb : pa);
  if (keep.empty()) keep = "mpi-" + ToHex(Sha256(std::min(a, b))).substr(0, 16);
  const std::string drop = !pa.empty() && !pb.empty() ? std::max(pa, pb) : "";
  std::vector<store::WriteOp> ops(1);
  ops[0].type = "Person";
  ops[0].id = keep;
  ops[0].resource = PersonResource(keep, members);
  if (!drop.empty()) {
    store::WriteOp del;
    del.kind = store::WriteOp::Kind::kDelete;
    del.type = "Person";
    del.id = drop;
    ops.push_back(std::move(del));
  }
  RETURN_IF_ERROR(store_->Commit(std::move(ops)).status());
  std::vector<std::pair<std::string, std::optional<std::string>>> writes;
  for (const auto& [p, level] : members) writes.emplace_back(kPatientPrefix + p, keep);
  writes.emplace_back(kReviewPrefix + PairKey(a, b), std::nullopt);
  writes.emplace_back(kUnlinkedPrefix + PairKey(a, b), std::nullopt);
  return store_->PutRecords(writes);
}

Status Mpi::Link(std::string_view a, std::string_view b) {
  std::lock_guard lock(mu_);
  return LinkLocked(a, b, "level4");
}

Status Mpi::Unlink(std::string_view patient) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(std::string pid, PersonOf(patient));
  if (pid.empty()) return Status::NotFound("Patient/" + std::string(patient) + " is not linked");
  auto person = store_->Read("Person", pid);
  Members members = person.ok() ? MembersOf(*person) : Members{};
  members.erase(std::string(patient));
  RETURN_IF_ERROR(WritePerson(pid, {members.begin(), members.end()}));
  std::vector<std::pair<std::string, std::optional<std::string>>> writes;
  writes.emplace_back(kPatientPrefix + std::string(patient), std::nullopt);
  for (const auto& [p, assurance] : members) {
    writes.emplace_back(kUnlinkedPrefix + PairKey(patient, p), "");
    if (members.size() < 2) writes.emplace_back(kPatientPrefix + p, std::nullopt);
  }
  return store_->PutRecords(writes);
}

Result<std::vector<ReviewItem>> Mpi::Review() {
  ASSIGN_OR_RETURN(auto recs, store_->ScanRecords(kReviewPrefix));
  std::vector<ReviewItem> out;
  for (const auto& [key, value] : recs) {
    auto doc = json::Parse(value);
    if (!doc.ok()) return Status::DataLoss("malformed MPI review record " + key);
    ReviewItem item;
    item.a = doc->get_string("a");
    item.b = doc->get_string("b");
    const json::Value* s = doc->find("score");
    item.score = s && s->as_double() ? *s->as_double() : 0;
    const json::Value* f = doc->find("fields");
    item.fields_json = f ? json::Serialize(*f) : "{}";
    out.push_back(std::move(item));
  }
  return out;
}

namespace {

std::string ReviewJson(std::string_view a, std::string_view b, const MatchResult& m) {
  json::Value v = json::Value::Object();
  v.set("a", json::Value::String(std::string(std::min(a, b))));
  v.set("b", json::Value::String(std::string(std::max(a, b))));
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", m.score);
  v.set("score", json::Value::Number(buf));
  json::Value fields = json::Value::Object();
  for (const auto& [name, w] : m.fields) {
    std::snprintf(buf, sizeof(buf), "%.2f", w);
    fields.set(name, json::Value::Number(buf));
  }
  v.set("fields", std::move(fields));
  return json::Serialize(v);
}

}  // namespace

Result<MatchStats> Mpi::MatchAgainst(const std::vector<std::string>& ids, bool all_pairs) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(fhir::SearchQuery q, fhir::ParseSearchQuery("Patient", {}));
  ASSIGN_OR_RETURN(std::vector<std::string> everyone, store_->Search(q));
  std::vector<std::pair<std::string, std::string>> keys;
  for (const std::string& id : everyone) keys.emplace_back("Patient", id);
  auto reads = store_->ReadMany(keys);
  std::map<std::string, std::pair<std::string, json::Value>> patients;  // id → source, doc
  for (auto& r : reads) {
    if (!r.ok() || r->deleted) continue;
    auto doc = json::Parse(r->json);
    if (doc.ok()) patients[r->id] = {SourceOf(*doc), std::move(doc).value()};
  }
  std::vector<std::string> probes = all_pairs ? everyone : ids;
  std::sort(probes.begin(), probes.end());
  MatchStats stats;
  for (const std::string& a : probes) {
    auto pa = patients.find(a);
    if (pa == patients.end()) continue;
    for (const auto& [b, pb] : patients) {
      if (b == a || pb.first == pa->second.first || (all_pairs && b < a)) continue;
      ASSIGN_OR_RETURN(auto unlinked, store_->GetRecord(kUnlinkedPrefix + PairKey(a, b)));
      ++stats.compared;
      const MatchResult m = ComparePatients(pa->second.second, pb.second, config_);
      if (m.decision == MatchResult::Decision::kNone) continue;
      ASSIGN_OR_RETURN(std::string person_a, PersonOf(a));
      ASSIGN_OR_RETURN(std::string person_b, PersonOf(b));
      if (!person_a.empty() && person_a == person_b) continue;  // already one person
      if (m.decision == MatchResult::Decision::kLink && !unlinked) {
        RETURN_IF_ERROR(LinkLocked(a, b, m.deterministic ? "level4" : "level3"));
        ++stats.linked;
      } else if (!unlinked) {
        RETURN_IF_ERROR(store_->PutRecords({{kReviewPrefix + PairKey(a, b), ReviewJson(a, b, m)}}));
        ++stats.review;
      }
    }
  }
  return stats;
}

Result<MatchStats> Mpi::MatchPatients(const std::vector<std::string>& patient_ids) {
  return MatchAgainst(patient_ids, false);
}

Result<MatchStats> Mpi::MatchAll() { return MatchAgainst({}, true); }

}  // namespace medhub::sync
