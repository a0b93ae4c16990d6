#include "app/login.h"

#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "core/clock.h"
#include "http/http_client.h"

namespace tether::app {
namespace {

constexpr auto kReopenAfter = std::chrono::minutes(5);

struct Answer {
  int status = 0;
  boost::json::object body;
  std::string error;  // transport error or the API's error message
};

Answer call(http::HttpClient& http, const LoginOptions& o, const std::string& method,
            const std::string& path, const std::string& body = {}) {
  http::ClientRequest req;
  req.method = method;
  req.url = o.url + path;
  req.body = body;
  req.headers = {{"Authorization", "Bearer " + o.admin_key}, {"Accept", "application/json"}};
  if (!body.empty()) req.headers.push_back({"Content-Type", "application/json"});
  req.total_timeout = std::chrono::seconds(60);
  auto r = http.send(req);
  Answer a;
  if (!r.ok()) {
    a.error = "cannot reach Tether at " + o.url + ": " + r.error_message;
    return a;
  }
  a.status = r.response.status;
  boost::system::error_code ec;
  auto v = boost::json::parse(r.response.body, ec);
  if (!ec && v.is_object()) a.body = v.as_object();
  if (a.status >= 400) {
    const auto* err = a.body.if_contains("error");
    if (err && err->is_object() && err->as_object().if_contains("message") &&
        err->as_object().at("message").is_string()) {
      a.error = std::string(err->as_object().at("message").as_string());
    } else {
      a.error = "HTTP " + std::to_string(a.status);
    }
  }
  return a;
}

std::string str(const boost::json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// When the browser was last opened for each connection (epoch seconds).
std::map<std::string, int64_t> readOpened(const std::string& file) {
  std::map<std::string, int64_t> out;
  std::ifstream in(file);
  std::string name;
  int64_t at = 0;
  while (in >> name >> at) out[name] = at;
  return out;
}

void writeOpened(const std::string& file, const std::map<std::string, int64_t>& opened) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(file).parent_path(), ec);
  const std::string tmp = file + ".tmp";
  {
    std::ofstream out(tmp);
    for (const auto& [name, at] : opened) out << name << ' ' << at << '\n';
  }
  std::filesystem::rename(tmp, file, ec);
}

// The command that opens a URL: $BROWSER, else xdg-open on a desktop; empty: none.
std::string browserCommand() {
  if (const char* b = std::getenv("BROWSER"); b && *b) return b;
  const bool desktop = std::getenv("DISPLAY") || std::getenv("WAYLAND_DISPLAY");
  if (desktop && std::filesystem::exists("/usr/bin/xdg-open")) return "/usr/bin/xdg-open";
  return {};
}

// Starts `command url` detached (its own session; not waited for beyond the fork).
bool spawnDetached(const std::string& command, const std::string& url) {
  const pid_t child = ::fork();
  if (child < 0) return false;
  if (child == 0) {
    ::setsid();
    if (::fork() == 0) {
      std::vector<char*> argv = {const_cast<char*>(command.c_str()), const_cast<char*>(url.c_str()),
                                 nullptr};
      ::execvp(argv[0], argv.data());
      ::_exit(127);
    }
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

std::string defaultLoginStateFile() {
  std::string base;
  if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x) {
    base = x;
  } else if (const char* h = std::getenv("HOME"); h && *h) {
    base = std::string(h) + "/.local/state";
  } else {
    base = "/tmp";
  }
  return base + "/tether/login-browser";
}

int login(const LoginOptions& o) {
  const auto slash = o.connection.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == o.connection.size()) {
    std::cerr << "tether login: expected <kind>/<name>, e.g. mcp/demo, got \"" << o.connection
              << "\" (see tether login --help)\n";
    return 2;
  }
  if (o.admin_key.empty()) {
    std::cerr << "tether login: set TETHER_ADMIN_KEY to an admin key of the running Tether "
                 "(see tether login --help)\n";
    return 2;
  }
  const core::Clock& clock = o.clock ? *o.clock : core::systemClock();
  const std::string kind = o.connection.substr(0, slash);
  const std::string name = o.connection.substr(slash + 1);
  const std::string base = "/api/v1/admin/connections/" + kind + "/" + name + "/oauth";
  auto http = http::makeHttpClient();
  auto started = call(*http, o, "POST", base + "/start", "{}");
  if (!started.error.empty()) {
    std::cerr << "tether login: " << o.connection << ": " << started.error << "\n";
    return 1;
  }
  const std::string url = str(started.body, "authorization_url");
  const std::string correlation = str(started.body, "correlation_id");
  const std::string expires = str(started.body, "expires_at");
  std::cout << "To connect " << o.connection << ", open this URL in a browser and sign in:\n\n  "
            << url << "\n\n"
            << std::flush;

  if (o.open_browser) {
    const std::string command = browserCommand();
    auto opened = readOpened(o.state_file);
    const int64_t now = core::toUnixSeconds(clock.now());
    const auto last = opened.find(o.connection);
    const int64_t since = last == opened.end() ? -1 : now - last->second;
    if (command.empty()) {
      std::cout << "(no browser found: set BROWSER, or open the URL yourself)\n";
    } else if (!o.force_browser && since >= 0 &&
               since < std::chrono::duration_cast<std::chrono::seconds>(kReopenAfter).count()) {
      std::cout << "(browser not opened again: it was opened for " << o.connection << " " << since
                << " s ago; --force opens it anyway)\n";
    } else if (spawnDetached(command, url)) {
      opened[o.connection] = now;
      writeOpened(o.state_file, opened);
      std::cout << "(opened in the browser)\n";
    } else {
      std::cout << "(could not start " << command << "; open the URL yourself)\n";
    }
  }
  std::cout << "Waiting for the sign-in to complete";
  if (!expires.empty()) std::cout << " (this link works until " << expires << ")";
  std::cout << "...\n" << std::flush;

  const auto deadline =
      clock.monotonic() + (o.timeout.count() > 0 ? o.timeout : std::chrono::seconds(10 * 60));
  while (clock.monotonic() < deadline) {
    auto status = call(*http, o, "GET", base + "/flows/" + correlation);
    if (status.error.empty()) {
      const std::string s = str(status.body, "status");
      if (s == "completed") {
        std::cout << "Connected " << o.connection << ".\n";
        return 0;
      }
      if (s == "failed") {
        std::string why = str(status.body, "reason");
        const std::string idp = str(status.body, "idp_error");
        if (!idp.empty() && idp != why) why += ", identity provider said " + idp;
        std::cout << "Connecting " << o.connection << " failed (" << why
                  << "). Run tether login again to retry.\n";
        return 1;
      }
    } else if (status.status == 401 || status.status == 404) {
      std::cerr << "tether login: " << status.error << "\n";
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  std::cout << "Gave up waiting: " << o.connection
            << " was not connected in time. Run tether login again.\n";
  return 1;
}

}  // namespace tether::app
