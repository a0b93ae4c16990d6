#include "mockidp/mock_idp.h"

#include <boost/json.hpp>
#include <mutex>
#include <utility>

#include "core/duration.h"
#include "core/random.h"
#include "http/server.h"
#include "mockidp/jwt_signer.h"
#include "mockidp/mock_idp_impl.h"

namespace tether::mockidp {

namespace json = boost::json;
using std::chrono::seconds;

std::string_view rotationName(Rotation r) {
  switch (r) {
    case Rotation::kNone:
      return "none";
    case Rotation::kRotate:
      return "rotate";
    case Rotation::kOneTimeUse:
      return "one_time_use";
  }
  return "rotate";
}

std::optional<Rotation> parseRotation(std::string_view name) {
  if (name == "none") return Rotation::kNone;
  if (name == "rotate") return Rotation::kRotate;
  if (name == "one_time_use" || name == "one-time-use") return Rotation::kOneTimeUse;
  return std::nullopt;
}

std::string_view basicModeName(BasicMode m) { return m == BasicMode::kRaw ? "raw" : "rfc6749"; }

std::optional<BasicMode> parseBasicMode(std::string_view name) {
  if (name == "rfc6749") return BasicMode::kRfc6749;
  if (name == "raw") return BasicMode::kRaw;
  return std::nullopt;
}

namespace detail {

http::Response oauthError(int status, std::string_view code, std::string_view description) {
  json::object o{{"error", code}, {"error_description", description}};
  auto r = http::Response::json(status, json::serialize(o));
  r.headers.push_back({"Cache-Control", "no-store"});
  return r;
}

std::string appendQuery(const std::string& url, std::string_view query) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + std::string(query);
}

}  // namespace detail

MockIdp::Impl::Impl(MockIdpOptions options, const core::Clock* clock)
    : options_(std::move(options)), clock_(clock), settings_(options_.settings) {
  for (auto& c : options_.clients) clients_[c.client_id] = c;
  for (auto& f : options_.faults) faults_.add(f);
}

// ----- lifecycle --------------------------------------------------------------------
core::Status MockIdp::Impl::start() {
  if (server_) return {};
  auto signer = JwtSigner::generate();
  if (!signer) return std::move(signer).takeError();
  signer_ = std::move(signer).value();
  addRoutes();
  http::ServerOptions so;
  so.host = options_.host;
  so.port = options_.port;
  so.io_threads = options_.io_threads;
  auto server = std::make_unique<http::Server>(so, router_, nullptr);
  if (auto s = server->start(); !s) return s;
  server_ = std::move(server);
  issuer_ = options_.issuer.empty()
                ? "http://" + options_.host + ":" + std::to_string(server_->port())
                : options_.issuer;
  while (!issuer_.empty() && issuer_.back() == '/') issuer_.pop_back();
  return {};
}

void MockIdp::Impl::stop() {
  if (server_) server_->stop();
}

core::TimePoint MockIdp::Impl::now() const {
  if (clock_) return clock_->now();
  return core::systemClock().now() + seconds(offset_s_.load());
}

core::Status MockIdp::Impl::advanceClock(std::chrono::seconds by) {
  if (clock_) {
    return core::Error(core::Errc::kConflict,
                       "the clock is injected: advance it in-process, not here");
  }
  offset_s_ += by.count();
  return {};
}

// ----- counters ---------------------------------------------------------------------
void MockIdp::Impl::count(std::string_view name, uint64_t n) {
  std::lock_guard lock(counters_mu_);
  counters_[std::string(name)] += n;
}
uint64_t MockIdp::Impl::counter(std::string_view name) const {
  std::lock_guard lock(counters_mu_);
  auto it = counters_.find(std::string(name));
  return it == counters_.end() ? 0 : it->second;
}
std::map<std::string, uint64_t> MockIdp::Impl::counters() const {
  std::lock_guard lock(counters_mu_);
  return counters_;
}
void MockIdp::Impl::resetCounters() {
  std::lock_guard lock(counters_mu_);
  counters_.clear();
}

// ----- state ------------------------------------------------------------------------
void MockIdp::Impl::addClient(ClientSpec c) {
  std::lock_guard lock(mu_);
  revoked_clients_.erase(c.client_id);
  clients_[c.client_id] = std::move(c);
}
void MockIdp::Impl::revokeClient(std::string_view id) {
  std::lock_guard lock(mu_);
  revoked_clients_.insert(std::string(id));
}
bool MockIdp::Impl::revokeFamilyOf(std::string_view rt) {
  std::lock_guard lock(mu_);
  auto it = refresh_.find(std::string(rt));
  if (it == refresh_.end()) return false;
  revokeFamilyLocked(it->second.family);
  return true;
}
void MockIdp::Impl::revokeAll() {
  std::lock_guard lock(mu_);
  for (auto& [id, fam] : families_) {
    if (!fam.revoked) revokeFamilyLocked(id);
  }
}
MockIdpSettings MockIdp::Impl::settings() const {
  std::lock_guard lock(mu_);
  return settings_;
}
void MockIdp::Impl::update(const std::function<void(MockIdpSettings&)>& change) {
  std::lock_guard lock(mu_);
  change(settings_);
}

std::string MockIdp::Impl::issueCode(std::string_view client_id, std::string_view redirect_uri,
                                     std::string_view challenge, std::string_view scope,
                                     std::string_view resource, std::string subject) {
  std::lock_guard lock(mu_);
  std::string code = core::randomToken(24);
  codes_[code] = Code{std::string(client_id), std::string(redirect_uri), std::string(challenge),
                      std::string(scope),     std::string(resource),     std::move(subject),
                      now() + seconds(600)};
  count(counters::kCodesIssued);
  return code;
}

std::pair<std::string, std::string> MockIdp::Impl::issueTokensDirect(std::string_view client_id,
                                                                     std::string_view scope) {
  std::lock_guard lock(mu_);
  const std::string family = newFamilyLocked();
  const std::string access =
      issueAccessLocked(std::string(client_id), settings_.subject, std::string(scope), "");
  std::string refresh;
  if (settings_.issue_refresh_tokens) {
    refresh = issueRefreshLocked(std::string(client_id), family, std::string(scope), "",
                                 settings_.subject);
  }
  return {access, refresh};
}
MockIdp::MockIdp(MockIdpOptions options, const core::Clock* clock)
    : impl_(std::make_unique<Impl>(std::move(options), clock)) {}
MockIdp::~MockIdp() { impl_->stop(); }
core::Status MockIdp::start() { return impl_->start(); }
void MockIdp::stop() { impl_->stop(); }
uint16_t MockIdp::port() const { return impl_->port(); }
std::string MockIdp::issuer() const { return impl_->issuer(); }
void MockIdp::addFault(FaultRule rule) { impl_->faults().add(std::move(rule)); }
void MockIdp::clearFaults() { impl_->faults().clear(); }
std::vector<FaultRule> MockIdp::pendingFaults() const {
  return std::as_const(*impl_).faults().pending();
}
uint64_t MockIdp::counter(std::string_view name) const { return impl_->counter(name); }
std::map<std::string, uint64_t> MockIdp::counters() const { return impl_->counters(); }
void MockIdp::resetCounters() { impl_->resetCounters(); }
void MockIdp::addClient(ClientSpec client) { impl_->addClient(std::move(client)); }
void MockIdp::revokeClient(std::string_view client_id) { impl_->revokeClient(client_id); }
bool MockIdp::revokeFamilyOf(std::string_view rt) { return impl_->revokeFamilyOf(rt); }
void MockIdp::revokeAllRefreshTokens() { impl_->revokeAll(); }
std::vector<std::string> MockIdp::liveRefreshTokens() const { return impl_->liveRefreshTokens(); }
MockIdpSettings MockIdp::settings() const { return impl_->settings(); }
void MockIdp::update(const std::function<void(MockIdpSettings&)>& change) { impl_->update(change); }
core::TimePoint MockIdp::now() const { return impl_->now(); }
core::Status MockIdp::advanceClock(std::chrono::seconds by) { return impl_->advanceClock(by); }
std::string MockIdp::issueCode(std::string_view client_id, std::string_view redirect_uri,
                               std::string_view code_challenge, std::string_view scope,
                               std::string_view resource) {
  return impl_->issueCode(client_id, redirect_uri, code_challenge, scope, resource,
                          impl_->settings().subject);
}
std::pair<std::string, std::string> MockIdp::issueTokens(std::string_view client_id,
                                                         std::string_view scope) {
  return impl_->issueTokensDirect(client_id, scope);
}

}  // namespace tether::mockidp
