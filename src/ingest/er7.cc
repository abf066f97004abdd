#include "ingest/er7.h"

#include <cctype>
#include <charconv>

namespace medhub::ingest::hl7 {
namespace {

bool IsSegmentName(std::string_view name) {
  if (name.size() != 3) return false;
  for (char c : name)
    if (!(std::isupper(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c))))
      return false;
  return true;
}

// The `index`-th piece of `text` split on `sep` (0-based), or "".
std::string_view Piece(std::string_view text, char sep, size_t index) {
  size_t start = 0;
  for (size_t i = 0; i < index; ++i) {
    const size_t next = text.find(sep, start);
    if (next == std::string_view::npos) return {};
    start = next + 1;
  }
  const size_t end = text.find(sep, start);
  return text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
}

Status ReadDelimiters(std::string_view first_line, Delimiters* d) {
  if (first_line.size() < 4 || first_line.substr(0, 3) != "MSH")
    return Error(100, "the message does not start with an MSH segment");
  d->field = first_line[3];
  const size_t end = first_line.find(d->field, 4);
  const std::string_view enc = first_line.substr(4, end == std::string_view::npos ? 0 : end - 4);
  if (enc.empty() || enc.size() > 5) return Error(102, "MSH-2 must hold the encoding characters");
  if (enc.size() > 0) d->component = enc[0];
  if (enc.size() > 1) d->repetition = enc[1];
  if (enc.size() > 2) d->escape = enc[2];
  if (enc.size() > 3) d->subcomponent = enc[3];
  const std::string active = std::string(1, d->field) + std::string(enc);
  for (size_t i = 0; i < active.size(); ++i) {
    if (std::isalnum(static_cast<unsigned char>(active[i])))
      return Error(102, "MSH-1/MSH-2: a delimiter may not be a letter or digit");
    if (active.find(active[i], i + 1) != std::string::npos)
      return Error(102, "MSH-1/MSH-2: the delimiters must differ");
  }
  return Status::Ok();
}

Segment SplitSegment(std::string_view line, const Delimiters& d, bool is_msh) {
  Segment seg;
  seg.name = line.substr(0, 3);
  seg.fields.push_back(seg.name);
  size_t pos = 4;
  if (is_msh) {
    seg.fields.push_back(line.substr(3, 1));  // MSH-1
  }
  if (line.size() <= 3) return seg;
  while (pos <= line.size()) {
    const size_t end = line.find(d.field, pos);
    seg.fields.push_back(
        line.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos));
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  return seg;
}

std::string HexBytes(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(hex.data() + i, hex.data() + i + 2, v, 16);
    if (ec != std::errc() || p != hex.data() + i + 2) break;
    out.push_back(static_cast<char>(v));
  }
  return out;
}

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

}  // namespace

std::string ToUtf8(std::string_view text) {
  if (IsValidUtf8(text)) return std::string(text);
  std::string out;  // not UTF-8: read as ISO 8859-1, whose bytes are code points
  out.reserve(text.size() + text.size() / 8);
  for (char ch : text) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      out.push_back(ch);
    } else {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

Status Error(int code, std::string_view message) {
  return Status::InvalidArgument("[" + std::to_string(code) + "] " + std::string(message));
}

int ErrorCode(const Status& status) {
  const std::string& m = status.message();
  int code = 0;
  if (m.size() > 5 && m[0] == '[' && m[4] == ']' &&
      std::from_chars(m.data() + 1, m.data() + 4, code).ec == std::errc())
    return code;
  return 207;
}

std::string ErrorText(const Status& status) {
  const std::string& m = status.message();
  const bool prefixed = m.size() > 5 && m[0] == '[' && m[4] == ']' && m[5] == ' ';
  return prefixed ? m.substr(6) : m;
}

Result<Message> Parse(std::string_view text) {
  Message m;
  auto owned = std::make_shared<std::string>(ToUtf8(text));
  std::string_view all(*owned);
  // Skip leading blank lines.
  while (!all.empty() && (all.front() == '\r' || all.front() == '\n')) all.remove_prefix(1);
  const size_t first_end = all.find_first_of("\r\n");
  RETURN_IF_ERROR(ReadDelimiters(all.substr(0, first_end), &m.delimiters_));
  size_t pos = 0;
  size_t index = 0;
  while (pos < all.size()) {
    size_t end = all.find_first_of("\r\n", pos);
    if (end == std::string_view::npos) end = all.size();
    const std::string_view line = all.substr(pos, end - pos);
    pos = end + 1;
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    ++index;
    if (!IsSegmentName(line.substr(0, 3)) || (line.size() > 3 && line[3] != m.delimiters_.field))
      return Error(100, "segment " + std::to_string(index) + " ('" +
                            std::string(line.substr(0, std::min<size_t>(line.size(), 8))) +
                            "'): a segment starts with a three-character name");
    const bool is_msh = line.substr(0, 3) == "MSH";
    if (is_msh && index != 1) return Error(100, "a second MSH segment inside one message");
    m.segments_.push_back(SplitSegment(line, m.delimiters_, is_msh));
  }
  m.text_ = std::move(owned);
  return m;
}

const Segment* Message::Find(std::string_view name) const {
  for (const Segment& s : segments_)
    if (s.name == name) return &s;
  return nullptr;
}

std::string_view Message::Raw(const Segment& seg, size_t field, size_t rep) const {
  if (field >= seg.fields.size()) return {};
  if (&seg == &segments_.front() && field <= 2) return seg.fields[field];  // MSH-1, MSH-2
  return Piece(seg.fields[field], delimiters_.repetition, rep);
}

size_t Message::Repetitions(const Segment& seg, size_t field) const {
  if (field >= seg.fields.size() || seg.fields[field].empty()) return 0;
  size_t n = 1;
  for (char c : seg.fields[field]) n += c == delimiters_.repetition;
  return n;
}

std::string Message::Get(const Segment& seg, size_t field, size_t rep, size_t comp,
                         size_t sub) const {
  const std::string_view raw = Raw(seg, field, rep);
  if (&seg == &segments_.front() && field <= 2) return std::string(raw);
  const std::string_view c = Piece(raw, delimiters_.component, comp - 1);
  return Unescape(Piece(c, delimiters_.subcomponent, sub - 1));
}

std::string Message::Unescape(std::string_view text) const {
  const Delimiters& d = delimiters_;
  if (text.find(d.escape) == std::string_view::npos) return std::string(text);
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const size_t close = text[i] == d.escape ? text.find(d.escape, i + 1) : std::string_view::npos;
    if (close == std::string_view::npos) {
      out.push_back(text[i]);
      continue;
    }
    const std::string_view seq = text.substr(i + 1, close - i - 1);
    if (seq == "F")
      out.push_back(d.field);
    else if (seq == "S")
      out.push_back(d.component);
    else if (seq == "T")
      out.push_back(d.subcomponent);
    else if (seq == "R")
      out.push_back(d.repetition);
    else if (seq == "E")
      out.push_back(d.escape);
    else if (seq == ".br")
      out.push_back('\n');
    else if (seq == "H" || seq == "N") {
    } else if (seq.size() > 1 && seq[0] == 'X')
      out += ToUtf8(HexBytes(seq.substr(1)));
    else
      out.append(text.substr(i, close - i + 1));  // unknown: keep as written
    i = close;
  }
  return out;
}

std::string Escape(std::string_view text, const Delimiters& d) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const char* code = c == d.field             ? "F"
                       : c == d.component       ? "S"
                       : c == d.subcomponent    ? "T"
                       : c == d.repetition      ? "R"
                       : c == d.escape          ? "E"
                       : c == '\r' || c == '\n' ? ".br"
                                                : nullptr;
    if (!code) {
      out.push_back(c);
      continue;
    }
    out.push_back(d.escape);
    out += code;
    out.push_back(d.escape);
  }
  return out;
}

std::vector<std::string> SplitMessages(std::string_view file) {
  std::vector<std::string> out;
  std::string current;
  size_t pos = 0;
  while (pos < file.size()) {
    size_t end = file.find_first_of("\r\n", pos);
    if (end == std::string_view::npos) end = file.size();
    std::string_view line = file.substr(pos, end - pos);
    pos = end + 1;
    const size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos) continue;
    const std::string_view trimmed = line.substr(first);
    if (trimmed.starts_with("//") || trimmed.starts_with("/*") || trimmed.starts_with("*"))
      continue;
    if (line.starts_with("MSH") && !current.empty()) {
      out.push_back(std::move(current));
      current.clear();
    }
    current.append(line);
    current.push_back('\r');
  }
  if (!current.empty()) out.push_back(std::move(current));
  return out;
}

}  // namespace medhub::ingest::hl7
