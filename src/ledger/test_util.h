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

#include "core/json.h"
#include "ledger/merkle.h"

namespace medhub::ledger::testing {

inline std::filesystem::path Rfc6962Dir() {
  return std::filesystem::path(MEDHUB_SHARED_DATA) / "testsuites" / "rfc6962";
}

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

inline Hash MustHashFromHex(std::string_view hex) {
  Result<Hash> h = HashFromHex(hex);
  EXPECT_TRUE(h.ok()) << hex;
  return h.ok() ? *h : Hash{};
}

}  // namespace medhub::ledger::testing
