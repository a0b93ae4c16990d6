#pragma once
/// Which scopes a connect flow asks for (MCP 2025-11-25 "Scope Selection Strategy", plus the
/// "Step-Up Authorization Flow"):
///   1. the operator's `auth.scopes`, when configured (they win);
///   2. else what discovery found: the scope of the upstream's 401 WWW-Authenticate
///      challenge, else the protected resource's `scopes_supported`;
///   3. else nothing (the `scope` parameter is omitted);
/// and, on top, the scopes a step-up left for the next connect (the union of the granted
/// and the challenged ones, kept in the connection's state row). Every list is bounded by
/// oauth/scopes.h; a discovered list past the bounds is ignored (with a warning), never cut.
/// Pure functions; thread-safe.

#include <string>

namespace tether::flows {

struct ScopeSources {
  std::string configured;  // auth.scopes
  std::string discovered;  // the challenge's scope, else PRM scopes_supported (may be empty)
  std::string step_up;     // StateRecord::step_up_scopes
};

struct ScopeSelection {
  std::string scopes;  // space-separated; empty: omit the parameter
  /// configured | discovered | none, with "+step_up" when step-up scopes were added.
  std::string source;
  std::string warning;  // why a list was ignored; empty when none was
};

ScopeSelection selectScopes(const ScopeSources& sources);

}  // namespace tether::flows
