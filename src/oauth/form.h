#pragma once
/// Form bodies for the oauth module: building request bodies and parsing (hostile) IdP
/// bodies, with the one bounded form codec in core. Thread-safe (pure).

#include <cstddef>
#include <string_view>

#include "core/form.h"

namespace tether::oauth {

using core::encodeForm;
using core::findFormValue;
using core::FormPairs;

/// Parses an IdP's form body, keeping at most `max_pairs` pairs.
inline FormPairs parseFormBody(std::string_view body, size_t max_pairs = core::kMaxFormPairs) {
  return core::parseForm(body, max_pairs);
}

}  // namespace tether::oauth
