#include "security/base64.h"

#include <array>
#include <cstdint>

namespace medhub::security {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr char kStdAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

using DecodeTable = std::array<int8_t, 256>;

// The 6-bit value of each character of `alphabet`, -1 for others.
constexpr DecodeTable MakeDecodeTable(const char* alphabet) {
  DecodeTable t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<uint8_t>(alphabet[i])] = static_cast<int8_t>(i);
  return t;
}
constexpr DecodeTable kDecode = MakeDecodeTable(kAlphabet);
constexpr DecodeTable kStdDecode = MakeDecodeTable(kStdAlphabet);

// Decodes unpadded text of `table`'s alphabet.
Result<std::string> DecodeUnpadded(std::string_view text, const DecodeTable& table) {
  if (text.size() % 4 == 1) return Status::InvalidArgument("base64 text has an impossible length");
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const int8_t v = table[static_cast<uint8_t>(c)];
    if (v < 0) {
      return Status::InvalidArgument(c == '=' ? "base64 text has unexpected padding"
                                              : "base64 text has a character outside its alphabet");
    }
    acc = ((acc << 6) | static_cast<uint32_t>(v)) & 0x3FFF;  // at most 13 live bits
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  // The 2 or 4 bits left over must be zero: otherwise two texts would decode alike.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
    return Status::InvalidArgument("base64 text is not canonical (non-zero trailing bits)");
  return out;
}

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) |
                       (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                       static_cast<uint8_t>(bytes[i + 2]);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  const size_t rest = bytes.size() - i;
  if (rest == 1) {
    const uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
  } else if (rest == 2) {
    const uint32_t v =
        (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

std::string Base64Encode(std::string_view bytes) {
  std::string out = Base64UrlEncode(bytes);
  for (char& c : out) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (out.size() % 4 != 0) out.push_back('=');
  return out;
}

Result<std::string> Base64UrlDecode(std::string_view text) { return DecodeUnpadded(text, kDecode); }

Result<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return Status::InvalidArgument("base64 text is not padded to 4n");
  size_t pad = 0;
  while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
  return DecodeUnpadded(text.substr(0, text.size() - pad), kStdDecode);
}

}  // namespace medhub::security
