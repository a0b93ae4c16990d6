// listen, public_url, log and server: how the process listens and logs.

#include "config/internal.h"
#include "config/sections/sections.h"

namespace tether::config::sections {

void parseListen(Reader& r, const Entry& e, HostPort& out) {
  auto s = r.str(e, "host:port");
  if (!s) return;
  auto hp = internal::parseListen(*s);
  if (hp.ok()) {
    out = *hp;
  } else {
    r.error(e, hp.error().message);
  }
}

void parsePublicUrl(Reader& r, const Entry& e, std::string& out) {
  if (auto url = r.httpUrl(e, /*allow_query=*/false)) {
    while (url->size() > 1 && url->back() == '/') url->pop_back();
    out = *url;
  }
}

void parseLog(Reader& r, const Entry& e, LogConfig& out) {
  auto m = r.readMap(e, {"level", "format"});
  if (!m) return;
  if (const Entry* l = m->get("level")) {
    if (auto v = r.oneOf<core::LogLevel>(*l, {{"debug", core::LogLevel::kDebug},
                                              {"info", core::LogLevel::kInfo},
                                              {"warn", core::LogLevel::kWarn},
                                              {"error", core::LogLevel::kError}})) {
      out.level = *v;
    }
  }
  if (const Entry* f = m->get("format")) {
    if (auto v = r.oneOf<core::log::Format>(
            *f, {{"json", core::log::Format::kJson}, {"text", core::log::Format::kText}})) {
      out.format = *v;
    }
  }
}

void parseServer(Reader& r, const Entry& e, ServerConfig& out) {
  auto m = r.readMap(
      e, {"io_threads", "max_header_bytes", "max_body_bytes", "read_timeout", "idle_timeout",
          "write_timeout", "drain_timeout", "max_connections", "allowed_hosts"});
  if (!m) return;
  ServerConfig& s = out;
  r.setInt(*m, "io_threads", s.io_threads, 1, 256);
  r.setInt(*m, "max_header_bytes", s.max_header_bytes, 1024, 1024 * 1024);
  r.setInt(*m, "max_body_bytes", s.max_body_bytes, 1024, int64_t{1024} * 1024 * 1024);
  r.setDuration(*m, "read_timeout", s.read_timeout);
  r.setDuration(*m, "idle_timeout", s.idle_timeout);
  r.setDuration(*m, "write_timeout", s.write_timeout);
  r.setDuration(*m, "drain_timeout", s.drain_timeout);
  r.setInt(*m, "max_connections", s.max_connections, 1, 1'000'000);
  if (const Entry* hosts = m->get("allowed_hosts")) {
    if (auto items = r.readList(*hosts)) {
      for (const Entry& item : *items) {
        auto text = r.nonEmpty(item, "a host name or host:port such as tether.internal");
        if (!text) continue;
        auto host = internal::normalizeAllowedHost(*text);
        if (!host.ok()) {
          r.error(item, host.error().message);
          continue;
        }
        s.allowed_hosts.push_back(std::move(host).value());
      }
    }
  }
}

}  // namespace tether::config::sections
