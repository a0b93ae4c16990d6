#include "mockidp/faults.h"

#include <array>
#include <boost/json.hpp>
#include <charconv>
#include <utility>

namespace tether::mockidp {
namespace {

namespace json = boost::json;
using core::Errc;
using core::Error;

constexpr std::array<std::pair<FaultKind, std::string_view>, 13> kKinds = {{
    {FaultKind::kPass, "pass"},
    {FaultKind::kHtml403, "html_403"},
    {FaultKind::kHtml401, "html_401"},
    {FaultKind::kEmpty400, "empty_400"},
    {FaultKind::kStatus, "status"},
    {FaultKind::kOAuthError, "oauth_error"},
    {FaultKind::kHtml200, "html_200"},
    {FaultKind::kNoAccessToken, "no_access_token"},
    {FaultKind::kOversized, "oversized"},
    {FaultKind::kSlow, "slow"},
    {FaultKind::kDrop, "drop"},
    {FaultKind::kDropAfter, "drop_after"},
    {FaultKind::kRedirect, "redirect"},
}};

std::optional<ErrorFormat> parseFormat(std::string_view s) {
  if (s == "json") return ErrorFormat::kJson;
  if (s == "form") return ErrorFormat::kForm;
  if (s == "www_authenticate" || s == "header") return ErrorFormat::kWwwAuthenticate;
  return std::nullopt;
}

std::string_view formatName(ErrorFormat f) {
  switch (f) {
    case ErrorFormat::kJson:
      return "json";
    case ErrorFormat::kForm:
      return "form";
    case ErrorFormat::kWwwAuthenticate:
      return "www_authenticate";
  }
  return "json";
}

std::optional<int64_t> toInt(std::string_view s) {
  int64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// Applies one key=value to a rule; both the JSON and the flag form come through here.
core::Status apply(FaultRule& rule, std::string_view key, std::string_view value) {
  auto number = [&](auto& out) -> core::Status {
    const auto v = toInt(value);
    if (!v) return Error(Errc::kInvalidArgument, "fault: " + std::string(key) + " needs a number");
    out = static_cast<std::remove_reference_t<decltype(out)>>(*v);
    return {};
  };
  if (key == "kind") {
    int status = 0;
    const auto kind = parseFaultKind(value, &status);
    if (!kind)
      return Error(Errc::kInvalidArgument, "fault: unknown kind '" + std::string(value) + "'");
    rule.fault.kind = *kind;
    if (status) rule.fault.status = status;
    return {};
  }
  if (key == "endpoint") {
    rule.endpoint = std::string(value);
    return {};
  }
  if (key == "grant") {
    rule.grant = std::string(value);
    return {};
  }
  if (key == "times") {
    if (auto s = number(rule.times); !s) return s;
    if (rule.times == 0 || rule.times < -1) {
      return Error(Errc::kInvalidArgument, "fault: times is a positive count or -1 (forever)");
    }
    return {};
  }
  if (key == "status") return number(rule.fault.status);
  if (key == "delay_ms") return number(rule.fault.delay_ms);
  if (key == "bytes") return number(rule.fault.bytes);
  if (key == "error") {
    rule.fault.error = std::string(value);
    return {};
  }
  if (key == "format") {
    const auto f = parseFormat(value);
    if (!f) return Error(Errc::kInvalidArgument, "fault: format is json, form or www_authenticate");
    rule.fault.format = *f;
    return {};
  }
  if (key == "retry_after") {
    rule.fault.retry_after = std::string(value);
    return {};
  }
  if (key == "location") {
    rule.fault.location = std::string(value);
    return {};
  }
  if (key == "body") {
    rule.fault.body = std::string(value);
    return {};
  }
  if (key == "content_type") {
    rule.fault.content_type = std::string(value);
    return {};
  }
  return Error(Errc::kInvalidArgument, "fault: unknown key '" + std::string(key) + "'");
}

core::Result<FaultRule> fromJson(const json::value& v) {
  if (!v.is_object()) return Error(Errc::kInvalidArgument, "fault: expected a JSON object");
  FaultRule rule;
  for (const auto& [k, val] : v.get_object()) {
    std::string text;
    if (val.is_string()) {
      text = std::string(val.get_string());
    } else if (val.is_int64() || val.is_uint64()) {
      text = json::serialize(val);
    } else {
      return Error(Errc::kInvalidArgument,
                   "fault: " + std::string(k) + " must be a string or integer");
    }
    if (auto s = apply(rule, k, text); !s) return std::move(s).takeError();
  }
  return rule;
}

}  // namespace

std::string_view faultKindName(FaultKind kind) {
  for (const auto& [k, name] : kKinds) {
    if (k == kind) return name;
  }
  return "pass";
}

std::optional<FaultKind> parseFaultKind(std::string_view name, int* status) {
  for (const auto& [k, n] : kKinds) {
    if (n == name) return k;
  }
  if (name.substr(0, 7) == "status_") {
    const auto code = toInt(name.substr(7));
    if (code && *code >= 100 && *code <= 599) {
      if (status) *status = static_cast<int>(*code);
      return FaultKind::kStatus;
    }
  }
  return std::nullopt;
}

core::Result<FaultRule> parseFaultRule(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  if (!text.empty() && text.front() == '{') {
    boost::system::error_code ec;
    const auto v = json::parse(text, ec);
    if (ec) return Error(Errc::kInvalidArgument, "fault: invalid JSON: " + ec.message());
    return fromJson(v);
  }
  FaultRule rule;
  bool first = true;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view part = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const size_t eq = part.find('=');
    core::Status s =
        (first && eq == std::string_view::npos) ? apply(rule, "kind", part)
        : eq == std::string_view::npos
            ? core::Status(Error(Errc::kInvalidArgument,
                                 "fault: expected key=value, got '" + std::string(part) + "'"))
            : apply(rule, part.substr(0, eq), part.substr(eq + 1));
    if (!s) return std::move(s).takeError();
    first = false;
  }
  return rule;
}

core::Result<std::vector<FaultRule>> parseFaultRules(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\n')) text.remove_prefix(1);
  std::vector<FaultRule> out;
  if (!text.empty() && text.front() == '[') {
    boost::system::error_code ec;
    const auto v = json::parse(text, ec);
    if (ec) return Error(Errc::kInvalidArgument, "faults: invalid JSON: " + ec.message());
    for (const auto& item : v.get_array()) {
      auto r = fromJson(item);
      if (!r) return std::move(r).takeError();
      out.push_back(std::move(r).value());
    }
    return out;
  }
  auto r = parseFaultRule(text);
  if (!r) return std::move(r).takeError();
  out.push_back(std::move(r).value());
  return out;
}

std::string faultRuleJson(const FaultRule& rule) {
  json::object o;
  o["endpoint"] = rule.endpoint;
  if (!rule.grant.empty()) o["grant"] = rule.grant;
  o["times"] = rule.times;
  o["kind"] = faultKindName(rule.fault.kind);
  if (rule.fault.status) o["status"] = rule.fault.status;
  if (rule.fault.kind == FaultKind::kOAuthError) {
    o["error"] = rule.fault.error;
    o["format"] = formatName(rule.fault.format);
  }
  if (!rule.fault.retry_after.empty()) o["retry_after"] = rule.fault.retry_after;
  if (rule.fault.delay_ms) o["delay_ms"] = rule.fault.delay_ms;
  if (rule.fault.bytes) o["bytes"] = rule.fault.bytes;
  if (!rule.fault.location.empty()) o["location"] = rule.fault.location;
  return json::serialize(o);
}

void FaultQueue::add(FaultRule rule) {
  std::lock_guard lock(mu_);
  rules_.push_back(std::move(rule));
}

void FaultQueue::clear() {
  std::lock_guard lock(mu_);
  rules_.clear();
}

std::optional<Fault> FaultQueue::take(std::string_view endpoint, std::string_view grant) {
  std::lock_guard lock(mu_);
  for (auto it = rules_.begin(); it != rules_.end(); ++it) {
    if (it->endpoint != "*" && it->endpoint != endpoint) continue;
    if (!it->grant.empty() && it->grant != grant) continue;
    Fault f = it->fault;
    if (it->times > 0 && --it->times == 0) rules_.erase(it);
    return f;
  }
  return std::nullopt;
}

std::vector<FaultRule> FaultQueue::pending() const {
  std::lock_guard lock(mu_);
  return rules_;
}

}  // namespace tether::mockidp
