#pragma once
/// The sanitizer every IdP-supplied string passes through before Tether stores or shows
/// it (error codes, token types, anything an operator may read). Thread-safe (pure).

#include <cstddef>
#include <string>
#include <string_view>

#include "oauth/protocol.h"

namespace tether::oauth {

/// What replaces URL-shaped content.
inline constexpr std::string_view kUrlMarker = "[url]";

/// Makes an IdP string safe to store and display:
/// - control characters are dropped: C0 (CR, LF, TAB, NUL, ESC...), DEL and C1; a complete
///   ANSI CSI sequence (ESC '[' ... final byte) is dropped whole; Unicode bidi controls
///   (U+202A–U+202E, U+2066–U+2069) and invalid UTF-8 bytes are dropped too;
/// - every space-separated word containing "://" is replaced by kUrlMarker;
/// - the result is at most `max_bytes` long, cut on a UTF-8 character boundary.
/// Only the first protocol::kMaxSanitizerInputBytes of `in` are looked at.
std::string sanitizeIdpString(std::string_view in, size_t max_bytes = protocol::kMaxSanitizedBytes);

/// A URL (or any identifier) from a peer, for an operator's error message: only printable
/// ASCII without spaces is kept (percent-encoded UTF-8 stays encoded), at most `max_bytes`
/// followed by "..." when cut. Unlike sanitizeIdpString it keeps URLs readable; it is for
/// messages, never for stored event details.
std::string displayUrl(std::string_view in, size_t max_bytes = 200);

}  // namespace tether::oauth
