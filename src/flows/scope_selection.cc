#include "flows/scope_selection.h"

#include "oauth/scopes.h"

namespace tether::flows {

ScopeSelection selectScopes(const ScopeSources& in) {
  ScopeSelection out;
  if (!in.configured.empty()) {
    out.scopes = in.configured;
    out.source = "configured";
  } else if (auto found = oauth::parseScopeList(in.discovered); !found.ok()) {
    out.source = "none";
    out.warning = "the discovered scopes were ignored: " + found.error().message;
  } else {
    out.scopes = oauth::joinScopeList(*found);
    out.source = found->empty() ? "none" : "discovered";
  }
  if (in.step_up.empty()) return out;
  auto joined = oauth::unionScopes(out.scopes, in.step_up);
  if (!joined.ok()) {
    out.warning = "the step-up scopes were not added: " + joined.error().message;
    return out;
  }
  out.scopes = std::move(joined).value();
  out.source += "+step_up";
  return out;
}

}  // namespace tether::flows
