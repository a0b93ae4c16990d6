#include "oauth/retry_after.h"

#include <array>
#include <cstdint>
#include <cstdio>
#include <string>

#include "oauth/protocol.h"

namespace tether::oauth {
namespace {

constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<std::string_view, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 7> kLongDays = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                       "Thursday", "Friday", "Saturday"};

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t daysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool isLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned daysInMonth(int64_t y, unsigned m) {
  static constexpr unsigned kDaysIn[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && isLeap(y) ? 29 : kDaysIn[m - 1];
}

// A tiny cursor over the text; every read is bounds-checked.
class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}
  bool done() const { return i_ >= s_.size(); }
  bool literal(std::string_view lit) {
    if (s_.substr(i_, lit.size()) != lit) return false;
    i_ += lit.size();
    return true;
  }
  bool oneOf(const auto& names, int& index) {
    for (size_t k = 0; k < names.size(); ++k) {
      if (literal(names[k])) {
        index = static_cast<int>(k);
        return true;
      }
    }
    return false;
  }
  // Exactly `n` digits.
  bool digits(size_t n, int& value) {
    if (i_ + n > s_.size()) return false;
    value = 0;
    for (size_t k = 0; k < n; ++k) {
      const char c = s_[i_ + k];
      if (c < '0' || c > '9') return false;
      value = value * 10 + (c - '0');
    }
    i_ += n;
    return true;
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

// Latest year accepted: core::TimePoint counts nanoseconds in 64 bits (to 2262).
constexpr int kMaxYear = 2200;

std::optional<core::TimePoint> makeTime(int year, int month, int day, int h, int m, int s) {
  if (year < 1970 || year > kMaxYear || month < 1 || month > 12 || day < 1 ||
      static_cast<unsigned>(day) > daysInMonth(year, static_cast<unsigned>(month)) || h > 23 ||
      m > 59 || s > 60) {  // 60: a leap second is a valid time-of-day in HTTP-date
    return std::nullopt;
  }
  const int64_t days =
      daysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return core::fromUnixSeconds(days * 86400 + h * 3600 + m * 60 + s);
}

bool timeOfDay(Cursor& c, int& h, int& m, int& s) {
  return c.digits(2, h) && c.literal(":") && c.digits(2, m) && c.literal(":") && c.digits(2, s);
}

// Sun, 06 Nov 1994 08:49:37 GMT
std::optional<core::TimePoint> parseImfFixdate(std::string_view text) {
  Cursor c(text);
  int wd = 0, mon = 0, day = 0, year = 0, h = 0, m = 0, s = 0;
  if (!c.oneOf(kDays, wd) || !c.literal(", ") || !c.digits(2, day) || !c.literal(" ") ||
      !c.oneOf(kMonths, mon) || !c.literal(" ") || !c.digits(4, year) || !c.literal(" ") ||
      !timeOfDay(c, h, m, s) || !c.literal(" GMT") || !c.done()) {
    return std::nullopt;
  }
  return makeTime(year, mon + 1, day, h, m, s);
}

// Sunday, 06-Nov-94 08:49:37 GMT
std::optional<core::TimePoint> parseRfc850(std::string_view text, int current_year) {
  Cursor c(text);
  int wd = 0, mon = 0, day = 0, yy = 0, h = 0, m = 0, s = 0;
  if (!c.oneOf(kLongDays, wd) || !c.literal(", ") || !c.digits(2, day) || !c.literal("-") ||
      !c.oneOf(kMonths, mon) || !c.literal("-") || !c.digits(2, yy) || !c.literal(" ") ||
      !timeOfDay(c, h, m, s) || !c.literal(" GMT") || !c.done()) {
    return std::nullopt;
  }
  // RFC 9110: a two-digit year more than 50 years in the future is in the past century.
  int year = (current_year / 100) * 100 + yy;
  if (year > current_year + 50) year -= 100;
  return makeTime(year, mon + 1, day, h, m, s);
}

// Sun Nov  6 08:49:37 1994
std::optional<core::TimePoint> parseAsctime(std::string_view text) {
  Cursor c(text);
  int wd = 0, mon = 0, day = 0, year = 0, h = 0, m = 0, s = 0;
  if (!c.oneOf(kDays, wd) || !c.literal(" ") || !c.oneOf(kMonths, mon) || !c.literal(" ")) {
    return std::nullopt;
  }
  if (c.literal(" ")) {
    if (!c.digits(1, day)) return std::nullopt;
  } else if (!c.digits(2, day)) {
    return std::nullopt;
  }
  if (!c.literal(" ") || !timeOfDay(c, h, m, s) || !c.literal(" ") || !c.digits(4, year) ||
      !c.done()) {
    return std::nullopt;
  }
  return makeTime(year, mon + 1, day, h, m, s);
}

int yearOf(core::TimePoint t) {
  // Civil year from days since the epoch (inverse of daysFromCivil, year part only).
  int64_t z = core::toUnixSeconds(t) / 86400 + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return static_cast<int>(static_cast<int64_t>(yoe) + era * 400 + (m <= 2));
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<core::TimePoint> parseHttpDateAt(std::string_view text, int current_year) {
  text = trim(text);
  if (text.size() > protocol::kMaxRetryAfterBytes) return std::nullopt;
  if (auto t = parseImfFixdate(text)) return t;
  if (auto t = parseAsctime(text)) return t;
  return parseRfc850(text, current_year);
}

}  // namespace

std::optional<core::TimePoint> parseHttpDate(std::string_view text) {
  // Without a reference time, RFC 850 two-digit years map to 1970-2069.
  return parseHttpDateAt(text, 2019);
}

std::string formatHttpDate(core::TimePoint t) {
  const int64_t secs = core::toUnixSeconds(t);
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  const int year = yearOf(t);
  int64_t day_of_year = days - daysFromCivil(year, 1, 1);
  unsigned month = 1;
  while (month < 12 && day_of_year >= daysInMonth(year, month)) {
    day_of_year -= daysInMonth(year, month);
    ++month;
  }
  const int64_t weekday = ((days % 7) + 7 + 4) % 7;  // 1970-01-01 was a Thursday
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT",
                std::string(kDays[static_cast<size_t>(weekday)]).c_str(),
                static_cast<int>(day_of_year + 1), std::string(kMonths[month - 1]).c_str(), year,
                static_cast<int>(rem / 3600), static_cast<int>(rem / 60 % 60),
                static_cast<int>(rem % 60));
  return buf;
}

std::optional<std::chrono::seconds> parseRetryAfter(std::string_view value, core::TimePoint now) {
  value = trim(value);
  if (value.empty() || value.size() > protocol::kMaxRetryAfterBytes) return std::nullopt;
  const int64_t cap = protocol::kMaxRetryAfter.count();
  if (value.find_first_not_of("0123456789") == std::string_view::npos) {
    int64_t secs = 0;
    for (char c : value) {
      secs = secs * 10 + (c - '0');
      if (secs > cap) return protocol::kMaxRetryAfter;  // also stops overflow
    }
    return std::chrono::seconds(secs);
  }
  const auto when = parseHttpDateAt(value, yearOf(now));
  if (!when) return std::nullopt;
  const auto wait = std::chrono::duration_cast<std::chrono::seconds>(*when - now);
  if (wait.count() <= 0) return std::chrono::seconds(0);
  if (wait.count() > cap) return protocol::kMaxRetryAfter;
  return wait;
}

}  // namespace tether::oauth
