#include "sync/transform.h"

#include <charconv>

#include "core/hash.h"
#include "fhir/resource.h"

namespace medhub::sync {
namespace {

void RewriteReference(json::Value* ref, std::string_view source, std::string_view base) {
  const std::string& text = ref->text();
  if (text.empty() || text[0] == '#' || text.starts_with("urn:")) return;
  const bool absolute = text.starts_with("http://") || text.starts_with("https://");
  if (absolute &&
      !(text.starts_with(base) && text.size() > base.size() && text[base.size()] == '/'))
    return;  // another server's resource: left as it is
  auto parsed = fhir::ParseReference(absolute ? std::string_view(text).substr(base.size() + 1)
                                              : std::string_view(text));
  if (!parsed.ok() || parsed->kind != fhir::Reference::Kind::kRelative) return;
  *ref = json::Value::String(parsed->type + "/" + LocalId(source, parsed->id));
}

void Walk(json::Value* v, std::string_view source, std::string_view base) {
  if (v->is_array()) {
    for (json::Value& item : v->items()) Walk(&item, source, base);
  } else if (v->is_object()) {
    for (auto& [key, value] : v->members()) {
      if (key == "reference" && value.is_string()) {
        RewriteReference(&value, source, base);
      } else if (key != "contained") {  // contained resources keep their local ids
        Walk(&value, source, base);
      } else {
        for (json::Value& c : value.items()) {
          for (auto& [ck, cv] : c.members())
            if (ck != "id") Walk(&cv, source, base);
        }
      }
    }
  }
}

}  // namespace

std::string LocalId(std::string_view source, std::string_view source_id) {
  std::string id = std::string(source) + "-" + std::string(source_id);
  if (id.size() <= 64) return id;
  return std::string(source) + "-" + ToHex(Sha256(source_id)).substr(0, 32);
}

void Localize(json::Value* resource, std::string_view source, std::string_view base,
              uint64_t source_version) {
  const std::string type(fhir::ResourceType(*resource));
  const std::string id(fhir::ResourceId(*resource));
  Walk(resource, source, base);
  resource->set("id", json::Value::String(LocalId(source, id)));
  json::Value* meta = resource->find("meta");
  if (meta == nullptr || !meta->is_object()) meta = &resource->set("meta", json::Value::Object());
  meta->erase("versionId");
  meta->erase("lastUpdated");
  meta->set("source", json::Value::String(std::string(base) + "/" + type + "/" + id + "/_history/" +
                                          std::to_string(source_version)));
}

uint64_t SourceVersionOf(const json::Value& resource) {
  const json::Value* meta = resource.find("meta");
  if (meta == nullptr) return 0;
  std::string_view src = meta->get_string("source");
  const size_t pos = src.rfind("/_history/");
  if (pos == std::string_view::npos) return 0;
  std::string_view digits = src.substr(pos + 10);
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  return ec == std::errc() && p == digits.data() + digits.size() ? v : 0;
}

}  // namespace medhub::sync
