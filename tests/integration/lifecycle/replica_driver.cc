// A Tether "replica" for multi-process lifecycle tests: one TokenSource on a shared
// PostgreSQL store against a standalone mock IdP, in real time.
//
//   lifecycle_replica_driver --dsn DSN --idp ISSUER --key HEX --mode loop --until N
//     forced refreshes until the IdP has answered N refresh requests in all (any replica);
//   ... --mode crash   one refresh, SIGKILLed right after the IdP answered (before saving);
//   ... --mode once    one refresh.
// Prints one line "result ok=<n> errors=<n> last_error=<reason>"; exits 0 when no error.
#include <boost/json.hpp>
#include <csignal>
#include <cstdio>
#include <map>
#include <string>

#include "core/encoding.h"
#include "core/log.h"
#include "lifecycle/lifecycle.h"

using namespace tether;

namespace {

std::map<std::string, std::string> parseArgs(int argc, char** argv) {
  std::map<std::string, std::string> out;
  for (int i = 1; i + 1 < argc; i += 2) out[argv[i]] = argv[i + 1];
  return out;
}

uint64_t idpRefreshCount(http::HttpClient& http, const std::string& issuer) {
  http::ClientRequest req;
  req.url = issuer + "/control/counters";
  auto r = http.send(req);
  if (!r.ok() || r.response.status != 200) return 0;
  boost::system::error_code ec;
  auto v = boost::json::parse(r.response.body, ec);
  if (ec || !v.is_object()) return 0;
  const auto* obj = v.as_object().if_contains("counters");
  const auto& counters = obj && obj->is_object() ? obj->as_object() : v.as_object();
  const auto* n = counters.if_contains("requests.token.refresh_token");
  return n && n->is_int64()    ? static_cast<uint64_t>(n->as_int64())
         : n && n->is_uint64() ? n->as_uint64()
                               : 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto args = parseArgs(argc, argv);
  core::log::init(core::log::Format::kJson, core::LogLevel::kWarn);
  const std::string mode = args["--mode"];
  const std::string issuer = args["--idp"];

  auto key_bytes = core::hexDecode(args["--key"]);
  auto key = store::SealingKey::fromBytes(key_bytes.ok() ? key_bytes.value() : "");
  if (!key.ok()) {
    std::fprintf(stderr, "bad --key\n");
    return 2;
  }
  std::vector<store::SealingKey> keys;
  keys.push_back(std::move(key).value());
  store::PostgresOptions pg;
  pg.dsn = args["--dsn"];
  pg.pool_size = 2;
  pg.lock_connections = 2;
  store::StoreOptions so;
  so.backend = pg;
  so.sealer = std::shared_ptr<const store::Sealer>(
      store::makeAesGcmSealer(std::move(keys)).value().release());
  auto opened = store::openStore(std::move(so));
  if (!opened.ok()) {
    std::fprintf(stderr, "store: %s\n", opened.error().message.c_str());
    return 2;
  }
  auto store = std::move(opened).value();
  auto http = http::makeHttpClient();
  events::Recorder recorder(*store, core::systemClock(), nullptr);

  lifecycle::ConnectionSpec spec;
  spec.key = {"mcp", "shared"};
  spec.oauth.token_url = issuer + "/token";
  spec.oauth.client_id = "tether-client";
  spec.oauth.client_secret = "tether-secret";
  spec.oauth.use_proxy = false;
  spec.idp_host = "127.0.0.1";
  lifecycle::LifecycleOptions options;
  options.owner = "replica-" + std::to_string(::getpid());
  if (mode == "crash") {
    options.hooks.after_idp_response = [] { std::raise(SIGKILL); };
  }
  lifecycle::Lifecycle lc({spec}, *store, *http, recorder, core::systemClock(), nullptr, options);
  lc.start(false);
  auto source = lc.source(spec.key);

  int ok = 0;
  int errors = 0;
  std::string last_error;
  const uint64_t until = args.count("--until") ? std::stoull(args["--until"]) : 1;
  for (int i = 0;; ++i) {
    if (mode == "loop" && i % 5 == 0 && idpRefreshCount(*http, issuer) >= until) break;
    auto r = source->refreshNow("system:replica-test");
    if (r.ok()) {
      ++ok;
    } else {
      ++errors;
      last_error = r.error().reason + "/" + r.error().idp_code;
      if (r.error().kind == lifecycle::TokenError::Kind::kNeedsReauth) break;
    }
    if (mode != "loop") break;
    if (i > 100000) break;  // bounded whatever happens
  }
  std::printf("result ok=%d errors=%d last_error=%s\n", ok, errors, last_error.c_str());
  std::fflush(stdout);
  lc.stop();
  return errors == 0 ? 0 : 1;
}
