// The JSON parser (the serializer is in json_serialize.cc, Value in json_value.cc).
#include "core/json.h"

#include <bit>
#include <cassert>
#include <charconv>
#include <cstring>
#include <iterator>
#include <new>
#include <optional>
#include <string>
#include <system_error>
#include <unordered_set>

#include "core/json_scan.h"

namespace medhub::json {
namespace {

using internal::AppendUtf8;
using internal::FindQuoteBackslashControlOrNonAscii;
using internal::IsDigit;
using internal::ReadHex4;
using internal::SameName;
using internal::ScanNumber;
using internal::Utf8SequenceLength;

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

}  // namespace

// Builds strings and numbers in place in a null Value (saving the moves of a temporary).
class internal::ValueAccess {
 public:
  static std::string& MakeString(Value& v) {
    assert(v.is_null());
    new (&v.text_) std::string();
    v.kind_ = Kind::kString;
    return v.text_;
  }
  static void MakeNumber(Value& v, std::string_view raw) {
    assert(v.is_null());
    new (&v.text_) std::string(raw);
    v.kind_ = Kind::kNumber;
  }
};

namespace {

using internal::ValueAccess;

// Elements a thread's parser stacks keep room for between documents (40 and 72 bytes each).
constexpr size_t kKeptStackCapacity = 4096;

// Objects with fewer members than this are checked for duplicates by a linear scan.
constexpr size_t kLinearDuplicateCheckLimit = 16;

// The parser's element stacks, one pair per thread (Parse does not nest).
struct ParserStacks {
  std::vector<Value> items;
  std::vector<Member> members;
};

class Parser {
 public:
  Parser(std::string_view text, const ParseOptions& options, ParserStacks& stacks)
      : begin_(text.data()),
        p_(text.data()),
        end_(text.data() + text.size()),
        options_(options),
        item_stack_(stacks.items),
        member_stack_(stacks.members) {}
  // Leaves the stacks empty (an error leaves the elements of the open containers on them);
  // a stack grown by a huge document gives its memory back.
  ~Parser() {
    item_stack_.clear();
    member_stack_.clear();
    if (item_stack_.capacity() > kKeptStackCapacity) std::vector<Value>().swap(item_stack_);
    if (member_stack_.capacity() > kKeptStackCapacity) std::vector<Member>().swap(member_stack_);
  }
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

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
      case '"':
        ++p_;
        return ParseString(ValueAccess::MakeString(out));
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
    ValueAccess::MakeNumber(out, std::string_view(p_, static_cast<size_t>(q - p_)));
    p_ = q;
    return true;
  }

  // Arrays and objects collect their elements on a parser-wide stack (item_stack_,
  // member_stack_) and move them into an exactly sized vector when they close: one
  // allocation per container instead of one per doubling. Scalars are parsed in place on
  // the stack; containers into a local moved there afterwards, since their own elements
  // may grow (reallocate) the stack meanwhile.
  bool ParseArray(Value& out, size_t depth) {
    if (depth >= options_.max_depth) return FailDepth();
    ++p_;  // '['
    const size_t base = item_stack_.size();
    SkipWhitespace();
    if (p_ < end_ && *p_ == ']') {
      ++p_;
      out = Value::Array();
      return true;
    }
    for (;;) {
      if (StartsContainer()) {
        Value item;
        if (!ParseValue(item, depth + 1)) return false;
        item_stack_.push_back(std::move(item));
      } else {  // a scalar pushes nothing, so it can be parsed in place
        item_stack_.emplace_back();
        if (!ParseValue(item_stack_.back(), depth + 1)) return false;
      }
      SkipWhitespace();
      if (p_ < end_) {
        if (*p_ == ',') {
          ++p_;
          SkipWhitespace();
          continue;
        }
        if (*p_ == ']') {
          ++p_;
          out = Value::Array();
          Collect(item_stack_, base, out.items());
          return true;
        }
      }
      return Fail(p_, "expected ',' or ']' after array element, found " + Describe(p_));
    }
  }

  bool ParseObject(Value& out, size_t depth) {
    if (depth >= options_.max_depth) return FailDepth();
    ++p_;  // '{'
    const size_t base = member_stack_.size();
    std::optional<MemberIndex> index;  // only for big objects with duplicate rejection
    SkipWhitespace();
    if (p_ < end_ && *p_ == '}') {
      ++p_;
      out = Value::Object();
      return true;
    }
    for (;;) {
      if (p_ == end_ || *p_ != '"') {
        return Fail(p_, "expected a string as object member name, found " + Describe(p_));
      }
      const char* key_at = p_;
      ++p_;
      const size_t at = member_stack_.size();
      member_stack_.emplace_back();
      if (!ParseString(member_stack_[at].first)) return false;
      if (options_.reject_duplicate_keys && IsDuplicateKey(base, index)) {
        std::string what = "duplicate key ";
        AppendQuoted(member_stack_[at].first.substr(0, 64), &what);
        return Fail(key_at, std::move(what));
      }
      SkipWhitespace();
      if (p_ == end_ || *p_ != ':') {
        return Fail(p_, "expected ':' after object member name, found " + Describe(p_));
      }
      ++p_;
      SkipWhitespace();
      if (StartsContainer()) {
        Value value;
        if (!ParseValue(value, depth + 1)) return false;
        member_stack_[at].second = std::move(value);
      } else if (!ParseValue(member_stack_[at].second, depth + 1)) {
        return false;
      }
      SkipWhitespace();
      if (p_ < end_) {
        if (*p_ == ',') {
          ++p_;
          SkipWhitespace();
          continue;
        }
        if (*p_ == '}') {
          ++p_;
          out = Value::Object();
          Collect(member_stack_, base, out.members());
          return true;
        }
      }
      return Fail(p_, "expected ',' or '}' after object member, found " + Describe(p_));
    }
  }

  bool StartsContainer() const { return p_ < end_ && (*p_ == '{' || *p_ == '['); }

  // Moves stack[base..] into `out` (empty) and pops them.
  template <typename T>
  static void Collect(std::vector<T>& stack, size_t base, std::vector<T>& out) {
    const auto first = stack.begin() + static_cast<std::ptrdiff_t>(base);
    out.assign(std::make_move_iterator(first), std::make_move_iterator(stack.end()));
    stack.erase(first, stack.end());
  }

  // Whether the last member's name on the stack repeats an earlier one of the object
  // whose members start at `base`.
  bool IsDuplicateKey(size_t base, std::optional<MemberIndex>& index) {
    const size_t last = member_stack_.size() - 1;
    const std::string& key = member_stack_[last].first;
    if (!index) {
      if (last - base < kLinearDuplicateCheckLimit) {
        for (size_t i = base; i < last; ++i) {
          if (SameName(member_stack_[i].first, key)) return true;
        }
        return false;
      }
      // The earlier members are known to be distinct; index them once.
      index.emplace(2 * kLinearDuplicateCheckLimit, MemberIndexHash{&member_stack_},
                    MemberIndexEq{&member_stack_});
      for (size_t i = base; i < last; ++i) index->insert(static_cast<uint32_t>(i));
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
      p = FindQuoteBackslashControlOrNonAscii(p, end_);
      if (p == end_ || static_cast<unsigned char>(*p) < 0x80) return p;
      const size_t n = Utf8SequenceLength(reinterpret_cast<const unsigned char*>(p),
                                          reinterpret_cast<const unsigned char*>(end_));
      if (n == 0) return p;
      p += n;
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
    if (!ReadHex4(p + 2, end_, &cp)) {
      Fail(p, "invalid \\u escape (expected 4 hex digits)");
      return nullptr;
    }
    const char* next = p + 6;
    if (cp >= 0xD800 && cp <= 0xDFFF) {
      uint32_t low;
      if (cp <= 0xDBFF && end_ - next >= 6 && next[0] == '\\' && next[1] == 'u' &&
          ReadHex4(next + 2, end_, &low) && low >= 0xDC00 && low <= 0xDFFF) {
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
  // The stacks are the thread's (ParserStacks): their capacity is kept from one Parse to
  // the next, so parsing a small document allocates only its own nodes.
  std::vector<Value>& item_stack_;
  std::vector<Member>& member_stack_;
  const char* error_at_ = nullptr;
  std::string error_;
};

}  // namespace

Result<Value> Parse(std::string_view text, const ParseOptions& options) {
  thread_local ParserStacks stacks;
  return Parser(text, options, stacks).Run();
}

}  // namespace medhub::json
