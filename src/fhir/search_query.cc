#include "fhir/search_query.h"

#include <charconv>
#include <cmath>

#include "core/ids.h"
#include "fhir/resource.h"

namespace medhub::fhir {
namespace {

Status Bad(std::string_view name, std::string_view why) {
  return Status::InvalidArgument("search parameter '" + std::string(name) +
                                 "': " + std::string(why));
}

std::vector<std::string_view> SplitCommas(std::string_view s) {
  // FHIR escapes literal commas as "\,".
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
      continue;
    }
    if (s[i] == ',') {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(s.substr(start));
  return out;
}

std::string Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) ++i;
    out.push_back(s[i]);
  }
  return out;
}

Prefix TakePrefix(std::string_view* v) {
  static constexpr std::pair<std::string_view, Prefix> kPrefixes[] = {
      {"eq", Prefix::kEq}, {"ne", Prefix::kNe}, {"lt", Prefix::kLt},
      {"le", Prefix::kLe}, {"gt", Prefix::kGt}, {"ge", Prefix::kGe},
      {"sa", Prefix::kSa}, {"eb", Prefix::kEb}, {"ap", Prefix::kAp}};
  if (v->size() > 2 && (*v)[2] >= '0' && (*v)[2] <= '9') {
    for (auto [text, p] : kPrefixes) {
      if (v->substr(0, 2) == text) {
        v->remove_prefix(2);
        return p;
      }
    }
  }
  return Prefix::kEq;
}

Result<SearchValue> ParseValue(const SearchParamDef* p, std::string_view name,
                               std::string_view raw) {
  SearchValue sv;
  if (raw.empty()) return Bad(name, "empty value");
  switch (p->type) {
    case ParamType::kToken: {
      const size_t bar = raw.find('|');
      if (bar != std::string_view::npos) {
        sv.has_system = true;
        sv.system = Unescape(raw.substr(0, bar));
        sv.value = Unescape(raw.substr(bar + 1));
      } else {
        sv.value = Unescape(raw);
      }
      break;
    }
    case ParamType::kString:
      sv.value = NormalizeString(Unescape(raw));
      break;
    case ParamType::kReference: {
      std::string text = Unescape(raw);
      if (p->target.size() && text.find('/') == std::string::npos) {
        if (!IsValidFhirId(text)) return Bad(name, "invalid id '" + text.substr(0, 64) + "'");
        text = std::string(p->target) + "/" + text;
      }
      auto ref = ParseReference(text);
      if (ref.ok() && !ref->type.empty()) {
        if (!p->target.empty() && ref->type != p->target)
          return Bad(name, "refers to " + std::string(p->target) + " resources, not " + ref->type);
        sv.value = ref->type + "/" + ref->id;
      } else if (p->name == "_profile") {
        sv.value = text;
      } else {
        return Bad(name, "expected [Type/]id, got '" + text.substr(0, 64) + "'");
      }
      break;
    }
    case ParamType::kDate: {
      sv.prefix = TakePrefix(&raw);
      auto r = ParseFhirDate(raw);
      if (!r.ok()) return Bad(name, r.status().message());
      sv.range = *r;
      break;
    }
    case ParamType::kQuantity: {
      sv.prefix = TakePrefix(&raw);
      // number|system|code
      const size_t bar = raw.find('|');
      std::string_view num = raw.substr(0, bar);
      auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), sv.number);
      if (ec != std::errc() || ptr != num.data() + num.size() || num.empty())
        return Bad(name, "expected a number, got '" + std::string(num.substr(0, 32)) + "'");
      // Precision: half a unit of the last written digit (for eq and ap).
      const size_t dot = num.find('.');
      const int decimals = dot == std::string_view::npos ? 0 : int(num.size() - dot - 1);
      sv.range = {0, 0};
      sv.value.clear();
      if (bar != std::string_view::npos) {
        std::string_view rest = raw.substr(bar + 1);
        const size_t bar2 = rest.find('|');
        if (bar2 == std::string_view::npos) return Bad(name, "expected number|system|code");
        sv.system = std::string(rest.substr(0, bar2));
        sv.has_system = !sv.system.empty();  // "number||code" matches any system
        sv.value = std::string(rest.substr(bar2 + 1));
      }
      // Stash the precision as a fraction of the value in `range` (not a date).
      sv.range.low = decimals;
      break;
    }
  }
  return sv;
}

Result<IncludeSpec> ParseInclude(std::string_view name, std::string_view value) {
  IncludeSpec spec;
  const size_t c1 = value.find(':');
  if (c1 == std::string_view::npos) return Bad(name, "expected SourceType:parameter");
  spec.source_type = std::string(value.substr(0, c1));
  std::string_view rest = value.substr(c1 + 1);
  const size_t c2 = rest.find(':');
  std::string_view param = rest.substr(0, c2);
  if (c2 != std::string_view::npos) spec.target_type = std::string(rest.substr(c2 + 1));
  spec.param = FindSearchParam(spec.source_type, param);
  if (spec.param == nullptr || spec.param->type != ParamType::kReference)
    return Bad(name,
               "'" + std::string(value.substr(0, 64)) + "' is not a supported reference parameter");
  return spec;
}

}  // namespace

Result<SearchQuery> ParseSearchQuery(
    std::string_view type, const std::vector<std::pair<std::string, std::string>>& params) {
  SearchQuery q;
  q.type = std::string(type);
  for (const auto& [full_name, value] : params) {
    std::string_view name = full_name;
    if (name == "_format" || name == "_pretty" || name == "_total") continue;
    if (name == "_count") {
      size_t n = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || p != value.data() + value.size())
        return Bad(name, "expected a non-negative integer");
      q.count = std::min(n, kMaxCount);
      continue;
    }
    if (name == "_offset") {
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), q.offset);
      if (ec != std::errc() || p != value.data() + value.size())
        return Bad(name, "expected a non-negative integer");
      continue;
    }
    if (name == "_summary") {
      if (value != "count" && value != "false") return Bad(name, "only 'count' is supported");
      q.summary_count = value == "count";
      continue;
    }
    if (name == "_sort") {
      std::string_view v = value;
      q.sort_descending = v.starts_with("-");
      if (q.sort_descending) v.remove_prefix(1);
      q.sort = FindSearchParam(type, v);
      if (q.sort == nullptr || q.sort->type != ParamType::kDate)
        return Bad(name, "sorting is supported on date parameters only");
      continue;
    }
    if (name == "_include" || name == "_revinclude") {
      ASSIGN_OR_RETURN(IncludeSpec spec, ParseInclude(name, value));
      if (name == "_include" && spec.source_type != type)
        return Bad(name, "the source type must be " + std::string(type));
      (name == "_include" ? q.includes : q.revincludes).push_back(std::move(spec));
      continue;
    }
    SearchCriterion c;
    const size_t colon = name.find(':');
    if (colon != std::string_view::npos) {
      c.modifier = std::string(name.substr(colon + 1));
      name = name.substr(0, colon);
    }
    c.name = std::string(name);
    if (name == "_id") {
      if (!c.modifier.empty()) return Bad(name, "modifiers are not supported on _id");
      for (std::string_view v : SplitCommas(value)) {
        if (!IsValidFhirId(v)) return Bad(name, "invalid id");
        SearchValue sv;
        sv.value = std::string(v);
        c.any_of.push_back(std::move(sv));
      }
      q.criteria.push_back(std::move(c));
      continue;
    }
    c.param = FindSearchParam(type, name);
    if (c.param == nullptr)
      return Bad(name, "not supported for " + std::string(type) +
                           " (GET /fhir/metadata lists the supported parameters)");
    if (c.modifier == "missing") {
      if (value != "true" && value != "false") return Bad(name, ":missing takes true or false");
      SearchValue sv;
      sv.value = value;
      c.any_of.push_back(std::move(sv));
      q.criteria.push_back(std::move(c));
      continue;
    }
    const bool modifier_ok = c.modifier.empty() ||
                             (c.param->type == ParamType::kString &&
                              (c.modifier == "exact" || c.modifier == "contains")) ||
                             (c.param->type == ParamType::kToken && c.modifier == "not");
    if (!modifier_ok) return Bad(full_name, "unsupported modifier ':" + c.modifier + "'");
    for (std::string_view v : SplitCommas(value)) {
      ASSIGN_OR_RETURN(SearchValue sv, ParseValue(c.param, name, v));
      if (c.modifier == "exact") sv.value = Unescape(v);
      c.any_of.push_back(std::move(sv));
    }
    q.criteria.push_back(std::move(c));
  }
  return q;
}

bool DateMatches(Prefix prefix, const DateRange& v, const DateRange& t) {
  // v: the search value's range; t: the target's range; both half-open [low, high).
  switch (prefix) {
    case Prefix::kEq:
      return t.low >= v.low && t.high <= v.high;
    case Prefix::kNe:
      return !(t.low >= v.low && t.high <= v.high);
    case Prefix::kGt:
      return t.high > v.high;
    case Prefix::kLt:
      return t.low < v.low;
    case Prefix::kGe:
      return t.high > v.low;
    case Prefix::kLe:
      return t.low < v.high;
    case Prefix::kSa:
      return t.low >= v.high;
    case Prefix::kEb:
      return t.high <= v.low;
    case Prefix::kAp:
      return t.low < v.high && t.high > v.low;
  }
  return false;
}

bool NumberMatches(Prefix prefix, const SearchValue& v, double n) {
  const double half = 0.5 * std::pow(10.0, -static_cast<double>(v.range.low));
  switch (prefix) {
    case Prefix::kEq:
      return n >= v.number - half && n < v.number + half;
    case Prefix::kNe:
      return !(n >= v.number - half && n < v.number + half);
    case Prefix::kGt:
    case Prefix::kSa:
      return n > v.number;
    case Prefix::kLt:
    case Prefix::kEb:
      return n < v.number;
    case Prefix::kGe:
      return n >= v.number;
    case Prefix::kLe:
      return n <= v.number;
    case Prefix::kAp:
      return std::fabs(n - v.number) <= std::max(half, std::fabs(v.number) * 0.1);
  }
  return false;
}

}  // namespace medhub::fhir
