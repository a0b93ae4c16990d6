#include "app/operator_format.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace tether::app {
namespace {

size_t displayWidth(std::string_view s) {
  size_t n = 0;
  for (const unsigned char c : s) n += (c & 0xC0) != 0x80 ? 1 : 0;  // not a continuation byte
  return n;
}

void appendPadded(std::string& out, const std::string& cell, size_t width, bool last) {
  out += cell;
  if (last) return;
  out.append(width - displayWidth(cell) + 2, ' ');
}

// Reads `count` digits at `pos` into `value`; false when they are not all digits.
bool digits(std::string_view s, size_t pos, size_t count, int& value) {
  if (pos + count > s.size()) return false;
  value = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    value = value * 10 + (s[i] - '0');
  }
  return true;
}

bool isNameChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

}  // namespace

std::string renderTable(const Table& table) {
  std::vector<size_t> widths(table.header.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], displayWidth(row[i]));
    }
  };
  measure(table.header);
  for (const auto& row : table.rows) measure(row);
  std::string out;
  auto line = [&](const std::vector<std::string>& row) {
    std::string text;
    for (size_t i = 0; i < widths.size(); ++i) {
      const std::string& cell = i < row.size() ? row[i] : std::string();
      appendPadded(text, cell, widths[i], i + 1 == widths.size());
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text;
    out += '\n';
  };
  line(table.header);
  for (const auto& row : table.rows) line(row);
  return out;
}

std::string renderFields(const std::vector<std::pair<std::string, std::string>>& fields) {
  size_t width = 0;
  for (const auto& [key, value] : fields) width = std::max(width, displayWidth(key));
  std::string out;
  for (const auto& [key, value] : fields) {
    out += key;
    out.append(width - displayWidth(key) + 2, ' ');
    out += value;
    out += '\n';
  }
  return out;
}

std::optional<core::TimePoint> parseRfc3339(std::string_view s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!digits(s, 0, 4, y) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't') || !digits(s, 11, 2, h) ||
      s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, sec)) {
    return std::nullopt;
  }
  size_t pos = 19;
  std::chrono::milliseconds fraction{0};
  if (s[pos] == '.') {
    int scale = 100;
    ++pos;
    const size_t first = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      fraction += std::chrono::milliseconds((s[pos] - '0') * scale);
      scale /= 10;
      ++pos;
    }
    if (pos == first) return std::nullopt;
  }
  std::chrono::minutes offset{0};
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh = 0, om = 0;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !digits(s, pos + 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset = std::chrono::minutes(oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size() || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year(y), std::chrono::month(mo),
                                         std::chrono::day(d)};
  if (!date.ok()) return std::nullopt;
  const auto at = std::chrono::sys_days(date) + std::chrono::hours(h) + std::chrono::minutes(mi) +
                  std::chrono::seconds(sec) + fraction - offset;
  return std::chrono::time_point_cast<core::TimePoint::duration>(at);
}

std::string relativeTime(core::TimePoint t, core::TimePoint now) {
  const auto diff = std::chrono::duration_cast<std::chrono::seconds>(t - now).count();
  const int64_t s = diff < 0 ? -diff : diff;
  if (s < 1) return "now";
  char buf[48];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%lldm", static_cast<long long>(s / 60));
  } else if (s < 86400) {
    const long long h = s / 3600, m = s % 3600 / 60;
    if (m == 0) {
      std::snprintf(buf, sizeof buf, "%lldh", h);
    } else {
      std::snprintf(buf, sizeof buf, "%lldh%02lldm", h, m);
    }
  } else {
    const long long dd = s / 86400, h = s % 86400 / 3600;
    if (h == 0) {
      std::snprintf(buf, sizeof buf, "%lldd", dd);
    } else {
      std::snprintf(buf, sizeof buf, "%lldd%lldh", dd, h);
    }
  }
  return diff < 0 ? std::string(buf) + " ago" : "in " + std::string(buf);
}

std::string showTime(std::string_view rfc3339, core::TimePoint now) {
  if (rfc3339.empty()) return "-";
  const auto t = parseRfc3339(rfc3339);
  if (!t) return printable(rfc3339);
  std::string iso = core::formatRfc3339(*t);  // 2026-12-03T16:42:00.123Z
  iso = iso.substr(0, 19) + "Z";
  return iso + " (" + relativeTime(*t, now) + ")";
}

std::string words(std::string_view identifier) {
  std::string out = printable(identifier);
  std::replace(out.begin(), out.end(), '_', ' ');
  return out;
}

std::string printable(std::string_view text) {
  std::string out(text);
  for (auto& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = '?';
  }
  return out;
}

ConnectionArg parseConnectionArg(std::string_view text) {
  ConnectionArg out;
  const auto slash = text.find('/');
  std::string shown(1, '"');  // (not "\"" + ...: GCC 12 reports a false -Wrestrict on it)
  shown += printable(text.substr(0, 80));
  shown += '"';
  if (slash == std::string_view::npos) {
    out.problem = "expected KIND/NAME (e.g. mcp/demo), got " + shown;
    return out;
  }
  out.kind = std::string(text.substr(0, slash));
  out.name = std::string(text.substr(slash + 1));
  if (out.kind != "mcp" && out.kind != "api") {
    out.problem = "the kind in " + shown + " must be mcp or api (KIND/NAME, e.g. mcp/demo)";
    return out;
  }
  const bool name_ok = !out.name.empty() && out.name.size() <= 63 && isNameChar(out.name[0]) &&
                       std::all_of(out.name.begin(), out.name.end(),
                                   [](char c) { return isNameChar(c) || c == '-' || c == '_'; });
  if (!name_ok) {
    out.problem =
        "the name in " + shown + " is not a connection name (lower-case letters, digits, - and _)";
  }
  return out;
}

}  // namespace tether::app
