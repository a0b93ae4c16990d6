#include "app/operator_cli.h"

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>

#include "app/admin_client.h"
#include "app/operator_format.h"
#include "config/connection_entry.h"

namespace tether::app {
namespace {

namespace json = boost::json;

constexpr char kDefaultUrl[] = "http://127.0.0.1:8080";
constexpr char kAdmin[] = "/api/v1/admin";
constexpr size_t kMaxKeyFile = 4096;
constexpr auto kActionTimeout = std::chrono::seconds(60);  // refresh, webhook test: remote calls

std::string str(const json::value& v, const char* key) {
  const auto* o = v.if_object();
  const auto* f = o ? o->if_contains(key) : nullptr;
  return f && f->is_string() ? printable(std::string_view(f->as_string())) : std::string();
}
bool flag(const json::value& v, const char* key) {
  const auto* o = v.if_object();
  const auto* f = o ? o->if_contains(key) : nullptr;
  return f && f->is_bool() && f->as_bool();
}
int64_t number(const json::value& v, const char* key) {
  const auto* o = v.if_object();
  const auto* f = o ? o->if_contains(key) : nullptr;
  return f && f->is_int64() ? f->as_int64() : f && f->is_uint64() ? int64_t(f->as_uint64()) : 0;
}
const json::value& field(const json::value& v, const char* key) {
  static const json::value null;
  const auto* o = v.if_object();
  const auto* f = o ? o->if_contains(key) : nullptr;
  return f ? *f : null;
}
const json::array* array(const json::value& v, const char* key) { return field(v, key).if_array(); }

// What needs a person, as the portal's badge says it: "reauth (invalid_grant)".
std::string attention(const json::value& oauth, core::TimePoint now) {
  if (!oauth.is_object()) return "-";
  const std::string state = str(oauth, "state");
  std::string code = str(oauth, "error_code");
  if (code.empty()) code = str(oauth, "last_error_code");
  if (code.empty()) code = str(oauth, "reason");
  const std::string why = code.empty() ? std::string() : " (" + code + ")";
  if (state == "needs_reauth") return "reauth" + why + ": reconnect it";
  if (state == "needs_client_fix") return "client fix" + why + ": check the client settings";
  if (state == "refresh_failing") return "refresh failing" + why + ": Tether retries";
  if (flag(oauth, "reauthorize_soon")) {
    return "re-authorize soon: refreshing ends " + showTime(str(oauth, "refresh_deadline"), now);
  }
  return "-";
}

std::string connectionPath(const std::string& kind, const std::string& name) {
  return std::string(kAdmin) + "/connections/" + kind + "/" + name;
}

std::string compactDetail(const json::value& detail) {
  const auto* o = detail.if_object();
  if (!o) return "";
  std::string out;
  for (const auto& [k, v] : *o) {
    if (!out.empty()) out += ' ';
    out += printable(std::string_view(k));
    out += '=';
    if (v.is_string()) {
      out += printable(std::string_view(v.as_string()));
    } else if (v.is_double()) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.6g", v.as_double());  // 3.9, not 3.9E0
      out += buf;
    } else {
      out += json::serialize(v);
    }
  }
  if (out.size() > 200) out = out.substr(0, 197) + "...";
  return out;
}

}  // namespace

struct OperatorCommands::Impl {
  const core::Clock& clock;
  CLI::App* connections = nullptr;
  CLI::App* status = nullptr;
  CLI::App* events = nullptr;
  CLI::App* refresh = nullptr;
  CLI::App* delete_token = nullptr;
  CLI::App* webhooks_test = nullptr;
  CLI::App* conn_create = nullptr;
  CLI::App* conn_edit = nullptr;
  CLI::App* conn_delete = nullptr;
  CLI::App* reload = nullptr;

  // connections create|edit: the snippet file ("-": stdin) and the flags that build one.
  std::string snippet_file;
  std::string flag_kind, flag_name, flag_url, flag_timeout, flag_auth_mode;
  bool replace_whole = false;
  std::string if_match;

  std::string url;
  std::string key_file;
  bool as_json = false;
  std::string connection;
  int limit = 30;
  int timeout_s = 0;  // --timeout; 0: the defaults
  std::chrono::milliseconds action_timeout = kActionTimeout;
  std::string index;

  std::string command;  // "tether status", for messages
  std::unique_ptr<AdminClient> client;

  explicit Impl(const core::Clock& c) : clock(c) {
    url = kDefaultUrl;
    if (const char* u = std::getenv("TETHER_URL"); u && *u) url = u;
  }

  void addCommon(CLI::App* sub) {
    sub->add_option("--url", url,
                    "Tether's base URL, its admin listener when admin.listen is set (default "
                    "$TETHER_URL, else http://127.0.0.1:8080)");
    sub->add_option("--admin-key-file", key_file,
                    "Read the admin key from FILE (default: $TETHER_ADMIN_KEY)")
        ->check(CLI::ExistingFile);
    sub->add_flag("--json", as_json, "Print the admin API's JSON instead of text");
    sub->add_option("--timeout", timeout_s,
                    "Seconds to wait for Tether's answer (default 30; 60 for refresh and "
                    "webhooks test, which wait for the IdP or the receiver)")
        ->check(CLI::Range(1, 3600));
    sub->footer(
        "Exit status: 0 done; 1 failed (refused by Tether, not found, refresh or delivery "
        "failed, Tether unreachable); 2 usage error.");
  }
  void addConnectionArg(CLI::App* sub) {
    sub->add_option("connection", connection, "The connection, as KIND/NAME (e.g. mcp/demo)")
        ->required();
  }

  // ---- outcome helpers -------------------------------------------------------------

  int usage(const std::string& reason) {
    std::cerr << "tether: " << reason << " (see " << command << " --help)\n";
    return 2;
  }
  // A failed call: the API's JSON on stdout with --json, one line on stderr; exit 1.
  int failed(const std::string& subject, const AdminAnswer& a) {
    if (as_json && a.answered() && !a.json.is_null()) std::cout << a.body << "\n";
    std::string line = a.error;
    if (a.status == 401) line += " (check TETHER_ADMIN_KEY or --admin-key-file)";
    std::cerr << "tether: " << (subject.empty() ? "" : subject + ": ") << line << "\n";
    return 1;
  }
  int printJson(const std::string& body) {
    std::cout << body << (body.ends_with('\n') ? "" : "\n");
    return 0;
  }

  // The URL and the key, or a usage error (exit 2).
  std::optional<int> connect(const CLI::App* sub) {
    command = "tether " + sub->get_name();
    if (sub == webhooks_test) command = "tether webhooks test";
    if (sub == conn_create || sub == conn_edit || sub == conn_delete) {
      command = "tether connections " + sub->get_name();
    }
    while (!url.empty() && url.back() == '/') url.pop_back();
    if (auto problem = baseUrlProblem(url); !problem.empty()) return usage(problem);
    std::string key;
    if (!key_file.empty()) {
      std::ifstream in(key_file, std::ios::binary);
      std::string text(kMaxKeyFile + 1, '\0');
      in.read(text.data(), static_cast<std::streamsize>(text.size()));
      if (in.bad()) return usage("cannot read the admin key file " + key_file);
      text.resize(static_cast<size_t>(in.gcount()));
      if (text.size() > kMaxKeyFile)
        return usage("the admin key file " + key_file + " is too large");
      while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
        text.pop_back();
      if (text.empty()) return usage("the admin key file " + key_file + " is empty");
      key = std::move(text);
    } else if (const char* k = std::getenv("TETHER_ADMIN_KEY"); k && *k) {
      key = k;
    } else {
      return usage("no admin key: set TETHER_ADMIN_KEY or pass --admin-key-file FILE");
    }
    if (key.find_first_of("\r\n") != std::string::npos) {
      return usage("the admin key holds a line break");
    }
    AdminClientOptions o;
    o.url = url;
    o.admin_key = std::move(key);
    if (timeout_s > 0) o.timeout = action_timeout = std::chrono::seconds(timeout_s);
    client = std::make_unique<AdminClient>(std::move(o));
    return std::nullopt;
  }

  std::optional<ConnectionArg> target(int& code) {
    auto arg = parseConnectionArg(connection);
    if (!arg.problem.empty()) {
      code = usage(arg.problem);
      return std::nullopt;
    }
    return arg;
  }

  // ---- the commands ----------------------------------------------------------------

  int runConnections() {
    auto list = client->call("GET", std::string(kAdmin) + "/connections");
    if (!list.ok()) return failed("", list);
    const json::array* rows = array(list.json, "connections");
    if (!rows) return failed("", {list.status, list.body, {}, "unexpected answer (no list)"});
    std::vector<std::string> paths;
    for (const auto& c : *rows) {
      auto arg = parseConnectionArg(str(c, "kind") + "/" + str(c, "name"));
      if (!arg.problem.empty()) return failed("", {0, {}, {}, "unexpected answer: " + arg.problem});
      paths.push_back(connectionPath(arg.kind, arg.name));
    }
    auto details = client->getAll(paths);
    for (size_t i = 0; i < details.size(); ++i) {
      if (!details[i].ok()) {
        const auto& c = (*rows)[i];
        return failed(str(c, "kind") + "/" + str(c, "name"), details[i]);
      }
    }
    if (as_json) {
      json::array all;
      for (auto& d : details) all.push_back(std::move(d.json));
      return printJson(json::serialize(json::object{{"connections", std::move(all)}}));
    }
    const auto now = clock.now();
    Table t{{"CONNECTION", "STATE", "ACCESS TOKEN EXPIRES", "LAST REFRESH", "ATTENTION"}, {}};
    for (const auto& d : details) {
      const json::value& oauth = field(d.json, "oauth");
      const std::string name = str(d.json, "kind") + "/" + str(d.json, "name");
      if (!oauth.is_object()) {
        t.rows.push_back(
            {name, "not applicable (" + str(d.json, "auth_mode") + ")", "-", "-", "-"});
        continue;
      }
      t.rows.push_back({name, words(str(oauth, "state")), showTime(str(oauth, "expires_at"), now),
                        showTime(str(oauth, "last_refreshed_at"), now), attention(oauth, now)});
    }
    std::cout << renderTable(t);
    if (t.rows.empty()) std::cout << "(no connections are configured)\n";
    return 0;
  }

  int runStatus() {
    int code = 0;
    auto arg = target(code);
    if (!arg) return code;
    auto a = client->call("GET", connectionPath(arg->kind, arg->name));
    const std::string subject = arg->kind + "/" + arg->name;
    if (!a.ok()) return failed(subject, a);
    if (as_json) return printJson(a.body);
    const auto now = clock.now();
    std::vector<std::pair<std::string, std::string>> f{{"connection", subject},
                                                       {"upstream host", str(a.json, "url_host")},
                                                       {"auth", str(a.json, "auth_mode")}};
    const json::value& o = field(a.json, "oauth");
    if (!o.is_object()) {
      f.push_back({"state", "not applicable (no OAuth)"});
      std::cout << renderFields(f);
      return 0;
    }
    f.push_back({"state", words(str(o, "state"))});
    f.push_back({"attention", attention(o, now)});
    f.push_back({"access token", flag(o, "has_token")
                                     ? "expires " + showTime(str(o, "expires_at"), now)
                                     : "none stored"});
    std::string refresh_token = flag(o, "has_refresh_token") ? "stored" : "none";
    if (!str(o, "refresh_expires_at").empty()) {
      refresh_token += ", expires " + showTime(str(o, "refresh_expires_at"), now);
    }
    f.push_back({"refresh token", refresh_token});
    if (!str(o, "refresh_deadline").empty()) {
      f.push_back({"refresh deadline", showTime(str(o, "refresh_deadline"), now)});
    }
    f.push_back({"last refresh", showTime(str(o, "last_refreshed_at"), now)});
    if (!str(o, "authenticated_at").empty()) {
      std::string by = showTime(str(o, "authenticated_at"), now);
      if (!str(o, "authenticated_by").empty()) by += " by " + str(o, "authenticated_by");
      f.push_back({"signed in", by});
    }
    if (!str(o, "scope").empty()) f.push_back({"scope", str(o, "scope")});
    if (!str(o, "idp_host").empty()) f.push_back({"identity provider", str(o, "idp_host")});
    if (!str(o, "last_error_code").empty() || !str(o, "reason").empty()) {
      std::string err = str(o, "last_error_code");
      if (!str(o, "reason").empty() && str(o, "reason") != err) {
        err += (err.empty() ? "" : ": ") + str(o, "reason");
      }
      f.push_back({"last error", err});
    }
    if (const int64_t n = number(o, "consecutive_failures"); n > 0) {
      f.push_back({"failures in a row", std::to_string(n)});
    }
    if (!str(o, "next_attempt_at").empty()) {
      f.push_back({"next attempt", showTime(str(o, "next_attempt_at"), now)});
    }
    if (const auto& rev = field(o, "last_revocation"); rev.is_object()) {
      f.push_back({"last revocation", showTime(str(rev, "at"), now) + ": " + str(rev, "reason") +
                                          " (" + str(rev, "idp_host") + ")"});
    }
    std::cout << renderFields(f);
    return 0;
  }

  int runEvents() {
    int code = 0;
    auto arg = target(code);
    if (!arg) return code;
    const std::string subject = arg->kind + "/" + arg->name;
    auto a = client->call("GET", connectionPath(arg->kind, arg->name) +
                                     "/auth-events?limit=" + std::to_string(limit));
    if (!a.ok()) return failed(subject, a);
    if (as_json) return printJson(a.body);
    const json::array* events = array(a.json, "events");
    if (!events) return failed(subject, {a.status, a.body, {}, "unexpected answer (no events)"});
    if (events->empty()) {
      std::cout << "no auth events for " << subject << "\n";
      return 0;
    }
    const auto now = clock.now();
    Table t{{"TIME", "EVENT", "ACTOR", "IDP HOST", "DETAIL"}, {}};
    for (const auto& e : *events) {
      std::string host = str(e, "idp_host");
      t.rows.push_back({showTime(str(e, "at"), now), words(str(e, "type")), str(e, "actor"),
                        host.empty() ? "-" : host, compactDetail(field(e, "detail"))});
    }
    std::cout << renderTable(t);
    return 0;
  }

  int runRefresh() {
    int code = 0;
    auto arg = target(code);
    if (!arg) return code;
    const std::string subject = arg->kind + "/" + arg->name;
    auto a = client->call("POST", connectionPath(arg->kind, arg->name) + "/oauth/refresh", "{}",
                          action_timeout);
    if (!a.ok()) return failed("refreshing " + subject + " failed", a);
    if (as_json) return printJson(a.body);
    std::cout << "Refreshed " << subject << ": the access token expires "
              << showTime(str(a.json, "expires_at"), clock.now()) << ".\n";
    return 0;
  }

  int runDeleteToken() {
    int code = 0;
    auto arg = target(code);
    if (!arg) return code;
    const std::string subject = arg->kind + "/" + arg->name;
    auto a = client->call("DELETE", connectionPath(arg->kind, arg->name) + "/oauth/token");
    if (!a.ok()) return failed(subject, a);
    if (as_json) return printJson(a.body);
    if (flag(a.json, "deleted")) {
      std::cout << "Deleted the stored tokens of " << subject
                << ". Calls through it fail until it is connected again (tether login " << subject
                << ").\n";
    } else {
      std::cout << subject << " had no stored token; nothing was deleted.\n";
    }
    return 0;
  }

  // The body of create / edit: the snippet (YAML or JSON) with the flags laid over it.
  std::optional<std::string> snippetBody(int& code) {
    json::object body;
    if (!snippet_file.empty()) {
      std::string text;
      if (snippet_file == "-") {
        std::ostringstream in;
        in << std::cin.rdbuf();
        text = in.str();
      } else {
        std::ifstream in(snippet_file, std::ios::binary);
        if (!in) {
          code = usage("cannot read " + snippet_file);
          return std::nullopt;
        }
        std::ostringstream all;
        all << in.rdbuf();
        text = all.str();
      }
      auto converted = config::connectionEntryJson(text);
      if (!converted.ok()) {
        code = usage(snippet_file + ": " + converted.error().message);
        return std::nullopt;
      }
      body = json::parse(*converted).as_object();
    }
    auto set = [&](const char* key, const std::string& v) {
      if (!v.empty()) body[key] = v;
    };
    set("kind", flag_kind);
    set("name", flag_name);
    set("url", flag_url);
    set("timeout", flag_timeout);
    if (!flag_auth_mode.empty()) {
      auto& auth = body["auth"];
      if (!auth.is_object()) auth = json::object{};
      auth.as_object()["mode"] = flag_auth_mode;
    }
    if (body.empty()) {
      code = usage("give the connection as a YAML/JSON file (-f FILE) or with flags");
      return std::nullopt;
    }
    return json::serialize(body);
  }

  // A refused write: the field the server named, then its message.
  int refused(const std::string& subject, const AdminAnswer& a) {
    AdminAnswer shown = a;
    const json::value& err = field(a.json, "error");
    if (err.is_object() && !str(err, "field").empty()) {
      shown.error = "field " + str(err, "field") + ": " + shown.error;
    }
    return failed(subject, shown);
  }

  int runCreate() {
    int code = 0;
    auto body = snippetBody(code);
    if (!body) return code;
    auto a = client->call("POST", std::string(kAdmin) + "/connections", *body);
    if (!a.ok()) return refused("", a);
    if (as_json) return printJson(a.body);
    std::cout << "Created " << str(a.json, "kind") << "/" << str(a.json, "name") << " (version "
              << number(a.json, "version") << "); every replica serves it within seconds.\n";
    return 0;
  }

  int runEdit() {
    int code = 0;
    auto arg = target(code);
    if (!arg) return code;
    auto body = snippetBody(code);
    if (!body) return code;
    const std::string subject = arg->kind + "/" + arg->name;
    auto a = client->call(replace_whole ? "PUT" : "PATCH", connectionPath(arg->kind, arg->name),
                          *body, std::nullopt, ifMatchHeader());
    if (!a.ok()) return refused(subject, a);
    if (as_json) return printJson(a.body);
    std::cout << "Changed " << subject << " (version " << number(a.json, "version")
              << "); calls in flight finish on the old settings.\n";
    return 0;
  }

  int runDelete() {
    int code = 0;
    auto arg = target(code);
    if (!arg) return code;
    const std::string subject = arg->kind + "/" + arg->name;
    auto a = client->call("DELETE", connectionPath(arg->kind, arg->name), {}, std::nullopt,
                          ifMatchHeader());
    if (a.status == 204) a.error.clear();
    if (!a.ok()) return refused(subject, a);
    if (as_json) return printJson(R"({"deleted":true})");
    std::cout << "Deleted " << subject
              << " and its tokens; its auth history stays readable (GET "
                 "/api/v1/admin/connections/deleted/"
              << subject << ").\n";
    return 0;
  }

  int runReload() {
    auto a = client->call("POST", std::string(kAdmin) + "/reload", "{}", action_timeout);
    if (!a.ok()) return failed("reload", a);
    if (as_json) return printJson(a.body);
    std::cout << "Reloaded: " << str(a.json, "summary") << "\n";
    return 0;
  }

  std::vector<std::pair<std::string, std::string>> ifMatchHeader() const {
    if (if_match.empty()) return {};
    return {{"If-Match", "\"" + if_match + "\""}};
  }

  // One webhook's test delivery; its line of text, and whether it was delivered.
  bool testOne(size_t i, AdminAnswer& a) {
    a = client->call("POST", std::string(kAdmin) + "/webhooks/" + std::to_string(i) + "/test", "{}",
                     action_timeout);
    return a.ok() && flag(a.json, "delivered");
  }
  std::string outcome(size_t i, const AdminAnswer& a) {
    std::string line = "webhook " + std::to_string(i) + ": ";
    const int64_t status = number(a.json, "status");
    if (flag(a.json, "delivered")) return line + "delivered (HTTP " + std::to_string(status) + ")";
    line += "not delivered";
    if (status > 0) line += " (HTTP " + std::to_string(status) + ")";
    if (!str(a.json, "error").empty()) line += ": " + str(a.json, "error");
    return line;
  }

  int runWebhooksTest() {
    if (!index.empty()) {
      const bool numeric = index.size() <= 6 && std::all_of(index.begin(), index.end(), [](char c) {
                             return c >= '0' && c <= '9';
                           });
      if (!numeric) {
        return usage("INDEX must be a webhook's position in webhooks[] (0, 1, ...), got \"" +
                     printable(index.substr(0, 40)) + "\"");
      }
      const size_t i = std::stoul(index);
      AdminAnswer a;
      const bool delivered = testOne(i, a);
      if (!a.ok()) return failed("webhook " + index, a);
      if (as_json) {
        printJson(a.body);
      } else if (delivered) {
        std::cout << outcome(i, a) << "\n";
      } else {
        std::cerr << "tether: " << outcome(i, a) << "\n";
      }
      return delivered ? 0 : 1;
    }
    auto list = client->call("GET", std::string(kAdmin) + "/webhooks");
    if (list.status == 404) {
      list.error = "Tether at " + url + " has no webhook admin API (HTTP 404: " + list.error + ")";
    }
    if (!list.ok()) return failed("webhooks", list);
    const json::array* hooks = array(list.json, "webhooks");
    if (!hooks) return failed("webhooks", {list.status, list.body, {}, "unexpected answer"});
    if (hooks->empty()) {
      if (as_json)
        std::cout << R"({"webhooks":[]})"
                  << "\n";
      std::cerr << "tether: no webhook is configured (webhooks[] in the configuration)\n";
      return 1;
    }
    bool all = true;
    json::array results;
    for (size_t i = 0; i < hooks->size(); ++i) {
      AdminAnswer a;
      const bool delivered = testOne(i, a);
      all = all && delivered;
      if (!a.ok() && !a.json.is_object()) {
        a.json = json::object{{"delivered", false}, {"error", a.error}};
      }
      if (as_json) {
        json::object r{{"index", i}};
        if (const auto* o = a.json.if_object()) {
          for (const auto& [k, v] : *o) r[k] = v;
        }
        results.push_back(std::move(r));
      } else {
        std::cout << outcome(i, a) << "\n";
      }
    }
    if (as_json)
      std::cout << json::serialize(json::object{{"webhooks", std::move(results)}}) << "\n";
    if (!all) std::cerr << "tether: not every webhook took its test delivery\n";
    return all ? 0 : 1;
  }
};

OperatorCommands::OperatorCommands(CLI::App& cli, const core::Clock& clock)
    : impl_(std::make_unique<Impl>(clock)) {
  auto& s = *impl_;
  s.connections = cli.add_subcommand(
      "connections",
      "List every connection of a running Tether: state, access token expiry, last refresh "
      "and what needs attention");
  s.addCommon(s.connections);

  auto snippetOptions = [&s](CLI::App* sub) {
    sub->add_option("-f,--file", s.snippet_file,
                    "The connection as YAML or JSON: one connections: entry (\"-\": stdin). "
                    "Secrets go here, never in flags");
    sub->add_option("--kind", s.flag_kind, "mcp or api");
    sub->add_option("--name", s.flag_name, "The connection's name");
    sub->add_option("--upstream-url", s.flag_url, "The upstream's URL");
    sub->add_option("--upstream-timeout", s.flag_timeout, "The upstream deadline, e.g. 30s");
    sub->add_option("--auth-mode", s.flag_auth_mode, "none, bearer, api_key or oauth");
  };
  s.conn_create = s.connections->add_subcommand(
      "create", "Create a connection on a running Tether (every replica serves it)");
  snippetOptions(s.conn_create);
  s.addCommon(s.conn_create);
  s.conn_edit = s.connections->add_subcommand(
      "edit", "Change a connection made through the API (secrets left out are kept)");
  s.addConnectionArg(s.conn_edit);
  snippetOptions(s.conn_edit);
  s.conn_edit->add_flag("--replace", s.replace_whole,
                        "Replace the whole definition (PUT) instead of merging (PATCH)");
  s.conn_edit->add_option("--if-match", s.if_match,
                          "Only if the connection is still at this version");
  s.addCommon(s.conn_edit);
  s.conn_delete = s.connections->add_subcommand(
      "delete", "Delete a connection made through the API, with its tokens");
  s.addConnectionArg(s.conn_delete);
  s.conn_delete->add_option("--if-match", s.if_match,
                            "Only if the connection is still at this version");
  s.addCommon(s.conn_delete);
  s.reload = cli.add_subcommand(
      "reload", "Reload a running Tether's config file, as SIGHUP does (through the admin API)");
  s.addCommon(s.reload);

  s.status = cli.add_subcommand("status", "Show one connection's status on a running Tether");
  s.addConnectionArg(s.status);
  s.addCommon(s.status);

  s.events = cli.add_subcommand("events", "Show a connection's auth events, newest first");
  s.addConnectionArg(s.events);
  s.events->add_option("--limit", s.limit, "How many events (1-500, default 30)")
      ->check(CLI::Range(1, 500));
  s.addCommon(s.events);

  s.refresh = cli.add_subcommand("refresh", "Refresh a connection's access token now");
  s.addConnectionArg(s.refresh);
  s.addCommon(s.refresh);

  s.delete_token = cli.add_subcommand(
      "delete-token",
      "Delete a connection's stored tokens (it needs a new sign-in afterwards: tether login)");
  s.addConnectionArg(s.delete_token);
  s.addCommon(s.delete_token);

  auto* webhooks = cli.add_subcommand("webhooks", "Webhook tools");
  webhooks->require_subcommand(1);
  s.webhooks_test = webhooks->add_subcommand(
      "test", "Send a test delivery to the webhook at INDEX in webhooks[], or to every webhook");
  s.webhooks_test->add_option("index", s.index, "The webhook's position in webhooks[] (0, 1, ...)");
  s.addCommon(s.webhooks_test);
}

OperatorCommands::~OperatorCommands() = default;

std::optional<int> OperatorCommands::run() {
  auto& s = *impl_;
  const std::pair<CLI::App*, int (Impl::*)()> commands[] = {
      {s.conn_create, &Impl::runCreate},
      {s.conn_edit, &Impl::runEdit},
      {s.conn_delete, &Impl::runDelete},
      {s.reload, &Impl::runReload},
      {s.connections, &Impl::runConnections},
      {s.status, &Impl::runStatus},
      {s.events, &Impl::runEvents},
      {s.refresh, &Impl::runRefresh},
      {s.delete_token, &Impl::runDeleteToken},
      {s.webhooks_test, &Impl::runWebhooksTest}};
  for (const auto& [sub, handler] : commands) {
    if (!sub->parsed()) continue;
    if (auto usage = s.connect(sub)) return usage;
    return (s.*handler)();
  }
  return std::nullopt;
}

}  // namespace tether::app
