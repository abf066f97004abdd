#include "core/json.h"

#include <bit>
#include <cassert>
#include <charconv>
#include <cstring>
#include <optional>
#include <string>
#include <system_error>
#include <unordered_set>

namespace medhub::json {
namespace {

// ---------------------------------------------------------------------------------
// Byte scanning helpers.

constexpr uint64_t kOnes = 0x0101010101010101ULL;
constexpr uint64_t kHighs = 0x8080808080808080ULL;

inline uint64_t Load64(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

// For each byte of `w`, the high bit of the result is set if the byte is '"', '\\' or a
// control character (< 0x20). Borrows can also flag bytes that follow a flagged byte (in
// memory order, on little-endian), but the lowest flagged byte is always exact.
inline uint64_t QuoteBackslashOrControl(uint64_t w) {
  const uint64_t q = w ^ (kOnes * '"');
  const uint64_t b = w ^ (kOnes * '\\');
  return (((q - kOnes) & ~q) | ((b - kOnes) & ~b) | ((w - kOnes * 0x20) & ~w)) & kHighs;
}

// As above, and also flags non-ASCII bytes (>= 0x80).
inline uint64_t QuoteBackslashControlOrNonAscii(uint64_t w) {
  const uint64_t q = w ^ (kOnes * '"');
  const uint64_t b = w ^ (kOnes * '\\');
  return (((q - kOnes) & ~q) | ((b - kOnes) & ~b) | (w - kOnes * 0x20) | w) & kHighs;
}

// Advances `p` over whole 8-byte words none of whose bytes is flagged by `Mask`; on
// little-endian machines it then also skips the unflagged bytes of the stopping word.
template <uint64_t (*Mask)(uint64_t)>
inline const char* SkipUnflaggedWords(const char* p, const char* end) {
  while (end - p >= 8) {
    const uint64_t m = Mask(Load64(p));
    if (m != 0) {
      if constexpr (std::endian::native == std::endian::little) {
        p += std::countr_zero(m) >> 3;
      }
      return p;
    }
    p += 8;
  }
  return p;
}

// Length of the well-formed UTF-8 sequence (Unicode Table 3-7) starting at the non-ASCII
// byte `p[0]`, or 0 if it is ill-formed: a stray continuation byte, an overlong form, an
// encoded surrogate, a code point above U+10FFFF or a truncated sequence.
inline size_t Utf8SequenceLength(const unsigned char* p, const unsigned char* end) {
  const unsigned c = p[0];
  const size_t avail = static_cast<size_t>(end - p);
  if (c < 0xC2) return 0;  // continuation byte, or C0/C1 (overlong 2-byte forms)
  if (c < 0xE0) {
    return (avail >= 2 && (p[1] & 0xC0) == 0x80) ? 2 : 0;
  }
  if (c < 0xF0) {
    if (avail < 3) return 0;
    const unsigned c1 = p[1];
    const bool ok1 = c == 0xE0   ? (c1 >= 0xA0 && c1 <= 0xBF)  // no overlongs
                     : c == 0xED ? (c1 >= 0x80 && c1 <= 0x9F)  // no surrogates
                                 : (c1 & 0xC0) == 0x80;
    return (ok1 && (p[2] & 0xC0) == 0x80) ? 3 : 0;
  }
  if (c < 0xF5) {
    if (avail < 4) return 0;
    const unsigned c1 = p[1];
    const bool ok1 = c == 0xF0   ? (c1 >= 0x90 && c1 <= 0xBF)  // no overlongs
                     : c == 0xF4 ? (c1 >= 0x80 && c1 <= 0x8F)  // <= U+10FFFF
                                 : (c1 & 0xC0) == 0x80;
    return (ok1 && (p[2] & 0xC0) == 0x80 && (p[3] & 0xC0) == 0x80) ? 4 : 0;
  }
  return 0;
}

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Scans the longest prefix of [p, end) that the JSON number grammar accepts
//   -? (0 | [1-9][0-9]*) (\.[0-9]+)? ([eE][+-]?[0-9]+)?
// and returns its end, or nullptr if there is none or it is malformed (e.g. "01", "1.",
// "1e").
const char* ScanNumber(const char* p, const char* end) {
  if (p < end && *p == '-') ++p;
  if (p == end) return nullptr;
  if (*p == '0') {
    ++p;
    if (p < end && IsDigit(*p)) return nullptr;  // leading zero
  } else if (*p >= '1' && *p <= '9') {
    do ++p;
    while (p < end && IsDigit(*p));
  } else {
    return nullptr;
  }
  if (p < end && *p == '.') {
    ++p;
    if (p == end || !IsDigit(*p)) return nullptr;
    do ++p;
    while (p < end && IsDigit(*p));
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    ++p;
    if (p < end && (*p == '+' || *p == '-')) ++p;
    if (p == end || !IsDigit(*p)) return nullptr;
    do ++p;
    while (p < end && IsDigit(*p));
  }
  return p;
}

[[maybe_unused]] inline bool IsValidNumber(std::string_view raw) {
  return !raw.empty() && ScanNumber(raw.data(), raw.data() + raw.size()) == raw.data() + raw.size();
}

inline int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Reads the 4 hex digits at p (bounds checked by the caller).
inline bool ReadHex4(const char* p, uint32_t* out) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    const int h = HexValue(p[i]);
    if (h < 0) return false;
    v = (v << 4) | static_cast<uint32_t>(h);
  }
  *out = v;
  return true;
}

inline void AppendUtf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    const char b[2] = {static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};
    out.append(b, 2);
  } else if (cp < 0x10000) {
    const char b[3] = {static_cast<char>(0xE0 | (cp >> 12)),
                       static_cast<char>(0x80 | ((cp >> 6) & 0x3F)),
                       static_cast<char>(0x80 | (cp & 0x3F))};
    out.append(b, 3);
  } else {
    const char b[4] = {
        static_cast<char>(0xF0 | (cp >> 18)), static_cast<char>(0x80 | ((cp >> 12) & 0x3F)),
        static_cast<char>(0x80 | ((cp >> 6) & 0x3F)), static_cast<char>(0x80 | (cp & 0x3F))};
    out.append(b, 4);
  }
}

// ---------------------------------------------------------------------------------
// Parser: recursive descent over a byte range, no virtual calls, errors carried as a
// position plus a message and turned into a Status once at the top.

// Duplicate-key detection for big objects: a set of member indices hashed by name.
struct MemberIndexHash {
  const std::vector<Member>* members;
  size_t operator()(uint32_t i) const { return std::hash<std::string_view>()((*members)[i].first); }
};
struct MemberIndexEq {
  const std::vector<Member>* members;
  bool operator()(uint32_t a, uint32_t b) const {
    return (*members)[a].first == (*members)[b].first;
  }
};
using MemberIndex = std::unordered_set<uint32_t, MemberIndexHash, MemberIndexEq>;

// Objects with fewer members than this are checked for duplicates by a linear scan.
constexpr size_t kLinearDuplicateCheckLimit = 16;

class Parser {
 public:
  Parser(std::string_view text, const ParseOptions& options)
      : begin_(text.data()), p_(text.data()), end_(text.data() + text.size()), options_(options) {}

  Result<Value> Run() {
    if (end_ - p_ >= 3 && std::memcmp(p_, "\xEF\xBB\xBF", 3) == 0) {
      Fail(p_, "byte order mark is not allowed");
      return MakeError();
    }
    Value v;
    SkipWhitespace();
    if (!ParseValue(v, 0)) return MakeError();
    SkipWhitespace();
    if (p_ != end_) {
      Fail(p_, "unexpected " + Describe(p_) + " after the JSON value");
      return MakeError();
    }
    return v;
  }

 private:
  bool ParseValue(Value& out, size_t depth) {
    if (p_ == end_) return Fail(p_, "expected a value, found end of input");
    switch (*p_) {
      case '"': {
        ++p_;
        std::string s;
        if (!ParseString(s)) return false;
        out = Value::String(std::move(s));
        return true;
      }
      case '{':
        return ParseObject(out, depth);
      case '[':
        return ParseArray(out, depth);
      case 't':
        return ParseLiteral("true", Value::Bool(true), out);
      case 'f':
        return ParseLiteral("false", Value::Bool(false), out);
      case 'n':
        return ParseLiteral("null", Value(), out);
      case '-':
      case '0':
      case '1':
      case '2':
      case '3':
      case '4':
      case '5':
      case '6':
      case '7':
      case '8':
      case '9':
        return ParseNumber(out);
      default:
        return Fail(p_, "expected a value, found " + Describe(p_));
    }
  }

  bool ParseLiteral(std::string_view word, Value v, Value& out) {
    if (static_cast<size_t>(end_ - p_) < word.size() ||
        std::memcmp(p_, word.data(), word.size()) != 0 ||
        (static_cast<size_t>(end_ - p_) > word.size() && IsWordChar(p_[word.size()]))) {
      return Fail(p_, "invalid literal (expected a value)");
    }
    p_ += word.size();
    out = std::move(v);
    return true;
  }

  bool ParseNumber(Value& out) {
    const char* q = ScanNumber(p_, end_);
    // A number directly followed by more number-ish characters ("1.5.2", "2x") is
    // reported as a bad number rather than as a bad separator.
    if (q == nullptr || (q < end_ && (IsWordChar(*q) || *q == '.' || *q == '+' || *q == '-'))) {
      return Fail(p_, "invalid number");
    }
    out = Value::Number(std::string_view(p_, static_cast<size_t>(q - p_)));
    p_ = q;
    return true;
  }

  bool ParseArray(Value& out, size_t depth) {
    if (depth >= options_.max_depth) return FailDepth();
    ++p_;  // '['
    out = Value::Array();
    std::vector<Value>& items = out.items();
    SkipWhitespace();
    if (p_ < end_ && *p_ == ']') {
      ++p_;
      return true;
    }
    for (;;) {
      items.emplace_back();
      if (!ParseValue(items.back(), depth + 1)) return false;
      SkipWhitespace();
      if (p_ < end_) {
        if (*p_ == ',') {
          ++p_;
          SkipWhitespace();
          continue;
        }
        if (*p_ == ']') {
          ++p_;
          return true;
        }
      }
      return Fail(p_, "expected ',' or ']' after array element, found " + Describe(p_));
    }
  }

  bool ParseObject(Value& out, size_t depth) {
    if (depth >= options_.max_depth) return FailDepth();
    ++p_;  // '{'
    out = Value::Object();
    std::vector<Member>& members = out.members();
    std::optional<MemberIndex> index;  // only for big objects with duplicate rejection
    SkipWhitespace();
    if (p_ < end_ && *p_ == '}') {
      ++p_;
      return true;
    }
    for (;;) {
      if (p_ == end_ || *p_ != '"') {
        return Fail(p_, "expected a string as object member name, found " + Describe(p_));
      }
      const char* key_at = p_;
      ++p_;
      members.emplace_back();
      if (!ParseString(members.back().first)) return false;
      if (options_.reject_duplicate_keys && IsDuplicateKey(members, index)) {
        std::string what = "duplicate key ";
        AppendQuoted(members.back().first.substr(0, 64), &what);
        return Fail(key_at, std::move(what));
      }
      SkipWhitespace();
      if (p_ == end_ || *p_ != ':') {
        return Fail(p_, "expected ':' after object member name, found " + Describe(p_));
      }
      ++p_;
      SkipWhitespace();
      if (!ParseValue(members.back().second, depth + 1)) return false;
      SkipWhitespace();
      if (p_ < end_) {
        if (*p_ == ',') {
          ++p_;
          SkipWhitespace();
          continue;
        }
        if (*p_ == '}') {
          ++p_;
          return true;
        }
      }
      return Fail(p_, "expected ',' or '}' after object member, found " + Describe(p_));
    }
  }

  // Whether the last member's name repeats an earlier one.
  static bool IsDuplicateKey(const std::vector<Member>& members,
                             std::optional<MemberIndex>& index) {
    const size_t last = members.size() - 1;
    const std::string& key = members[last].first;
    if (!index) {
      if (last < kLinearDuplicateCheckLimit) {
        for (size_t i = 0; i < last; ++i) {
          if (members[i].first == key) return true;
        }
        return false;
      }
      // The earlier members are known to be distinct; index them once.
      index.emplace(2 * kLinearDuplicateCheckLimit, MemberIndexHash{&members},
                    MemberIndexEq{&members});
      for (size_t i = 0; i < last; ++i) index->insert(static_cast<uint32_t>(i));
    }
    return !index->insert(static_cast<uint32_t>(last)).second;
  }

  // Parses the rest of a string whose opening quote has been consumed.
  bool ParseString(std::string& out) {
    const char* const open = p_ - 1;
    const char* p = ScanPlain(p_);
    if (p < end_ && *p == '"') {  // fast path: no escapes
      out.assign(p_, p);
      p_ = p + 1;
      return true;
    }
    out.assign(p_, p);
    for (;;) {
      if (p == end_) return Fail(open, "unterminated string");
      const unsigned char c = static_cast<unsigned char>(*p);
      if (c == '"') {
        p_ = p + 1;
        return true;
      }
      if (c == '\\') {
        p = ParseEscape(p, open, out);
        if (p == nullptr) return false;
      } else if (c < 0x20) {
        return Fail(p, "unescaped control character in string");
      } else {
        return Fail(p, "invalid UTF-8 in string");
      }
      const char* run = p;
      p = ScanPlain(p);
      out.append(run, p);
    }
  }

  // Skips characters that stand for themselves in a string: ASCII other than '"', '\\'
  // and control characters, and well-formed UTF-8 sequences.
  const char* ScanPlain(const char* p) const {
    for (;;) {
      p = SkipUnflaggedWords<QuoteBackslashControlOrNonAscii>(p, end_);
      if (p == end_) return p;
      const unsigned char c = static_cast<unsigned char>(*p);
      if (c >= 0x80) {
        const size_t n = Utf8SequenceLength(reinterpret_cast<const unsigned char*>(p),
                                            reinterpret_cast<const unsigned char*>(end_));
        if (n == 0) return p;
        p += n;
      } else if (c == '"' || c == '\\' || c < 0x20) {
        return p;
      } else {
        ++p;
      }
    }
  }

  // Decodes the escape at `p` (a backslash) of the string opened at `open` onto `out`;
  // returns the position after it, or nullptr after recording an error.
  const char* ParseEscape(const char* p, const char* open, std::string& out) {
    if (end_ - p < 2) {
      Fail(open, "unterminated string");
      return nullptr;
    }
    char simple = 0;
    switch (p[1]) {
      case '"':
        simple = '"';
        break;
      case '\\':
        simple = '\\';
        break;
      case '/':
        simple = '/';
        break;
      case 'b':
        simple = '\b';
        break;
      case 'f':
        simple = '\f';
        break;
      case 'n':
        simple = '\n';
        break;
      case 'r':
        simple = '\r';
        break;
      case 't':
        simple = '\t';
        break;
      case 'u':
        break;
      default:
        Fail(p, "invalid escape sequence in string");
        return nullptr;
    }
    if (simple != 0) {
      out.push_back(simple);
      return p + 2;
    }
    uint32_t cp;
    if (end_ - p < 6 || !ReadHex4(p + 2, &cp)) {
      Fail(p, "invalid \\u escape (expected 4 hex digits)");
      return nullptr;
    }
    const char* next = p + 6;
    if (cp >= 0xD800 && cp <= 0xDFFF) {
      uint32_t low;
      if (cp <= 0xDBFF && end_ - next >= 6 && next[0] == '\\' && next[1] == 'u' &&
          ReadHex4(next + 2, &low) && low >= 0xDC00 && low <= 0xDFFF) {
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        next += 6;
      } else {
        Fail(p, "unpaired surrogate in \\u escape");
        return nullptr;
      }
    }
    AppendUtf8(cp, out);
    return next;
  }

  void SkipWhitespace() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  static bool IsWordChar(char c) {
    return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  }

  // "end of input", "'x'" or "byte 0x01" for error messages.
  std::string Describe(const char* at) const {
    if (at >= end_) return "end of input";
    const unsigned char c = static_cast<unsigned char>(*at);
    if (c >= 0x20 && c < 0x7F) return std::string("'") + static_cast<char>(c) + "'";
    static constexpr char kHex[] = "0123456789ABCDEF";
    return std::string("byte 0x") + kHex[c >> 4] + kHex[c & 0xF];
  }

  bool FailDepth() { return Fail(p_, "nesting deeper than " + std::to_string(options_.max_depth)); }

  bool Fail(const char* at, std::string what) {
    if (error_at_ == nullptr) {
      error_at_ = at;
      error_ = std::move(what);
    }
    return false;
  }

  // Line and column (1-based; columns count characters, not bytes) of the error.
  Status MakeError() const {
    size_t line = 1;
    const char* line_start = begin_;
    for (const char* q = begin_; q < error_at_; ++q) {
      if (*q == '\n') {
        ++line;
        line_start = q + 1;
      }
    }
    size_t column = 1;
    for (const char* q = line_start; q < error_at_; ++q) {
      if ((static_cast<unsigned char>(*q) & 0xC0) != 0x80) ++column;
    }
    return Status::InvalidArgument("line " + std::to_string(line) + ", column " +
                                   std::to_string(column) + ": " + error_);
  }

  const char* const begin_;
  const char* p_;
  const char* const end_;
  const ParseOptions& options_;
  const char* error_at_ = nullptr;
  std::string error_;
};

// ---------------------------------------------------------------------------------
// Serialization.

void AppendEscaped(unsigned char c, std::string* out) {
  switch (c) {
    case '"':
      out->append("\\\"");
      return;
    case '\\':
      out->append("\\\\");
      return;
    case '\b':
      out->append("\\b");
      return;
    case '\f':
      out->append("\\f");
      return;
    case '\n':
      out->append("\\n");
      return;
    case '\r':
      out->append("\\r");
      return;
    case '\t':
      out->append("\\t");
      return;
    default: {
      static constexpr char kHex[] = "0123456789abcdef";
      const char b[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      out->append(b, 6);
    }
  }
}

inline bool NeedsEscape(unsigned char c) { return c == '"' || c == '\\' || c < 0x20; }

void SerializeValue(const Value& v, std::string* out) {
  switch (v.kind()) {
    case Kind::kNull:
      out->append("null");
      return;
    case Kind::kBool:
      out->append(v.as_bool() ? "true" : "false");
      return;
    case Kind::kNumber:
      out->append(v.text());
      return;
    case Kind::kString:
      AppendQuoted(v.text(), out);
      return;
    case Kind::kArray: {
      out->push_back('[');
      bool first = true;
      for (const Value& item : v.items()) {
        if (!first) out->push_back(',');
        first = false;
        SerializeValue(item, out);
      }
      out->push_back(']');
      return;
    }
    case Kind::kObject: {
      out->push_back('{');
      bool first = true;
      for (const Member& m : v.members()) {
        if (!first) out->push_back(',');
        first = false;
        AppendQuoted(m.first, out);
        out->push_back(':');
        SerializeValue(m.second, out);
      }
      out->push_back('}');
      return;
    }
  }
}

}  // namespace

// ---------------------------------------------------------------------------------
// Value.

Value Value::Bool(bool b) {
  Value v;
  v.kind_ = Kind::kBool;
  v.bool_ = b;
  return v;
}

Value Value::Number(std::string_view raw) {
  assert(IsValidNumber(raw) && "Value::Number needs a valid JSON number literal");
  Value v;
  v.kind_ = Kind::kNumber;
  v.text_.assign(raw);
  return v;
}

Value Value::Int(int64_t i) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, i);
  return Number(std::string_view(buf, static_cast<size_t>(r.ptr - buf)));
}

Value Value::String(std::string s) {
  Value v;
  v.kind_ = Kind::kString;
  v.text_ = std::move(s);
  return v;
}

Value Value::Array() {
  Value v;
  v.kind_ = Kind::kArray;
  return v;
}

Value Value::Object() {
  Value v;
  v.kind_ = Kind::kObject;
  return v;
}

std::optional<double> Value::as_double() const {
  if (kind_ != Kind::kNumber) return std::nullopt;
  double d = 0;
  const char* end = text_.data() + text_.size();
  const auto r = std::from_chars(text_.data(), end, d);
  if (r.ec != std::errc() || r.ptr != end) return std::nullopt;
  return d;
}

std::optional<int64_t> Value::as_int() const {
  if (kind_ != Kind::kNumber) return std::nullopt;
  int64_t i = 0;
  const char* end = text_.data() + text_.size();
  const auto r = std::from_chars(text_.data(), end, i);
  if (r.ec != std::errc() || r.ptr != end) return std::nullopt;  // "1.5", "1e3", overflow
  return i;
}

const Value* Value::find(std::string_view key) const {
  for (const Member& m : members_) {
    if (m.first == key) return &m.second;
  }
  return nullptr;
}

Value* Value::find(std::string_view key) {
  for (Member& m : members_) {
    if (m.first == key) return &m.second;
  }
  return nullptr;
}

std::string_view Value::get_string(std::string_view key) const {
  const Value* v = find(key);
  return (v != nullptr && v->is_string()) ? std::string_view(v->text_) : std::string_view();
}

// set() and insert_at() turn a null Value into an object (so `Value v; v.set(...)` does
// not silently serialize as "null"); on other non-object kinds they are a caller bug.
Value& Value::set(std::string_view key, Value v) {
  if (kind_ == Kind::kNull) kind_ = Kind::kObject;
  assert(kind_ == Kind::kObject);
  if (Value* existing = find(key)) {
    *existing = std::move(v);
    return *existing;
  }
  members_.emplace_back(std::string(key), std::move(v));
  return members_.back().second;
}

Value& Value::insert_at(size_t pos, std::string_view key, Value v) {
  if (kind_ == Kind::kNull) kind_ = Kind::kObject;
  assert(kind_ == Kind::kObject);
  if (Value* existing = find(key)) {
    *existing = std::move(v);
    return *existing;
  }
  if (pos > members_.size()) pos = members_.size();
  auto it = members_.emplace(members_.begin() + static_cast<std::ptrdiff_t>(pos), std::string(key),
                             std::move(v));
  return it->second;
}

bool Value::erase(std::string_view key) {
  for (auto it = members_.begin(); it != members_.end(); ++it) {
    if (it->first == key) {
      members_.erase(it);
      return true;
    }
  }
  return false;
}

bool operator==(const Value& a, const Value& b) {
  if (a.kind_ != b.kind_) return false;
  switch (a.kind_) {
    case Kind::kNull:
      return true;
    case Kind::kBool:
      return a.bool_ == b.bool_;
    case Kind::kNumber:
    case Kind::kString:
      return a.text_ == b.text_;
    case Kind::kArray:
      return a.items_ == b.items_;
    case Kind::kObject:
      return a.members_ == b.members_;
  }
  return false;
}

// ---------------------------------------------------------------------------------
// Free functions.

Result<Value> Parse(std::string_view text, const ParseOptions& options) {
  return Parser(text, options).Run();
}

std::string Serialize(const Value& v) {
  std::string out;
  SerializeValue(v, &out);
  return out;
}

void SerializeTo(const Value& v, std::string* out) { SerializeValue(v, out); }

void AppendQuoted(std::string_view s, std::string* out) {
  out->push_back('"');
  const char* p = s.data();
  const char* const end = p + s.size();
  while (p < end) {
    const char* run = p;
    for (;;) {
      p = SkipUnflaggedWords<QuoteBackslashOrControl>(p, end);
      if (p == end || NeedsEscape(static_cast<unsigned char>(*p))) break;
      ++p;
    }
    out->append(run, p);
    if (p == end) break;
    AppendEscaped(static_cast<unsigned char>(*p), out);
    ++p;
  }
  out->push_back('"');
}

}  // namespace medhub::json
