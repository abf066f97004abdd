// HL7 v2 messages in ER7 ("pipe") encoding: parsing and escaping.
//
// Parse() splits a message into segments (separated by \r, \n or \r\n; empty lines are
// skipped) and each segment into fields. The delimiters come from MSH-1 and MSH-2 (field,
// component, repetition, escape, subcomponent; missing ones take the standard defaults
// | ^ ~ \ &). Fields are kept as written (escaped) and split further on demand by Get():
// repetitions, components, subcomponents, then unescaped (\F\ \S\ \T\ \R\ \E\ \Xhh..\,
// \.br\ as a line break; highlighting \H\ \N\ dropped; unknown sequences kept as written).
//
// Field numbers follow HL7: Get(seg, 3) is PID-3; for MSH, Get(msh, 1) is the field
// separator and Get(msh, 2) the encoding characters, as the standard numbers them.
// Component and subcomponent numbers start at 1, repetitions at 0.
//
// Errors (InvalidArgument, with the HL7 error code that an ACK should carry in
// ParseError::code): no MSH at the start (100: segment sequence error), a segment whose
// name is not three upper-case letters or digits (100), delimiters that repeat or are
// alphanumeric (102: data type error). Z-segments are kept; mappers ignore them.
//
// Thread-safe: a Message is immutable after Parse(); copies share the text.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace medhub::ingest::hl7 {

struct Delimiters {
  char field = '|';
  char component = '^';
  char repetition = '~';
  char escape = '\\';
  char subcomponent = '&';
};

struct Segment {
  std::string_view name;
  // fields[0] is the name; fields[i] is field i (for MSH, fields[1] is the field
  // separator and fields[2] the encoding characters).
  std::vector<std::string_view> fields;
};

class Message {
 public:
  const Delimiters& delimiters() const { return delimiters_; }
  const std::vector<Segment>& segments() const { return segments_; }
  const Segment& msh() const { return segments_.front(); }
  // The first segment named `name`, or nullptr.
  const Segment* Find(std::string_view name) const;

  // Field `field`, repetition `rep`, component `comp`, subcomponent `sub`, unescaped;
  // "" when absent.
  std::string Get(const Segment& seg, size_t field, size_t rep = 0, size_t comp = 1,
                  size_t sub = 1) const;
  // Field `field` of repetition `rep` as written (escaped, with its components).
  std::string_view Raw(const Segment& seg, size_t field, size_t rep = 0) const;
  // How many repetitions field `field` has (0 when empty).
  size_t Repetitions(const Segment& seg, size_t field) const;
  // Unescapes `text` with this message's delimiters.
  std::string Unescape(std::string_view text) const;

  // MSH-9.1, MSH-9.2, MSH-10, MSH-12.1, MSH-3, MSH-4.
  std::string type() const { return Get(msh(), 9, 0, 1); }
  std::string trigger() const { return Get(msh(), 9, 0, 2); }
  std::string control_id() const { return Get(msh(), 10); }
  std::string version() const { return Get(msh(), 12); }
  std::string sending_application() const { return Get(msh(), 3); }
  std::string sending_facility() const { return Get(msh(), 4); }

 private:
  friend Result<Message> Parse(std::string_view text);
  std::shared_ptr<const std::string> text_;
  Delimiters delimiters_;
  std::vector<Segment> segments_;
};

// Parses one message. See the header comment for the errors.
Result<Message> Parse(std::string_view text);

// The HL7 error code (table 0357) for a parse or mapping error: carried at the start of
// the Status message as "[NNN] ", see ErrorCode().
Status Error(int code, std::string_view message);
// The code of a Status made by Error(), or 207 (application internal error) otherwise.
int ErrorCode(const Status& status);
// The Status message without its "[NNN] " prefix.
std::string ErrorText(const Status& status);

// `text` when it is valid UTF-8, else `text` read as ISO 8859-1 and re-encoded as UTF-8
// (HL7 v2's common 8-bit character set), so that mapped resources are always valid UTF-8.
// Parse() applies it to every message; \Xhh\ escapes are decoded the same way.
std::string ToUtf8(std::string_view text);

// Escapes `text` for an ER7 field with the given delimiters.
std::string Escape(std::string_view text, const Delimiters& d = {});

// Splits a file that holds several messages (one per MSH segment) into messages; lines
// that are comments (starting with "//", "/*", "*" or "*/") and blank lines are dropped.
// Text before the first MSH stays a message of its own (it is not valid on its own).
std::vector<std::string> SplitMessages(std::string_view file);

}  // namespace medhub::ingest::hl7
