#pragma once
/// OAuth scope lists (RFC 6749 §3.3: scope-tokens of %x21 / %x23-5B / %x5D-7E separated by
/// single spaces) as they arrive from upstreams, metadata documents and token responses, and
/// the set operations the MCP scope selection and step-up flows need. Bounded: a list
/// longer than kMaxScopeListBytes, with more than kMaxScopes tokens, or with a token longer
/// than kMaxScopeTokenBytes is refused whole (never cut: a cut list asks for a scope nobody
/// named). Pure functions; thread-safe.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace tether::oauth {

/// Most scope tokens accepted in one list (a challenge, a PRM document, a union).
inline constexpr size_t kMaxScopes = 100;
/// Longest scope list text accepted.
inline constexpr size_t kMaxScopeListBytes = 4 * 1024;
/// Longest single scope token accepted.
inline constexpr size_t kMaxScopeTokenBytes = 256;

/// The tokens of a space-separated scope list, in order, duplicates dropped; runs of
/// spaces and tabs are tolerated. kInvalidArgument saying which bound or character was
/// refused (never echoing the input).
core::Result<std::vector<std::string>> parseScopeList(std::string_view text);

/// `scopes` joined by single spaces.
std::string joinScopeList(const std::vector<std::string>& scopes);

/// The tokens of `a` followed by those of `b` not already in `a`. kInvalidArgument when
/// either list, or the union, is past the bounds.
core::Result<std::string> unionScopes(std::string_view a, std::string_view b);

/// True when every token of `needed` is in `have` (both parsed leniently: a list past the
/// bounds contains nothing and is contained in nothing).
bool containsAllScopes(std::string_view have, std::string_view needed);

}  // namespace tether::oauth
