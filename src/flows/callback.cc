// The connect flow's second half: the browser comes back to /oauth/callback, the flow is
// taken once, the code exchanged and the tokens stored; `resolved` answers what a finished
// flow left for the connection (discovered endpoints, the registered client).
#include <chrono>

#include "core/log.h"
#include "flows/consenting_account.h"
#include "flows/flows.h"
#include "flows/stored_client.h"
#include "oauth/requests.h"
#include "oauth/sanitize.h"
#include "oauth/token_endpoint_client.h"

namespace tether::flows {
namespace {

using core::Errc;
using store::EventType;

constexpr auto kLockTimeout = std::chrono::seconds(10);

}  // namespace

CallbackPage Flows::fail(const store::PendingFlow& flow, const std::string& reason,
                         const std::string& idp_error, std::optional<int> http_status,
                         int page_status, const std::string& title, const std::string& what_to_do) {
  events::Detail detail;
  detail.error_class = "terminal";
  detail.reason = reason;
  detail.idp_error = idp_error;
  detail.http_status = http_status;
  count(flow.key, reason == "authorization_refused" && idp_error == "access_denied"
                      ? CallbackOutcome::kDenied
                      : CallbackOutcome::kFailed);
  recorder_.record({EventType::kConnectFailed, flow.key, flow.started_by,
                    oauth::urlHost(flow.issuer), flow.correlation_id, detail});
  // The list shows the failed attempt (one query per page); a failure to record it is
  // logged, the event above still tells the story.
  store::ConnectOutcome outcome;
  outcome.key = flow.key;
  outcome.at = clock_.now();
  outcome.failed = true;
  outcome.reason = reason;
  outcome.idp_error = oauth::sanitizeIdpString(idp_error);
  if (auto st = store_.recordConnectOutcome(outcome); !st.ok()) {
    core::log::warn("connect flow: recording the failed attempt failed",
                    {{"connection", flow.key.str()}, {"error", st.error().message}});
  }
  core::log::warn("connect flow failed", {{"connection", flow.key.str()},
                                          {"correlation_id", flow.correlation_id},
                                          {"reason", reason},
                                          {"idp_error", oauth::sanitizeIdpString(idp_error)}});
  CallbackPage page;
  page.status = page_status;
  page.html = renderPage(title,
                         "Connecting " + flow.key.str() + " did not complete" +
                             (idp_error.empty() ? std::string(" (") + reason + ")."
                                                : " (the identity provider answered " +
                                                      oauth::sanitizeIdpString(idp_error) + ")."),
                         what_to_do + " The connection's existing tokens were left as they were.",
                         portalUrl(), "Open the Tether portal");
  return page;
}

CallbackPage Flows::callback(const std::map<std::string, std::string>& query) {
  auto param = [&](const char* name) -> std::string {
    auto it = query.find(name);
    return it == query.end() ? std::string() : it->second;
  };
  const std::string state = param("state");
  const std::string restart =
      "Start again from the Tether portal (Connect) or with `tether login <kind>/<name>`.";
  if (state.empty()) {
    return {400,
            {},
            renderPage("Sign-in link incomplete",
                       "This address has no state parameter, so Tether cannot tell which "
                       "connection it belongs to.",
                       restart, portalUrl(), "Open the Tether portal")};
  }
  auto taken = store_.takeFlow(state);
  if (!taken.ok() || taken->outcome != store::FlowTakeOutcome::kTaken) {
    if (taken.ok() || taken.error().code == Errc::kNotFound ||
        taken.error().code == Errc::kInvalidArgument) {
      const bool expired = taken.ok() && taken->outcome == store::FlowTakeOutcome::kExpired;
      if (expired) count(taken->flow.key, CallbackOutcome::kExpired);
      core::log::warn("connect callback with an unknown, used or expired state",
                      {{"expired", expired}});
      return {400,
              {},
              renderPage(expired ? "Sign-in link expired" : "Sign-in link not valid",
                         expired ? "This sign-in took longer than the 10 minutes a connect flow "
                                   "stays open."
                                 : "This sign-in link is unknown or was already used (each "
                                   "link works once).",
                         restart, portalUrl(), "Open the Tether portal")};
    }
    core::log::error("connect callback: the store failed", {{"error", taken.error().message}});
    return {503,
            {},
            renderPage("Tether could not finish the sign-in", "Its database did not answer.",
                       "Try again in a minute: " + restart, portalUrl(), "Open the Tether portal")};
  }
  const store::PendingFlow flow = std::move(taken).value().flow;
  {
    std::lock_guard lock(mu_);
    auto it = started_.find(flow.key);
    if (it != started_.end() && it->second.correlation_id == flow.correlation_id) {
      started_.erase(it);
    }
  }
  const auto conn = find(flow.key);
  if (!conn) {
    return {
        404,
        {},
        renderPage("Connection not configured",
                   "The connection " + flow.key.str() + " is no longer in Tether's configuration.",
                   "Add it back to the configuration, then connect it again.")};
  }
  if (const std::string error = param("error"); !error.empty()) {
    const bool denied = error == "access_denied";
    return fail(flow, "authorization_refused", error, std::nullopt, 400,
                denied ? "Access was not granted" : "The identity provider refused",
                denied ? "If this was a mistake, connect again and approve the request."
                       : "Check the connection's settings (client id, scopes, redirect URI " +
                             redirect_uri_ + ") at the identity provider, then connect again.");
  }
  auto endpoints = store_.getEndpoints(flow.key);
  if (!endpoints.ok() || !*endpoints) {
    return fail(flow, "endpoints_missing", "", std::nullopt, 500, "Tether lost this sign-in",
                restart);
  }
  const store::OAuthEndpoints& ep = **endpoints;
  // RFC 9207: the authorization server that answered must be the one the flow went to.
  const std::string iss = param("iss");
  if (!iss.empty() && !flow.issuer.empty() && iss != flow.issuer) {
    core::log::warn("connect callback: iss does not match the flow's issuer",
                    {{"connection", flow.key.str()},
                     {"correlation_id", flow.correlation_id},
                     {"expected", flow.issuer},
                     {"got", oauth::displayUrl(iss)}});
    return fail(flow, "iss_mismatch", "", std::nullopt, 400, "Sign-in answer from the wrong server",
                "The answer came from " + oauth::displayUrl(iss) + ", not from " + flow.issuer +
                    " (a mix-up attack or a misconfigured IdP). " + restart);
  }
  if (iss.empty() && ep.iss_parameter_supported) {
    return fail(
        flow, "iss_missing", "", std::nullopt, 400, "Sign-in answer without its issuer",
        "The identity provider promises an iss parameter (RFC 9207) but sent none. " + restart);
  }
  const std::string code = param("code");
  if (code.empty()) {
    return fail(flow, "no_code", "", std::nullopt, 400, "Sign-in answer without a code", restart);
  }

  // The client settings the code was issued to.
  oauth::OAuthClientConfig cfg = conn->oauth;
  cfg.authorization_url = ep.authorization_endpoint;
  cfg.token_url = ep.token_endpoint;
  cfg.scopes = ep.scopes;
  cfg.resource = ep.resource;
  bool registered = false;
  if (!conn->client_id_configured) {
    registered = true;
    cfg.client_id = flow.client_id;
    cfg.client_secret.clear();
    cfg.client_auth = oauth::ClientAuthStyle::kNone;
    auto client = store_.getClient(clientKey(ep.issuer, ep.token_endpoint));
    if (client.ok() && *client && (*client)->client_id == flow.client_id) {
      cfg.client_secret = (*client)->client_secret.value_or("");
      cfg.client_auth = registeredAuthStyle(**client);
    }
  }
  const auto t0 = clock_.monotonic();
  oauth::TokenEndpointClient client(http_, cfg, clock_);
  auto grant = client.exchangeCode(code, flow.pkce_verifier, redirect_uri_);
  const double duration_ms =
      std::chrono::duration<double, std::milli>(clock_.monotonic() - t0).count();
  if (!grant.ok()) {
    const auto& c = grant.classification;
    std::string next = "Connect again from the Tether portal.";
    if (c.idp_error == "invalid_client") {
      if (registered) {
        // The registration is stale: drop it so the next start registers anew (once).
        (void)store_.deleteClient(clientKey(ep.issuer, ep.token_endpoint));
        next =
            "Tether's registration at the identity provider was rejected and has been "
            "dropped; connecting again registers a new client.";
      } else {
        next =
            "Check auth.client_id and auth.client_secret in the configuration, then "
            "connect again.";
      }
    }
    return fail(flow, c.code.empty() ? "token_exchange_failed" : c.code, c.idp_error,
                c.http_status ? std::optional<int>(c.http_status) : std::nullopt, 502,
                "The identity provider refused the sign-in", next);
  }
  const oauth::TokenSet& t = *grant.tokens;
  const core::TimePoint now = clock_.now();
  store::TokenRecord rec;
  rec.key = flow.key;
  rec.access_token = t.access_token;
  if (!t.refresh_token.empty()) rec.refresh_token = t.refresh_token;
  rec.token_type = t.token_type.empty() ? "Bearer" : t.token_type;
  rec.scope = t.scope;
  rec.expires_at = t.access_expires_at;
  rec.refresh_expires_at = t.refresh_expires_at;
  rec.authenticated_at = now;
  rec.authenticated_by = flow.started_by;
  rec.idp_host = oauth::urlHost(ep.token_endpoint);
  {
    // Under the connection's store lock, so no refresh writes between our read and write.
    auto lock = store_.locks().lock(flow.key, kLockTimeout);
    if (!lock.ok()) {
      return fail(flow, "store_lock", "", std::nullopt, 503, "Tether could not save the sign-in",
                  "Its database is busy; " + restart);
    }
    auto current = store_.getToken(flow.key);
    const int64_t version = current.ok() && *current ? (*current)->version : 0;
    auto written = store_.putToken(rec, version);
    if (!written.ok()) {
      core::log::error("connect flow: storing the tokens failed",
                       {{"connection", flow.key.str()},
                        {"correlation_id", flow.correlation_id},
                        {"error", written.error().message}});
      return fail(flow, "store", "", std::nullopt, 503, "Tether could not save the sign-in",
                  "Its database did not take the tokens; " + restart);
    }
  }
  events::Detail detail;
  detail.error_class = "success";
  // Never assumed: without a refresh token the connection needs a reconnect at expiry.
  if (!rec.refresh_token) detail.reason = "no_refresh_token";
  detail.expires_after = rec.expires_at;
  detail.refresh_expires_after = rec.refresh_expires_at;
  detail.duration_ms = duration_ms;
  if (grant.classification.http_status) detail.http_status = grant.classification.http_status;
  recorder_.record({EventType::kConnectCompleted, flow.key, flow.started_by, rec.idp_host,
                    flow.correlation_id, detail});
  {
    // Who consented at the IdP, from the ID token's claims (display only; never the token).
    store::ConnectOutcome outcome;
    outcome.key = flow.key;
    outcome.at = now;
    outcome.account = consentingAccountOf(t.id_token);
    if (auto st = store_.recordConnectOutcome(outcome); !st.ok()) {
      core::log::warn("connect flow: recording the consenting account failed",
                      {{"connection", flow.key.str()}, {"error", st.error().message}});
    }
  }
  count(flow.key, CallbackOutcome::kConnected);
  core::log::info("connect flow completed", {{"connection", flow.key.str()},
                                             {"correlation_id", flow.correlation_id},
                                             {"authenticated_by", flow.started_by},
                                             {"has_refresh_token", rec.refresh_token.has_value()}});
  if (on_connected_) on_connected_(flow.key, ResolvedConnection{cfg, rec.idp_host});

  if (!flow.return_url.empty()) {
    // Checked again: the stored value came from an earlier start.
    const std::string target = acceptableReturnUrl(flow.return_url);
    return {302, target, {}};
  }
  return {200,
          {},
          renderPage("Connected", "Tether is now connected to " + flow.key.str() + ".",
                     "You can close this window; Tether keeps the connection's tokens fresh "
                     "from here on.")};
}

core::Result<std::optional<ResolvedConnection>> Flows::resolved(const store::ConnectionKey& key) {
  const auto conn = find(key);
  if (!conn) return std::optional<ResolvedConnection>();
  if (!conn->oauth.token_url.empty() && conn->client_id_configured) {
    return std::optional<ResolvedConnection>();  // complete as configured
  }
  auto endpoints = store_.getEndpoints(key);
  if (!endpoints.ok()) return std::move(endpoints).takeError();
  if (!*endpoints) return std::optional<ResolvedConnection>();
  const auto& ep = **endpoints;
  ResolvedConnection out;
  out.oauth = conn->oauth;
  out.oauth.authorization_url = ep.authorization_endpoint;
  out.oauth.token_url = ep.token_endpoint;
  out.oauth.scopes = ep.scopes;
  out.oauth.resource = ep.resource;
  out.idp_host = oauth::urlHost(ep.token_endpoint);
  if (!conn->client_id_configured) {
    auto client = store_.getClient(clientKey(ep.issuer, ep.token_endpoint));
    if (!client.ok()) return std::move(client).takeError();
    if (!*client) return std::optional<ResolvedConnection>();
    out.oauth.client_id = (*client)->client_id;
    out.oauth.client_secret = (*client)->client_secret.value_or("");
    out.oauth.client_auth = registeredAuthStyle(**client);
  }
  return std::optional<ResolvedConnection>(std::move(out));
}
}  // namespace tether::flows
