// A JSON text read in place, for scans that need a few fields of many documents (the
// analytics engine's stage-1 maps over lake lines): no tree is built.
//
// LazyDoc::Load checks the whole text in one pass against exactly the grammar Parse()
// accepts (strict RFC 8259, UTF-8, nesting depth, no byte order mark) and remembers where
// the members of the top-level object are. LazyNode lookups then walk only the parts asked
// for, skipping the rest of the (already validated) text. Nothing is allocated per document
// once a LazyDoc has been used a few times, except to decode strings holding escapes.
//
// Lookups mirror json::Value so that code can be written once for both (a template over
// the node type): find() gives the first member with that name (names compared after
// unescaping, duplicates allowed as Parse allows them); text() is a string's unescaped
// text, a number's source text and "" for other kinds; get_string() is "" when the member
// is absent or not a string; items() iterates an array (nothing for other kinds).
//
// Lifetime: nodes and the string_views they return point into the loaded text and into
// the LazyDoc; both must outlive them, and the next Load() invalidates them.
// Thread-safety: a LazyDoc (and its nodes) is used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/status.h"

namespace medhub::json {

class LazyDoc;

class LazyNode {
 public:
  LazyNode() = default;

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_number() const { return kind_ == Kind::kNumber; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_array() const { return kind_ == Kind::kArray; }
  bool is_object() const { return kind_ == Kind::kObject; }
  // The value's source text, exactly as written.
  std::string_view raw() const {
    return std::string_view(begin_, static_cast<size_t>(end_ - begin_));
  }

  std::string_view text() const;
  std::optional<LazyNode> find(std::string_view key) const;
  std::string_view get_string(std::string_view key) const;

  class ItemIterator;
  class ItemRange;
  ItemRange items() const;

 private:
  friend class LazyDoc;
  LazyNode(const LazyDoc* doc, const char* begin, const char* end, Kind kind, bool root)
      : doc_(doc), begin_(begin), end_(end), kind_(kind), root_(root) {}
  // The node of the value starting at `p` (validated text).
  static LazyNode At(const LazyDoc* doc, const char* p);

  const LazyDoc* doc_ = nullptr;
  const char* begin_ = nullptr;
  const char* end_ = nullptr;
  Kind kind_ = Kind::kNull;
  bool root_ = false;
};

class LazyNode::ItemIterator {
 public:
  ItemIterator() = default;
  LazyNode operator*() const { return current_; }
  const LazyNode* operator->() const { return &current_; }
  ItemIterator& operator++();
  bool operator==(const ItemIterator& o) const { return current_.begin_ == o.current_.begin_; }

 private:
  friend class LazyNode;
  ItemIterator(const LazyDoc* doc, const char* p);  // p: first byte of an item, or nullptr
  LazyNode current_;  // begin_ == nullptr at the end
};

class LazyNode::ItemRange {
 public:
  ItemIterator begin() const { return begin_; }
  ItemIterator end() const { return {}; }
  bool empty() const { return begin_ == ItemIterator(); }

 private:
  friend class LazyNode;
  explicit ItemRange(ItemIterator b) : begin_(b) {}
  ItemIterator begin_;
};

class LazyDoc {
 public:
  LazyDoc() = default;
  LazyDoc(const LazyDoc&) = delete;
  LazyDoc& operator=(const LazyDoc&) = delete;

  // Validates `text` (which must outlive the nodes) as Parse(text) with default options
  // would. On error returns exactly the Status Parse(text) returns, and root() is a null
  // node.
  Status Load(std::string_view text);
  LazyNode root() const { return root_; }

 private:
  friend class LazyNode;
  struct Member {
    const char* key_begin;  // after the opening quote
    const char* key_end;    // at the closing quote
    bool key_escaped;
    const char* value;  // first byte of the value
  };
  struct Span {
    const char* begin;  // '{' or '['
    const char* end;    // after the matching '}' or ']'
  };
  class Validator;

  // The position after the (validated) value starting at p.
  const char* ValueEnd(const char* p) const;

  // Decodes the string literal [begin, end) (quotes included) into storage kept until
  // the next Load.
  std::string_view Decode(const char* begin, const char* end) const;

  std::string_view text_;
  LazyNode root_;
  std::vector<Member> root_members_;
  std::vector<Span> containers_;  // every object and array, in document order
  mutable std::deque<std::string> scratch_;  // a deque: decoded views stay valid
  mutable size_t scratch_used_ = 0;
};

}  // namespace medhub::json
