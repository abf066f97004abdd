// Helpers shared by the ledger tests (not part of medhub::ledger).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include "core/ed25519.h"
#include "core/hash.h"
#include "core/ids.h"
#include "core/temp_dir.h"
#include "core/json.h"
#include "ledger/entry.h"
#include "ledger/merkle.h"
#include "ledger/tree_head.h"

namespace medhub::ledger::testing {

#ifdef MEDHUB_SHARED_DATA
inline std::filesystem::path Rfc6962Dir() {
  return std::filesystem::path(MEDHUB_SHARED_DATA) / "testsuites" / "rfc6962";
}
#endif

// The parsed JSON file at `path`; fails the test if it cannot be read or parsed.
inline json::Value LoadJson(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::ostringstream text;
  text << in.rdbuf();
  Result<json::Value> value = json::Parse(text.str());
  EXPECT_TRUE(value.ok()) << path << ": " << value.status().ToString();
  return value.ok() ? *value : json::Value();
}

// Strict hex decoding; nullopt on odd length or a non-hex digit.
inline std::optional<std::string> FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]);
    const int lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi << 4 | lo));
  }
  return out;
}

// Strict standard base64 (RFC 4648 section 4, with padding); nullopt if malformed.
inline std::optional<std::string> FromBase64(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const int pad = last ? (text[i + 3] == '=') + (text[i + 2] == '=') : 0;
    uint32_t group = 0;
    for (int j = 0; j < 4; ++j) {
      const int v = j >= 4 - pad ? 0 : value(text[i + j]);
      if (v < 0) return std::nullopt;
      group = group << 6 | static_cast<uint32_t>(v);
    }
    for (int j = 0; j < 3 - pad; ++j) out.push_back(static_cast<char>(group >> (16 - 8 * j)));
  }
  return out;
}

using medhub::testing::TempDir;  // core/temp_dir.h

inline std::string ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline void WriteFileBytes(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline Hash MustHashFromHex(std::string_view hex) {
  Result<Hash> h = HashFromHex(hex);
  EXPECT_TRUE(h.ok()) << hex;
  return h.ok() ? *h : Hash{};
}

// The parameter `name` of a FHIR Parameters resource, or nullptr.
inline const json::Value* FindParameter(const json::Value& params, std::string_view name) {
  const json::Value* list = params.find("parameter");
  if (list == nullptr) list = params.find("part");
  if (list == nullptr || !list->is_array()) return nullptr;
  for (const json::Value& p : list->items()) {
    if (p.get_string("name") == name) return &p;
  }
  return nullptr;
}

inline std::string ParameterString(const json::Value& params, std::string_view name) {
  const json::Value* p = FindParameter(params, name);
  if (p == nullptr) return "";
  for (const char* type : {"valueString", "valueInstant"}) {
    if (const json::Value* v = p->find(type)) return v->text();
  }
  return "";
}

// Checks a $verify answer the way a client would, from the primitives alone: that
// `resource_bytes` (what the client read from vread) hash with the salt to the commitment,
// that the entry holds that commitment for that version, that the entry is in the tree of
// the signed head, and that `key` (the member's public key, known out of band) signed it.
inline Status CheckVerifyParameters(const json::Value& params, std::string_view resource_bytes,
                                    const PublicKey& key) {
  const auto salt = FromHex(ParameterString(params, "salt"));
  const auto entry_bytes = FromHex(ParameterString(params, "entry"));
  const Result<Hash> commitment = HashFromHex(ParameterString(params, "commitment"));
  if (!salt || !entry_bytes || !commitment.ok()) return Status::DataLoss("malformed parameters");
  const bool deleted = resource_bytes.empty();
  if (!deleted && Sha256Of({*salt, resource_bytes}) != *commitment) {
    return Status::DataLoss("SHA-256(salt || resource) is not the commitment");
  }
  ASSIGN_OR_RETURN(const Entry entry, DecodeEntry(*entry_bytes));
  const RecordFields* record = AsRecord(entry);
  if (record == nullptr || record->commitment != *commitment ||
      RecordName(record->type, record->id, record->version) !=
          ParameterString(params, "resource")) {
    return Status::DataLoss("the entry does not commit to this version");
  }
  const json::Value* head_part = FindParameter(params, "treeHead");
  const json::Value* proof_part = FindParameter(params, "inclusionProof");
  if (head_part == nullptr || proof_part == nullptr) return Status::DataLoss("no head or proof");
  const auto head_bytes = FromHex(ParameterString(*head_part, "encoded"));
  const auto signature = FromHex(ParameterString(*head_part, "signature"));
  if (!head_bytes || !signature) return Status::DataLoss("malformed tree head");
  RETURN_IF_ERROR(key.Verify(*head_bytes, *signature));
  ASSIGN_OR_RETURN(const TreeHead head, DecodeTreeHead(*head_bytes));
  Proof proof;
  if (const json::Value* parts = proof_part->find("part")) {
    for (const json::Value& p : parts->items()) {
      ASSIGN_OR_RETURN(Hash h, HashFromHex(p.get_string("valueString")));
      proof.push_back(h);
    }
  }
  const uint64_t leaf = std::stoull("0" + ParameterString(params, "leafIndex"));
  return VerifyInclusion(leaf, head.tree_size, HashLeaf(*entry_bytes), proof, head.root);
}

}  // namespace medhub::ledger::testing
