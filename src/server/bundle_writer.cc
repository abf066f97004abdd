#include "server/bundle_writer.h"

#include "core/json.h"

namespace medhub::server {

BundleWriter::BundleWriter(std::string_view type) {
  head_ = R"({"resourceType":"Bundle","type":)";
  json::AppendQuoted(type, &head_);
}

void BundleWriter::SetTotal(size_t total) {
  head_ += R"(,"total":)";
  head_ += std::to_string(total);
}

void BundleWriter::AddLink(std::string_view relation, std::string_view url) {
  head_ += links_open_ ? "," : R"(,"link":[)";
  links_open_ = true;
  head_ += R"({"relation":)";
  json::AppendQuoted(relation, &head_);
  head_ += R"(,"url":)";
  json::AppendQuoted(url, &head_);
  head_ += "}";
}

void BundleWriter::BeginEntry() {
  entries_ += first_entry_ ? "{" : ",{";
  first_entry_ = false;
  first_in_entry_ = true;
}

void BundleWriter::Key(std::string_view key) {
  if (!first_in_entry_) entries_ += ",";
  first_in_entry_ = false;
  json::AppendQuoted(key, &entries_);
  entries_ += ":";
}

void BundleWriter::FullUrl(std::string_view url) {
  Key("fullUrl");
  json::AppendQuoted(url, &entries_);
}

void BundleWriter::Resource(std::string_view resource_json) {
  Key("resource");
  entries_ += resource_json;
}

void BundleWriter::SearchMode(std::string_view mode) {
  Key("search");
  entries_ += R"({"mode":)";
  json::AppendQuoted(mode, &entries_);
  entries_ += "}";
}

void BundleWriter::Request(std::string_view method, std::string_view url) {
  Key("request");
  entries_ += R"({"method":)";
  json::AppendQuoted(method, &entries_);
  entries_ += R"(,"url":)";
  json::AppendQuoted(url, &entries_);
  entries_ += "}";
}

void BundleWriter::Response(std::string_view status, std::string_view location,
                            std::string_view etag, std::string_view last_modified,
                            std::string_view outcome_json) {
  Key("response");
  entries_ += R"({"status":)";
  json::AppendQuoted(status, &entries_);
  auto opt = [&](std::string_view k, std::string_view v) {
    if (v.empty()) return;
    entries_ += ",";
    json::AppendQuoted(k, &entries_);
    entries_ += ":";
    json::AppendQuoted(v, &entries_);
  };
  opt("location", location);
  opt("etag", etag);
  opt("lastModified", last_modified);
  if (!outcome_json.empty()) {
    entries_ += R"(,"outcome":)";
    entries_ += outcome_json;
  }
  entries_ += "}";
}

void BundleWriter::EndEntry() { entries_ += "}"; }

std::string BundleWriter::Finish() {
  std::string out = std::move(head_);
  if (links_open_) out += "]";
  if (!first_entry_) {
    out += R"(,"entry":[)";
    out += entries_;
    out += "]";
  }
  out += "}";
  return out;
}

}  // namespace medhub::server
