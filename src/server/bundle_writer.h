// Writes FHIR Bundle JSON text directly, splicing stored resource bytes in without
// parsing them again (reads are the hot path of the API).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace medhub::server {

class BundleWriter {
 public:
  // type: "searchset", "history", "batch-response", "transaction-response".
  explicit BundleWriter(std::string_view type);

  void SetTotal(size_t total);
  void AddLink(std::string_view relation, std::string_view url);

  // Starts an entry; the Add* calls below fill it until EndEntry().
  void BeginEntry();
  void FullUrl(std::string_view url);
  void Resource(std::string_view resource_json);  // a complete JSON object
  void SearchMode(std::string_view mode);         // "match", "include", "outcome"
  // request: {method, url}; response: {status, location?, etag?, lastModified?}
  void Request(std::string_view method, std::string_view url);
  void Response(std::string_view status, std::string_view location, std::string_view etag,
                std::string_view last_modified, std::string_view outcome_json = "");
  void EndEntry();

  // Returns the finished bundle text; the writer must not be used afterwards.
  std::string Finish();

 private:
  void Key(std::string_view key);
  std::string head_;     // resourceType, type, total, link
  std::string entries_;  // entry array items
  bool links_open_ = false;
  bool first_entry_ = true;
  bool first_in_entry_ = true;
};

}  // namespace medhub::server
