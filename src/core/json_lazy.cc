#include "core/json_lazy.h"

#include <algorithm>
#include <cstring>

#include "core/json_scan.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace medhub::json {
namespace {

using internal::AppendUtf8;
using internal::IsDigit;
using internal::ReadHex4;
using internal::ScanNumber;
using internal::Utf8SequenceLength;

constexpr size_t kMaxDepth = ParseOptions{}.max_depth;

inline bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

inline const char* SkipSpace(const char* p, const char* end) {
  while (p < end && IsSpace(*p)) ++p;
  return p;
}

inline bool IsWordChar(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

// The first '"' or '\\' in [p, end), or end.
inline const char* FindQuoteOrBackslash(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  while (end - p >= 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const int mask = _mm_movemask_epi8(
        _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)));
    if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
#endif
  for (; p < end; ++p) {
    if (*p == '"' || *p == '\\') return p;
  }
  return end;
}

// ---------------------------------------------------------------------------------------
// Skipping over text already validated.

// The position after the string literal whose opening quote is at p.
inline const char* SkipString(const char* p, const char* end) {
  ++p;
  for (;;) {
    p = FindQuoteOrBackslash(p, end);
    if (p >= end) return end;
    if (*p == '"') return p + 1;
    p += 2;  // an escape: its second byte is never a quote that ends the string
  }
}

// The position after the string, number or literal starting at p.
const char* SkipScalar(const char* p, const char* end) {
  if (*p == '"') return SkipString(p, end);
  while (p < end && *p != ',' && *p != '}' && *p != ']' && !IsSpace(*p)) ++p;
  return p;
}

Kind KindAt(char c) {
  switch (c) {
    case '"':
      return Kind::kString;
    case '{':
      return Kind::kObject;
    case '[':
      return Kind::kArray;
    case 't':
    case 'f':
      return Kind::kBool;
    case 'n':
      return Kind::kNull;
    default:
      return Kind::kNumber;
  }
}

// Whether the string literal [begin, end) (quotes included) holds an escape. Inline: most
// strings are short, and a library call per string costs more than the scan.
inline bool HasEscape(const char* begin, const char* end) {
#if defined(__SSE2__)
  const __m128i backslash = _mm_set1_epi8('\\');
  for (; end - begin >= 16; begin += 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(begin));
    if (_mm_movemask_epi8(_mm_cmpeq_epi8(x, backslash)) != 0) return true;
  }
#endif
  for (; begin < end; ++begin) {
    if (*begin == '\\') return true;
  }
  return false;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Validation: the grammar of Parse(), without building anything.

class LazyDoc::Validator {
 public:
  Validator(const char* begin, const char* end, std::vector<Member>* root_members,
            std::vector<Span>* containers)
      : p_(begin), end_(end), root_members_(root_members), containers_(containers) {}

  bool Run() {
    if (end_ - p_ >= 3 && std::memcmp(p_, "\xEF\xBB\xBF", 3) == 0) return false;
    p_ = SkipSpace(p_, end_);
    if (!Value(0)) return false;
    p_ = SkipSpace(p_, end_);
    return p_ == end_;
  }

 private:
  bool Value(size_t depth) {
    if (p_ == end_) return false;
    switch (*p_) {
      case '"':
        ++p_;
        return String();
      case '{':
        return Object(depth);
      case '[':
        return Array(depth);
      case 't':
        return Literal("true");
      case 'f':
        return Literal("false");
      case 'n':
        return Literal("null");
      default:
        return Number();
    }
  }

  bool Literal(std::string_view word) {
    const size_t left = static_cast<size_t>(end_ - p_);
    if (left < word.size() || std::memcmp(p_, word.data(), word.size()) != 0 ||
        (left > word.size() && IsWordChar(p_[word.size()]))) {
      return false;
    }
    p_ += word.size();
    return true;
  }

  bool Number() {
    const char* q = ScanNumber(p_, end_);
    if (q == nullptr || (q < end_ && (IsWordChar(*q) || *q == '.' || *q == '+' || *q == '-'))) {
      return false;
    }
    p_ = q;
    return true;
  }

  // The rest of a string whose opening quote has been consumed; sets escaped_.
  bool String() {
    const char* p = p_;
    escaped_ = false;
    for (;;) {
      p = internal::FindQuoteBackslashControlOrNonAscii(p, end_);
      if (p == end_) return false;
      const unsigned char c = static_cast<unsigned char>(*p);
      if (c == '"') {
        p_ = p + 1;
        return true;
      }
      if (c == '\\') {
        escaped_ = true;
        p = Escape(p);
        if (p == nullptr) return false;
      } else if (c >= 0x80) {
        const size_t n = Utf8SequenceLength(reinterpret_cast<const unsigned char*>(p),
                                            reinterpret_cast<const unsigned char*>(end_));
        if (n == 0) return false;
        p += n;
      } else {
        return false;  // control character
      }
    }
  }

  // The position after the escape at p (a backslash), or nullptr if it is invalid.
  const char* Escape(const char* p) const {
    if (end_ - p < 2) return nullptr;
    switch (p[1]) {
      case '"':
      case '\\':
      case '/':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
        return p + 2;
      case 'u':
        break;
      default:
        return nullptr;
    }
    uint32_t cp;
    if (!ReadHex4(p + 2, end_, &cp)) return nullptr;
    const char* next = p + 6;
    if (cp >= 0xD800 && cp <= 0xDFFF) {
      uint32_t low;
      if (cp > 0xDBFF || end_ - next < 6 || next[0] != '\\' || next[1] != 'u' ||
          !ReadHex4(next + 2, end_, &low) || low < 0xDC00 || low > 0xDFFF) {
        return nullptr;
      }
      next += 6;
    }
    return next;
  }

  bool Array(size_t depth) {
    if (depth >= kMaxDepth) return false;
    const size_t slot = containers_->size();
    containers_->push_back({p_, nullptr});
    p_ = SkipSpace(p_ + 1, end_);
    if (p_ < end_ && *p_ == ']') return Close(slot);
    for (;;) {
      if (!Value(depth + 1)) return false;
      p_ = SkipSpace(p_, end_);
      if (p_ == end_) return false;
      if (*p_ == ',') {
        p_ = SkipSpace(p_ + 1, end_);
        continue;
      }
      if (*p_ != ']') return false;
      return Close(slot);
    }
  }

  // Consumes the closing bracket of the container recorded at `slot`.
  bool Close(size_t slot) {
    ++p_;
    (*containers_)[slot].end = p_;
    return true;
  }

  bool Object(size_t depth) {
    if (depth >= kMaxDepth) return false;
    const size_t slot = containers_->size();
    containers_->push_back({p_, nullptr});
    p_ = SkipSpace(p_ + 1, end_);
    if (p_ < end_ && *p_ == '}') return Close(slot);
    for (;;) {
      if (p_ == end_ || *p_ != '"') return false;
      const char* key_begin = ++p_;
      if (!String()) return false;
      const char* key_end = p_ - 1;
      const bool key_escaped = escaped_;
      p_ = SkipSpace(p_, end_);
      if (p_ == end_ || *p_ != ':') return false;
      p_ = SkipSpace(p_ + 1, end_);
      if (depth == 0) root_members_->push_back({key_begin, key_end, key_escaped, p_});
      if (!Value(depth + 1)) return false;
      p_ = SkipSpace(p_, end_);
      if (p_ == end_) return false;
      if (*p_ == ',') {
        p_ = SkipSpace(p_ + 1, end_);
        continue;
      }
      if (*p_ != '}') return false;
      return Close(slot);
    }
  }

  const char* p_;
  const char* const end_;
  std::vector<Member>* root_members_;
  std::vector<Span>* containers_;
  bool escaped_ = false;
};

Status LazyDoc::Load(std::string_view text) {
  text_ = text;
  root_ = LazyNode();
  root_members_.clear();
  containers_.clear();
  scratch_used_ = 0;
  const char* begin = text.data();
  const char* end = begin + text.size();
  if (!Validator(begin, end, &root_members_, &containers_).Run()) {
    root_members_.clear();
    containers_.clear();
    // Rare: let the parser say what is wrong, in its words.
    Result<Value> parsed = Parse(text);
    if (!parsed.ok()) return parsed.status();
    return Status::Internal("JSON validator and parser disagree");
  }
  const char* p = SkipSpace(begin, end);
  root_ = LazyNode::At(this, p);
  root_.root_ = true;
  return Status::Ok();
}

std::string_view LazyDoc::Decode(const char* begin, const char* end) const {
  if (scratch_used_ == scratch_.size()) scratch_.emplace_back();
  std::string& out = scratch_[scratch_used_++];
  out.clear();
  const char* p = begin + 1;
  const char* stop = end - 1;
  while (p < stop) {
    const char* run = p;
    while (p < stop && *p != '\\') ++p;
    out.append(run, p);
    if (p >= stop) break;
    const char c = p[1];
    switch (c) {
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'u': {
        uint32_t cp = 0;
        ReadHex4(p + 2, stop, &cp);
        p += 6;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          uint32_t low = 0;
          ReadHex4(p + 2, stop, &low);
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          p += 6;
        }
        AppendUtf8(cp, out);
        continue;
      }
      default:  // '"', '\\', '/'
        out.push_back(c);
    }
    p += 2;
  }
  return out;
}

const char* LazyDoc::ValueEnd(const char* p) const {
  if (*p != '{' && *p != '[') return SkipScalar(p, text_.data() + text_.size());
  const auto it = std::lower_bound(containers_.begin(), containers_.end(), p,
                                   [](const Span& s, const char* q) { return s.begin < q; });
  return it->end;  // validated text: every container was recorded
}

// ---------------------------------------------------------------------------------------
// Nodes.

LazyNode LazyNode::At(const LazyDoc* doc, const char* p) {
  return LazyNode(doc, p, doc->ValueEnd(p), KindAt(*p), false);
}

std::string_view LazyNode::text() const {
  if (kind_ == Kind::kNumber) return raw();
  if (kind_ != Kind::kString) return {};
  if (HasEscape(begin_, end_)) return doc_->Decode(begin_, end_);
  return std::string_view(begin_ + 1, static_cast<size_t>(end_ - begin_ - 2));
}

std::optional<LazyNode> LazyNode::find(std::string_view key) const {
  if (kind_ != Kind::kObject) return std::nullopt;
  auto matches = [&](const char* kb, const char* ke, bool escaped) {
    if (!escaped) return key == std::string_view(kb, static_cast<size_t>(ke - kb));
    return key == doc_->Decode(kb - 1, ke + 1);
  };
  if (root_) {
    for (const LazyDoc::Member& m : doc_->root_members_) {
      if (matches(m.key_begin, m.key_end, m.key_escaped)) return At(doc_, m.value);
    }
    return std::nullopt;
  }
  const char* p = SkipSpace(begin_ + 1, end_);
  while (p < end_ && *p == '"') {
    const char* key_end = SkipString(p, end_);  // after the closing quote
    // A decoded name is never longer than its source text.
    const bool hit = key_end - p - 2 >= static_cast<std::ptrdiff_t>(key.size()) &&
                     matches(p + 1, key_end - 1, HasEscape(p, key_end));
    p = SkipSpace(key_end, end_);
    p = SkipSpace(p + 1, end_);  // ':'
    if (hit) return At(doc_, p);
    p = SkipSpace(doc_->ValueEnd(p), end_);
    if (p < end_ && *p == ',') p = SkipSpace(p + 1, end_);
  }
  return std::nullopt;
}

std::string_view LazyNode::get_string(std::string_view key) const {
  const std::optional<LazyNode> v = find(key);
  return v && v->is_string() ? v->text() : std::string_view();
}

LazyNode::ItemRange LazyNode::items() const {
  if (kind_ != Kind::kArray) return ItemRange(ItemIterator());
  const char* p = SkipSpace(begin_ + 1, end_);
  return ItemRange(ItemIterator(doc_, *p == ']' ? nullptr : p));
}

LazyNode::ItemIterator::ItemIterator(const LazyDoc* doc, const char* p) {
  if (p != nullptr) current_ = LazyNode::At(doc, p);
}

LazyNode::ItemIterator& LazyNode::ItemIterator::operator++() {
  const LazyDoc* doc = current_.doc_;
  const char* end = doc->text_.data() + doc->text_.size();
  const char* p = SkipSpace(current_.end_, end);
  if (p < end && *p == ',') {
    current_ = LazyNode::At(doc, SkipSpace(p + 1, end));
  } else {
    current_ = LazyNode();
  }
  return *this;
}

}  // namespace medhub::json
