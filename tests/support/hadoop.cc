#include "support/hadoop.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/json.h"

namespace medhub::testing {

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> SortedLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::sort(lines.begin(), lines.end());
  return lines;
}

std::string EnvValue(const std::string& out, const std::string& name) {
  std::istringstream env(out);
  for (std::string l; std::getline(env, l);) {
    if (l.starts_with(name + "=")) return l.substr(name.size() + 1);
  }
  return {};
}

Status PutHdfsFile(HttpClient* http, const std::string& webhdfs, const std::string& hdfs_path,
                   const std::string& content) {
  std::string url = webhdfs + "/webhdfs/v1";
  for (char c : hdfs_path) url += c == '=' ? std::string("%3D") : std::string(1, c);
  HttpClientRequest create;
  create.method = "PUT";
  create.url = url + "?op=CREATE&overwrite=true&noredirect=true&user.name=medhub";
  ASSIGN_OR_RETURN(HttpClientResponse step1, http->Send(create));
  if (step1.status != 200) return Status::Internal("WebHDFS CREATE: " + step1.body);
  ASSIGN_OR_RETURN(json::Value location, json::Parse(step1.body));
  HttpClientRequest data;
  data.method = "PUT";
  data.url = std::string(location.get_string("Location"));
  data.headers = {{"Content-Type", "application/octet-stream"}, {"Expect", ""}};
  data.body = content;
  ASSIGN_OR_RETURN(HttpClientResponse step2, http->Send(data));
  if (step2.status != 201) return Status::Internal("WebHDFS write to the DataNode: " + step2.body);
  return Status::Ok();
}

Result<std::string> MakeHdfsLakeWithACorruptLine(const MedhubRun& medhub, const std::string& dir,
                                                 const std::string& webhdfs) {
  const std::string population = dir + "/population";
  std::string err;
  if (medhub({"gen", "--patients", "30", "--seed", "9", "--out", population, "--types",
              "Patient,Condition,Observation,MedicationRequest,Device"},
             &err) != 0)
    return Status::Internal("medhub gen: " + err);
  const std::string url =
      "webhdfs://" + webhdfs.substr(std::string("http://").size()) + "/medhub/lake";
  if (medhub({"import", "--data", dir + "/data", "--lake", url, population}, &err) != 0)
    return Status::Internal("medhub import: " + err);
  HttpClient http;
  RETURN_IF_ERROR(PutHdfsFile(
      &http, webhdfs, "/medhub/lake/Patient/date=2000/bucket=00/part-0000009999-0000.ndjson",
      std::string(R"({"resourceType":"Patient","id":"cut-short","gend)") + "\n"));
  return url;
}

}  // namespace medhub::testing
