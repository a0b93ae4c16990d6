// inbound: Tether as an OAuth resource server for its MCP/API callers (bearer tokens from
// the organisation's IdP, checked by identity::Validator).

#include <algorithm>

#include "config/sections/sections.h"

namespace tether::config::sections {
namespace {

constexpr std::string_view kAlgorithms[] = {"RS256", "ES256", "PS256", "EdDSA"};

// A JSON member name for a claim: printable ASCII, at most 64 bytes.
bool validClaimName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char ch) { return ch > 0x20 && ch < 0x7f; });
}

// An RFC 6749 scope token.
bool validScope(std::string_view s) {
  if (s.empty() || s.size() > 256) return false;
  return std::all_of(s.begin(), s.end(), [](char ch) {
    return ch == 0x21 || (ch >= 0x23 && ch <= 0x5b) || (ch >= 0x5d && ch <= 0x7e);
  });
}

void parseStringList(Reader& r, const Entry& e, std::vector<std::string>& out,
                     std::string_view expected, bool (*valid)(std::string_view)) {
  auto items = r.readList(e);
  if (!items) return;
  out.clear();
  for (const Entry& item : *items) {
    auto v = r.nonEmpty(item, expected);
    if (!v) continue;
    if (!valid(*v)) {
      r.error(item, "expected " + std::string(expected) + ", got " + quote(*v));
      continue;
    }
    if (std::find(out.begin(), out.end(), *v) != out.end()) {
      r.error(item, "duplicate " + quote(*v));
      continue;
    }
    out.push_back(*v);
  }
}

bool validAlgorithm(std::string_view s) {
  return std::find(std::begin(kAlgorithms), std::end(kAlgorithms), s) != std::end(kAlgorithms);
}

}  // namespace

void parseInbound(Reader& r, const Entry& e, InboundConfig& out) {
  auto m = r.readMap(e, {"issuer", "audience", "jwks_uri", "algorithms", "clock_skew",
                         "required_scopes", "subject_claim", "groups_claim", "introspection"});
  if (!m) return;
  out.enabled = true;
  if (const Entry* i = m->get("issuer")) {
    if (auto v = r.httpUrl(*i, /*allow_query=*/false)) out.issuer = *v;
  } else {
    r.required(*m, "issuer", "the IdP's issuer URL, e.g. https://login.example.com/realms/acme");
  }
  if (const Entry* a = m->get("audience")) {
    if (auto v = r.nonEmpty(*a,
                            "the audience every token must name (default: each "
                            "connection's resource URL)")) {
      out.audience = *v;
    }
  }
  if (const Entry* j = m->get("jwks_uri")) {
    if (auto v = r.httpUrl(*j)) out.jwks_uri = *v;
  }
  if (const Entry* a = m->get("algorithms")) {
    parseStringList(r, *a, out.algorithms, "one of RS256, ES256, PS256, EdDSA (never none or HS*)",
                    validAlgorithm);
    if (out.algorithms.empty()) r.error(*a, "expected at least one algorithm");
  }
  if (const Entry* s = m->get("clock_skew")) {
    if (auto v = r.duration(*s, /*allow_zero=*/true)) {
      if (*v > std::chrono::minutes(10)) {
        r.error(*s, "at most 10m (a wider window accepts expired tokens for longer)");
      } else {
        out.clock_skew = *v;
      }
    }
  }
  if (const Entry* s = m->get("required_scopes")) {
    parseStringList(r, *s, out.required_scopes, "an OAuth scope token", validScope);
  }
  if (const Entry* s = m->get("subject_claim")) {
    if (auto v = r.nonEmpty(*s, "a claim name such as sub, oid or email")) {
      if (validClaimName(*v)) {
        out.subject_claim = *v;
      } else {
        r.error(*s, "expected a claim name (printable ASCII, at most 64 characters)");
      }
    }
  }
  if (const Entry* g = m->get("groups_claim")) {
    if (auto v = r.nonEmpty(*g, "a claim name such as groups or roles")) {
      if (validClaimName(*v)) {
        out.groups_claim = *v;
      } else {
        r.error(*g, "expected a claim name (printable ASCII, at most 64 characters)");
      }
    }
  }
  if (const Entry* i = m->get("introspection")) {
    auto im = r.readMap(*i, {"endpoint", "client_id", "client_secret"});
    if (im) {
      if (const Entry* ep = im->get("endpoint")) {
        if (auto v = r.httpUrl(*ep)) out.introspection.endpoint = *v;
      } else {
        r.required(*im, "endpoint", "the issuer's RFC 7662 introspection endpoint URL");
      }
      if (const Entry* id = im->get("client_id")) {
        if (auto v = r.nonEmpty(*id, "the client id Tether introspects with")) {
          out.introspection.client_id = *v;
        }
      } else {
        r.required(*im, "client_id", "the client id Tether introspects with");
      }
      if (const Entry* cs = im->get("client_secret")) {
        if (auto v = r.secret(*cs, "the client secret, e.g. ${INTROSPECTION_SECRET}")) {
          out.introspection.client_secret = *v;
        }
      } else {
        r.required(*im, "client_secret", "the client secret, e.g. ${INTROSPECTION_SECRET}");
      }
    }
  }
}

}  // namespace tether::config::sections
