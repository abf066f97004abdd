// Fellegi–Sunter comparison of two Patients (mpi.h). Pure functions.
#include <algorithm>
#include <cmath>

#include "sync/mpi.h"

namespace medhub::sync {
namespace {

// Lower-case ASCII letters of `s`, with the Latin-1 accented letters (UTF-8 C3 xx) folded
// to their base letters; everything else (digits, spaces, punctuation) is dropped.
std::string Fold(std::string_view s) {
  static constexpr const char* kLatin1[32] = {
      "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i",  "i",
      "d", "n", "o", "o", "o", "o", "o",  "",  "o", "u", "u", "u", "u", "y", "th", "ss"};
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 'A' && c <= 'Z') {
      out += static_cast<char>(c - 'A' + 'a');
    } else if (c >= 'a' && c <= 'z') {
      out += static_cast<char>(c);
    } else if (c == 0xC3 && i + 1 < s.size()) {
      const unsigned char d = static_cast<unsigned char>(s[++i]);
      if (d >= 0x80 && d <= 0xBF) out += kLatin1[d & 0x1F];
    }
  }
  return out;
}

struct Person {
  std::string family, given, birth_date, gender, postal, city, line;
  std::vector<std::pair<std::string, std::string>> ids;  // system, value
};

const json::Value* First(const json::Value& v, std::string_view key) {
  const json::Value* a = v.find(key);
  return a && a->is_array() && !a->items().empty() ? &a->items().front() : nullptr;
}

Person Extract(const json::Value& p) {
  Person out;
  const json::Value* name = First(p, "name");
  if (const json::Value* names = p.find("name"); names && names->is_array())
    for (const json::Value& n : names->items())
      if (n.get_string("use") == "official") name = &n;
  if (name) {
    out.family = Fold(name->get_string("family"));
    if (const json::Value* g = First(*name, "given")) out.given = Fold(g->text());
  }
  out.birth_date = p.get_string("birthDate");
  out.gender = p.get_string("gender");
  if (const json::Value* a = First(p, "address")) {
    out.postal = a->get_string("postalCode");
    out.city = Fold(a->get_string("city"));
    if (const json::Value* l = First(*a, "line")) out.line = Fold(l->text());
  }
  if (const json::Value* ids = p.find("identifier"); ids && ids->is_array())
    for (const json::Value& i : ids->items())
      out.ids.emplace_back(i.get_string("system"), i.get_string("value"));
  return out;
}

double Agree(const FieldWeight& w) { return std::log2(w.m / w.u); }
double Disagree(const FieldWeight& w) { return std::log2((1 - w.m) / (1 - w.u)); }

// The weight of a name field: full agreement, half agreement or disagreement.
double NameWeight(const std::string& a, const std::string& b, const FieldWeight& w) {
  const double sim = JaroWinkler(a, b);
  if (sim >= 0.92) return Agree(w);
  if (sim >= 0.85) return Agree(w) / 2;
  return Disagree(w);
}

// 1 when the national ids agree, -1 when they differ, 0 when not both present.
int IdentifierVerdict(const Person& a, const Person& b, const MpiConfig& config) {
  int verdict = 0;
  for (const std::string& system : config.identifier_systems) {
    for (const auto& [sa, va] : a.ids) {
      if (sa != system || va.empty()) continue;
      for (const auto& [sb, vb] : b.ids) {
        if (sb != system || vb.empty()) continue;
        if (va == vb) return 1;
        verdict = -1;
      }
    }
  }
  return verdict;
}

}  // namespace

double JaroWinkler(std::string_view a, std::string_view b) {
  if (a.empty() || b.empty()) return a == b ? 1.0 : 0.0;
  const int la = static_cast<int>(a.size()), lb = static_cast<int>(b.size());
  const int window = std::max(0, std::max(la, lb) / 2 - 1);
  std::vector<bool> ma(la, false), mb(lb, false);
  int matches = 0;
  for (int i = 0; i < la; ++i) {
    for (int j = std::max(0, i - window); j < std::min(lb, i + window + 1); ++j) {
      if (mb[j] || a[i] != b[j]) continue;
      ma[i] = mb[j] = true;
      ++matches;
      break;
    }
  }
  if (matches == 0) return 0.0;
  int transpositions = 0;
  for (int i = 0, j = 0; i < la; ++i) {
    if (!ma[i]) continue;
    while (!mb[j]) ++j;
    if (a[i] != b[j]) ++transpositions;
    ++j;
  }
  const double m = matches;
  const double jaro = (m / la + m / lb + (m - transpositions / 2.0) / m) / 3.0;
  int prefix = 0;
  while (prefix < 4 && prefix < std::min(la, lb) && a[prefix] == b[prefix]) ++prefix;
  return jaro + prefix * 0.1 * (1.0 - jaro);
}

MatchResult ComparePatients(const json::Value& pa, const json::Value& pb, const MpiConfig& config) {
  const Person a = Extract(pa), b = Extract(pb);
  MatchResult r;
  auto add = [&](const char* field, double w) {
    r.fields.emplace_back(field, w);
    r.score += w;
  };
  if (!a.family.empty() && !b.family.empty())
    add("family", NameWeight(a.family, b.family, config.family));
  if (!a.given.empty() && !b.given.empty())
    add("given", NameWeight(a.given, b.given, config.given));
  if (!a.birth_date.empty() && !b.birth_date.empty())
    add("birthDate",
        a.birth_date == b.birth_date ? Agree(config.birth_date) : Disagree(config.birth_date));
  if (!a.gender.empty() && !b.gender.empty())
    add("gender", a.gender == b.gender ? Agree(config.gender) : Disagree(config.gender));
  if ((!a.postal.empty() && !b.postal.empty()) || (!a.city.empty() && !b.city.empty())) {
    const bool agree = (!a.postal.empty() && a.postal == b.postal) ||
                       (a.city == b.city && JaroWinkler(a.line, b.line) >= 0.85);
    add("address", agree ? Agree(config.address) : Disagree(config.address));
  }
  const int ids = IdentifierVerdict(a, b, config);
  if (ids == 1) {
    r.deterministic = true;
    r.decision = MatchResult::Decision::kLink;
  } else if (r.score >= config.upper && ids == 0) {
    r.decision = MatchResult::Decision::kLink;
  } else if (r.score >= config.lower) {
    r.decision = MatchResult::Decision::kReview;
  }
  return r;
}

}  // namespace medhub::sync
