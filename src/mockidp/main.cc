// tether-mock-idp: the fault-injecting mock IdP as a standalone server (demos and
// out-of-process tests). Everything is documented in --help and docs/mock-idp.md.

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "core/duration.h"
#include "core/log.h"
#include "mockidp/mock_idp.h"

namespace {

using tether::mockidp::ClientSpec;
using tether::mockidp::MockIdp;
using tether::mockidp::MockIdpOptions;

constexpr char kFooter[] = R"(
CLIENTS
  --client ID:SECRET (repeatable; "ID:" is a public client), --redirect-uri URI
  (repeatable, applies to the command-line clients; none given: any redirect URI).
  Default when no --client is given: tether-client:tether-secret.

ENDPOINTS
  GET  /.well-known/oauth-authorization-server, /.well-known/openid-configuration
  GET  /authorize            auto-approves (302 with code, state, iss) unless --consent
  POST /token                authorization_code (PKCE S256 required), refresh_token,
                             client_credentials; client auth: Basic, post, none
  POST /register             RFC 7591 dynamic client registration
  POST /introspect           RFC 7662 (client authentication required)
  POST /revoke               RFC 7009 (client authentication; a refresh token revokes its
                             family); counter refresh_tokens_revoked
  GET  /jwks                 RS256 key (access tokens are RS256 JWTs)
  *    /redirect-target      where the `redirect` fault points (counted)

FAULTS (--fault, repeatable; POST /control/faults at runtime)
  Either JSON {"kind":..., "endpoint":..., "grant":..., "times":N, ...} or
  KIND[,key=value...]. Rules form a queue: a request consumes one use of the first
  rule matching its endpoint (token, authorize, register, introspect, revoke, jwks,
  discovery, *) and grant (refresh_token, authorization_code, client_credentials;
  empty = any). times=-1: forever. Defaults: endpoint=token, times=1.
  Kinds: pass | html_403 | html_401 | empty_400 | status (status=408/429/500/...)
         | status_NNN | oauth_error (error=CODE, status=400, format=json|form|
         www_authenticate) | html_200 | no_access_token | oversized (bytes=N)
         | slow (delay_ms=N) | drop | drop_after (processed, then dropped) | redirect
         (status=302, location=URL)
  retry_after=120 | retry_after=date+120 (HTTP-date 120 s after the IdP's now).
  Example: --fault status_503,grant=refresh_token,times=3,retry_after=120

CONTROL API (JSON; disabled by --no-control)
  GET|POST|DELETE /control/faults     list | add (?replace=true) | clear
  GET|DELETE      /control/counters   requests.<endpoint>, requests.token.<grant>,
                                      refresh_tokens_issued, refresh_reuse_attempts, ...
  GET|POST        /control/clock      {"advance": 3600} or {"advance": "2h"}
  POST            /control/revoke     {"client_id":..} | {"refresh_token":..} |
                                      {"all_refresh_tokens": true}
  GET|POST        /control/settings   any knob below, e.g. {"rotation":"one_time_use"}
  POST            /control/clients    {"client_id":..,"client_secret":..,"redirect_uris":[..]}
)";

std::chrono::seconds parseSeconds(const std::string& text, const char* what) {
  auto d = tether::core::parseDuration(text);
  if (!d) throw CLI::ValidationError(what, d.error().message);
  return std::chrono::duration_cast<std::chrono::seconds>(d.value());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "tether-mock-idp: a fault-injecting OAuth 2.x identity provider for testing Tether.\n"
      "Access and refresh lifetimes, rotation, reuse detection, idle expiry, Basic decoding\n"
      "and scripted faults are all configurable; counters show what clients did."};
  app.footer(kFooter);

  MockIdpOptions options;
  std::string access = "1h", refresh = "0s", idle = "0s", grace = "0s";
  std::string rotation = "rotate", basic = "rfc6749", log_level = "info";
  std::vector<std::string> clients, faults, redirect_uris;
  bool no_refresh_expires_in = false, no_expires_in = false, no_refresh_tokens = false;
  bool consent = false, no_family_revocation = false, no_control = false;
  app.add_option("--host", options.host, "Address to bind")->capture_default_str();
  app.add_option("--port", options.port, "Port (0: any free port, printed at start)")
      ->capture_default_str();
  app.add_option("--issuer", options.issuer, "Issuer URL (default http://HOST:PORT)");
  app.add_option("--access-token-lifetime", access, "Access token lifetime (e.g. 5m, 1h)")
      ->capture_default_str();
  app.add_option("--refresh-token-lifetime", refresh,
                 "Absolute refresh token (family) lifetime; 0s: unlimited")
      ->capture_default_str();
  app.add_option("--refresh-idle-timeout", idle,
                 "Refresh tokens unused this long die (Keycloak SSO idle); 0s: never")
      ->capture_default_str();
  app.add_flag("--no-refresh-expires-in", no_refresh_expires_in,
               "Do not disclose refresh_expires_in");
  app.add_flag("--no-expires-in", no_expires_in,
               "Do not send expires_in (clients must read the JWT exp)");
  app.add_flag("--no-refresh-tokens", no_refresh_tokens, "Never issue refresh tokens");
  app.add_option("--rotation", rotation, "none | rotate | one_time_use")
      ->check(CLI::IsMember({"none", "rotate", "one_time_use", "one-time-use"}))
      ->capture_default_str();
  app.add_flag("--no-family-revocation", no_family_revocation,
               "one_time_use: a replayed refresh token does not revoke its family");
  app.add_option("--reuse-grace", grace,
                 "one_time_use: a spent refresh token stays usable this long")
      ->capture_default_str();
  app.add_option("--basic-mode", basic,
                 "rfc6749: Basic credentials are form-urldecoded (RFC 6749 2.3.1); raw: "
                 "compared as sent")
      ->check(CLI::IsMember({"rfc6749", "raw"}))
      ->capture_default_str();
  app.add_flag("--consent", consent, "Show a consent page instead of auto-approving");
  app.add_option("--subject", options.settings.subject, "Subject of issued tokens")
      ->capture_default_str();
  app.add_option("--client", clients, "ID:SECRET, or ID: for a public client (repeatable)");
  app.add_option("--redirect-uri", redirect_uris,
                 "Allowed redirect URI for the command-line clients (repeatable; none: any)");
  app.add_option("--fault", faults, "A fault rule (repeatable; see FAULTS)");
  app.add_flag("--no-control", no_control, "Disable the /control API");
  app.add_option("--io-threads", options.io_threads, "Server I/O threads")->capture_default_str();
  app.add_option("--log-level", log_level, "debug | info | warn | error")->capture_default_str();

  try {
    app.parse(argc, argv);
    auto& s = options.settings;
    s.access_token_lifetime = parseSeconds(access, "--access-token-lifetime");
    s.refresh_token_lifetime = parseSeconds(refresh, "--refresh-token-lifetime");
    s.refresh_idle_timeout = parseSeconds(idle, "--refresh-idle-timeout");
    s.reuse_grace = parseSeconds(grace, "--reuse-grace");
    s.disclose_refresh_expires_in = !no_refresh_expires_in;
    s.disclose_expires_in = !no_expires_in;
    s.issue_refresh_tokens = !no_refresh_tokens;
    s.rotation = *tether::mockidp::parseRotation(rotation);
    s.revoke_family_on_reuse = !no_family_revocation;
    s.basic_mode = *tether::mockidp::parseBasicMode(basic);
    s.auto_approve = !consent;
    options.control_api = !no_control;
    if (!clients.empty()) {
      options.clients.clear();
      for (const auto& c : clients) {
        // The id ends at the first ':' (an id cannot contain one in HTTP Basic); the secret
        // is everything after it, ':' included.
        const size_t colon = c.find(':');
        ClientSpec spec;
        spec.client_id = c.substr(0, colon);
        if (spec.client_id.empty()) throw CLI::ValidationError("--client", "empty client id");
        if (colon != std::string::npos) spec.client_secret = c.substr(colon + 1);
        spec.redirect_uris = redirect_uris;
        options.clients.push_back(std::move(spec));
      }
    } else {
      for (auto& c : options.clients) c.redirect_uris = redirect_uris;
    }
    for (const auto& f : faults) {
      auto rule = tether::mockidp::parseFaultRule(f);
      if (!rule) throw CLI::ValidationError("--fault", rule.error().message);
      options.faults.push_back(std::move(rule).value());
    }
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  const auto level = tether::core::log::parseLevel(log_level);
  tether::core::log::init(tether::core::log::Format::kJson,
                          level.value_or(tether::core::LogLevel::kInfo));

  // Block the stop signals in every thread before any starts, then wait for one here.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  MockIdp idp(std::move(options));
  if (auto s = idp.start(); !s) {
    std::cerr << "tether-mock-idp: " << s.error().message << "\n";
    return 1;
  }
  tether::core::log::info("mock IdP listening", {{"issuer", idp.issuer()}});
  std::printf("tether-mock-idp listening on %s\n", idp.issuer().c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&signals, &sig);
  idp.stop();
  return 0;
}
