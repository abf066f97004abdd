#include "core/time.h"

#include <chrono>
#include <cstdio>

namespace medhub {
namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned DaysInMonth(int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Reads exactly `n` digits at `*pos`; returns -1 when they are not there.
int64_t Digits(std::string_view s, size_t* pos, size_t n) {
  if (*pos + n > s.size()) return -1;
  int64_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[*pos + i];
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  return v;
}

bool Expect(std::string_view s, size_t* pos, char c) {
  if (*pos < s.size() && s[*pos] == c) {
    ++*pos;
    return true;
  }
  return false;
}

// Civil y-m-d (+1 month with carry) helper for the exclusive upper bound of "YYYY-MM".
int64_t MonthStartMicros(int64_t y, unsigned m) {
  if (m == 13) {
    ++y;
    m = 1;
  }
  return DaysFromCivil(y, m, 1) * kMicrosPerDay;
}

}  // namespace

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  // Howard Hinnant's days_from_civil.
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string FormatInstant(int64_t micros) {
  int64_t days = micros / kMicrosPerDay;
  int64_t rem = micros % kMicrosPerDay;
  if (rem < 0) {
    rem += kMicrosPerDay;
    --days;
  }
  // civil_from_days
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  const int64_t secs = rem / kMicrosPerSecond;
  const int64_t frac = rem % kMicrosPerSecond;
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%06lldZ",
                static_cast<long long>(y), m, d, static_cast<long long>(secs / 3600),
                static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60),
                static_cast<long long>(frac));
  return buf;
}

Result<DateRange> ParseFhirDate(std::string_view s, DateKind kind) {
  auto bad = [&](const char* what) {
    return Status::InvalidArgument("invalid date '" + std::string(s.substr(0, 64)) + "': " + what);
  };
  size_t pos = 0;
  const int64_t year = Digits(s, &pos, 4);
  if (year < 0) return bad("expected a four-digit year");
  if (pos == s.size()) {
    if (kind == DateKind::kInstant) return bad("an instant needs a full date and time");
    return DateRange{DaysFromCivil(year, 1, 1) * kMicrosPerDay,
                     DaysFromCivil(year + 1, 1, 1) * kMicrosPerDay};
  }
  if (!Expect(s, &pos, '-')) return bad("expected '-' after the year");
  const int64_t month = Digits(s, &pos, 2);
  if (month < 1 || month > 12) return bad("month must be 01-12");
  if (pos == s.size()) {
    if (kind == DateKind::kInstant) return bad("an instant needs a full date and time");
    return DateRange{MonthStartMicros(year, static_cast<unsigned>(month)),
                     MonthStartMicros(year, static_cast<unsigned>(month) + 1)};
  }
  if (!Expect(s, &pos, '-')) return bad("expected '-' after the month");
  const int64_t day = Digits(s, &pos, 2);
  if (day < 1 || day > DaysInMonth(year, static_cast<unsigned>(month))) return bad("no such day");
  const int64_t day_start =
      DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * kMicrosPerDay;
  if (pos == s.size()) {
    if (kind == DateKind::kInstant) return bad("an instant needs a time");
    return DateRange{day_start, day_start + kMicrosPerDay};
  }
  if (kind == DateKind::kDate) return bad("a date has no time part");
  if (!Expect(s, &pos, 'T')) return bad("expected 'T' before the time");
  const int64_t hh = Digits(s, &pos, 2);
  if (hh < 0 || hh > 23 || !Expect(s, &pos, ':')) return bad("hours must be 00-23");
  const int64_t mm = Digits(s, &pos, 2);
  if (mm < 0 || mm > 59 || !Expect(s, &pos, ':')) return bad("minutes must be 00-59");
  const int64_t ss = Digits(s, &pos, 2);
  if (ss < 0 || ss > 60) return bad("seconds must be 00-60");
  int64_t frac_us = 0;
  int64_t unit = kMicrosPerSecond;  // width of the range the value stands for
  if (Expect(s, &pos, '.')) {
    size_t digits = 0;
    int64_t scale = kMicrosPerSecond;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 6) {
        scale /= 10;
        frac_us += (s[pos] - '0') * scale;
      }
      ++digits;
      ++pos;
    }
    if (digits == 0) return bad("expected digits after '.'");
    unit = digits >= 6 ? 1 : scale;
  }
  int64_t offset_us = 0;
  if (Expect(s, &pos, 'Z')) {
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    const int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    const int64_t oh = Digits(s, &pos, 2);
    if (oh < 0 || oh > 14 || !Expect(s, &pos, ':')) return bad("time zone hours must be 00-14");
    const int64_t om = Digits(s, &pos, 2);
    if (om < 0 || om > 59) return bad("time zone minutes must be 00-59");
    offset_us = sign * (oh * 3600 + om * 60) * kMicrosPerSecond;
  } else {
    return bad("a time needs a zone ('Z' or +hh:mm)");
  }
  if (pos != s.size()) return bad("unexpected characters at the end");
  const int64_t low =
      day_start + ((hh * 60 + mm) * 60 + ss) * kMicrosPerSecond + frac_us - offset_us;
  return DateRange{low, low + unit};
}

}  // namespace medhub
