// Helpers shared by the lake tests and the HDFS integration test (not part of medhub::lake).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "core/ids.h"
#include "core/temp_dir.h"
#include "core/json.h"
#include "lake/filesystem.h"
#include "lake/manifest.h"
#include "store/store.h"

namespace medhub::lake::testing {

using medhub::testing::TempDir;  // core/temp_dir.h

// Every data file under the resource-type folders (names not starting with '_' or '.').
inline void WalkDataFiles(FileSystem* fs, const std::string& dir, std::vector<std::string>* out) {
  Result<std::vector<FileInfo>> list = fs->List(dir);
  ASSERT_TRUE(list.ok()) << dir << ": " << list.status().ToString();
  for (const FileInfo& f : *list) {
    if (f.name.starts_with("_") || f.name.starts_with(".")) continue;
    const std::string path = JoinPath(dir, f.name);
    if (f.is_directory) {
      WalkDataFiles(fs, path, out);
    } else {
      out->push_back(path);
    }
  }
}

using VersionKey = std::tuple<std::string, std::string, uint64_t>;  // type, id, version

// Checks the lake against the store: manifests 1..N with seq == the store's last sequence,
// the files they name are exactly the data files present, and every change of the feed is
// exactly one line (type, id, versionId) in the files, and all lines of one resource are in
// one partition folder. Returns the number of lines.
inline size_t ExpectLakeMatchesStore(FileSystem* fs, store::Store* store) {
  Result<std::vector<Manifest>> manifests = ReadManifests(fs);
  EXPECT_TRUE(manifests.ok()) << manifests.status().ToString();
  if (!manifests.ok()) return 0;
  EXPECT_FALSE(manifests->empty());
  if (manifests->empty()) return 0;
  EXPECT_EQ(manifests->back().seq, store->LastSequence());
  std::vector<std::string> named;
  uint64_t previous = 0;
  for (const Manifest& m : *manifests) {
    EXPECT_EQ(m.previous_seq, previous);
    previous = m.seq;
    for (const ManifestFile& f : m.output) named.push_back(f.url);
  }
  std::vector<std::string> present;
  WalkDataFiles(fs, "", &present);
  std::sort(named.begin(), named.end());
  std::sort(present.begin(), present.end());
  EXPECT_EQ(named, present);
  std::map<VersionKey, int> seen;
  std::map<std::pair<std::string, std::string>, std::string> folder_of;  // (type, id)
  size_t lines = 0;
  for (const std::string& path : present) {
    Result<std::string> text = fs->Read(path);
    EXPECT_TRUE(text.ok()) << text.status().ToString();
    if (!text.ok()) continue;
    EXPECT_TRUE(text->empty() || text->back() == '\n') << path;
    size_t start = 0;
    while (start < text->size()) {
      const size_t end = text->find('\n', start);
      Result<json::Value> v = json::Parse(std::string_view(*text).substr(start, end - start));
      EXPECT_TRUE(v.ok()) << path << ": " << v.status().ToString();
      if (v.ok()) {
        const json::Value* meta = v->find("meta");
        const std::string version(meta != nullptr ? meta->get_string("versionId") : "");
        seen[{std::string(v->get_string("resourceType")), std::string(v->get_string("id")),
              std::stoull(version.empty() ? "0" : version)}]++;
        EXPECT_TRUE(path.starts_with(std::string(v->get_string("resourceType")) + "/")) << path;
        const std::string folder = path.substr(0, path.rfind('/'));
        const auto [it, first] = folder_of.try_emplace(
            {std::string(v->get_string("resourceType")), std::string(v->get_string("id"))}, folder);
        EXPECT_EQ(it->second, folder) << "versions of " << it->first.second << " in two folders";
      }
      ++lines;
      start = end + 1;
    }
  }
  const std::vector<store::Change> changes = store->ChangesSince(0, 1 << 24).value();
  EXPECT_EQ(lines, changes.size());
  for (const store::Change& c : changes) {
    EXPECT_EQ((seen[{c.type, c.id, c.version}]), 1) << c.type << "/" << c.id << " v" << c.version;
  }
  return lines;
}

}  // namespace medhub::lake::testing
