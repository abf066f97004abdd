// A JSON document model that keeps what FHIR needs kept.
//
// FHIR requires decimals to keep their precision ("1.50" stays "1.50"), so numbers are
// held as their validated source text, never as doubles. Object members keep their
// order. Parse() is strict RFC 8259 (it accepts every y_ case and rejects every n_ case
// of JSONTestSuite), validates UTF-8, and limits nesting depth so hostile input cannot
// exhaust the stack. Serialize() writes compact JSON; for a given Value its bytes are
// deterministic, which is what the store and ledger call the canonical form
// (docs/formats/store.md).
//
// A moved-from Value is null.
//
// Thread-safety: a Value is a plain value type; const access from many threads is safe.
#pragma once

#include <cstdint>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/status.h"

namespace medhub::json {

enum class Kind : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };

class Value;
using Member = std::pair<std::string, Value>;
namespace internal {
class ValueAccess;  // the parser's in-place construction (json.cc)
}  // namespace internal

class Value {
 public:
  Value() noexcept {}  // null
  Value(const Value& other);
  Value(Value&& other) noexcept { MoveFrom(other); }
  Value& operator=(const Value& other);
  Value& operator=(Value&& other) noexcept {
    if (kind_ != Kind::kNull) return MoveAssignSlow(other);
    if (this != &other) MoveFrom(other);  // nothing to destroy: `other` is not inside *this
    return *this;
  }
  ~Value() {
    if (kind_ >= Kind::kNumber) Destroy();
  }

  static Value Bool(bool b);
  // `raw` must be a valid JSON number literal (checked by the parser; callers that
  // build numbers by hand use Int()).
  static Value Number(std::string_view raw);
  static Value Int(int64_t v);
  static Value String(std::string s);
  static Value Array();
  static Value Object();

  // Makes this a string holding `s`; a string already reuses its buffer (no allocation
  // when `s` fits), which is how transactions rewrite references in place.
  void assign_string(std::string_view s);

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_number() const { return kind_ == Kind::kNumber; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_array() const { return kind_ == Kind::kArray; }
  bool is_object() const { return kind_ == Kind::kObject; }

  bool as_bool() const { return kind_ == Kind::kBool && bool_; }
  // The text of a string (unescaped UTF-8) or of a number (as written); "" otherwise.
  const std::string& text() const { return HasText() ? text_ : NoText(); }
  // A number as double or int64; nullopt if not a number or out of range.
  std::optional<double> as_double() const;
  std::optional<int64_t> as_int() const;

  // Arrays. On any other kind, items() is an empty list: the const one is shared, the
  // mutable one is a scratch list whose changes are not part of the value.
  const std::vector<Value>& items() const { return is_array() ? items_ : NoItems(); }
  std::vector<Value>& items() { return is_array() ? items_ : ScratchItems(); }
  // Appends an item; a null Value becomes an (empty) array first.
  void push_back(Value v);

  // Objects. Lookups are linear: FHIR objects are small. members() on another kind is an
  // empty list, as items() is.
  const std::vector<Member>& members() const { return is_object() ? members_ : NoMembers(); }
  std::vector<Member>& members() { return is_object() ? members_ : ScratchMembers(); }
  const Value* find(std::string_view key) const;
  Value* find(std::string_view key);
  // The string text of member `key`, or "" when absent or not a string.
  std::string_view get_string(std::string_view key) const;
  // Replaces the member's value or appends the member; returns a reference to it.
  // set() and insert_at() turn a null Value into an (empty) object first.
  Value& set(std::string_view key, Value v);
  // Inserts the member at position `pos` (clamped), replacing an existing one in place.
  Value& insert_at(size_t pos, std::string_view key, Value v);
  bool erase(std::string_view key);

  // Structural equality: same kinds, same number text, same members in the same order.
  friend bool operator==(const Value& a, const Value& b);
  friend class internal::ValueAccess;

 private:
  bool HasText() const { return kind_ == Kind::kNumber || kind_ == Kind::kString; }
  void Destroy() noexcept;  // ends the active payload (kNumber and up)
  Value& MoveAssignSlow(Value& other) noexcept;
  // Constructs the payload from `other`'s: copied from a const Value&, moved from a Value&&
  // (which is left empty, of the same kind; MoveFrom leaves it null). *this holds no payload
  // before; the kind is set last, so a throwing copy leaves nothing to destroy.
  template <typename Other>
  void ConstructFrom(Other&& other) noexcept(std::is_rvalue_reference_v<Other&&>) {
    switch (other.kind_) {
      case Kind::kNull:
        break;
      case Kind::kBool:
        bool_ = other.bool_;
        break;
      case Kind::kNumber:
      case Kind::kString:
        new (&text_) std::string(std::forward<Other>(other).text_);
        break;
      case Kind::kArray:
        new (&items_) std::vector<Value>(std::forward<Other>(other).items_);
        break;
      case Kind::kObject:
        new (&members_) std::vector<Member>(std::forward<Other>(other).members_);
        break;
    }
    kind_ = other.kind_;
  }
  // Moves `other`'s payload into *this (which holds none) and leaves `other` null, so the
  // moved-from shells the parser and containers leave behind cost nothing to destroy. The
  // moved-from payload is not destroyed: a moved-from std::vector owns no buffer, and a
  // moved-from std::string (libstdc++, libc++) is empty in its inline buffer, so its
  // destructor would do nothing (LeakSanitizer in the asan preset checks this).
  void MoveFrom(Value& other) noexcept {
    switch (other.kind_) {
      case Kind::kNull:
        return;
      case Kind::kBool:
        bool_ = other.bool_;
        break;
      case Kind::kNumber:
      case Kind::kString:
        new (&text_) std::string(std::move(other.text_));
        break;
      case Kind::kArray:
        new (&items_) std::vector<Value>(std::move(other.items_));
        break;
      case Kind::kObject:
        new (&members_) std::vector<Member>(std::move(other.members_));
        break;
    }
    kind_ = other.kind_;
    other.kind_ = Kind::kNull;
  }
  void Become(Kind kind);  // null -> empty array or object
  static const std::string& NoText();
  static const std::vector<Value>& NoItems();
  static const std::vector<Member>& NoMembers();
  static std::vector<Value>& ScratchItems();
  static std::vector<Member>& ScratchMembers();

  // One payload per kind (40 bytes a node instead of 88): the text of a number or
  // string, the items of an array, the members of an object, or a bool.
  union {
    bool bool_;
    std::string text_;
    std::vector<Value> items_;
    std::vector<Member> members_;
  };
  Kind kind_ = Kind::kNull;
};

struct ParseOptions {
  size_t max_depth = 200;
  // FHIR forbids repeated member names; plain JSON allows them.
  bool reject_duplicate_keys = false;
};

// Parses one JSON text (surrounding whitespace allowed, nothing else).
// Errors: InvalidArgument("line L, column C: <what>").
Result<Value> Parse(std::string_view text, const ParseOptions& options = {});

// Compact serialization: no insignificant whitespace; strings escape only '"', '\\' and
// control characters (as \n, \t, ... or \u00XX); other characters stay UTF-8.
std::string Serialize(const Value& v);
// Appends the serialization of `v` to *out.
void SerializeTo(const Value& v, std::string* out);
// Appends `s` as a JSON string literal (with quotes).
void AppendQuoted(std::string_view s, std::string* out);

}  // namespace medhub::json
