#pragma once
/// The one redaction facility. Every log line, auth event detail and error message that
/// might carry request material passes through here, so secrets never leave the process
/// in text. Thread-safe.
///
/// Secrets recognised by shape: the headers Authorization, Proxy-Authorization, Cookie,
/// Set-Cookie (and X-Api-Key); the parameters access_token, refresh_token, id_token,
/// client_secret, code, code_verifier, password, assertion (and client_assertion,
/// subject_token, device_code) in query strings, form bodies and JSON; OAuth `state` in query
/// strings and form bodies (`state=...`; a connection's `"state"` in JSON is not one);
/// `Bearer`/`Basic` credentials anywhere in text. Secrets recognised by value: anything registered
/// with `registerSecret` (configured client secrets, admin keys, the encryption key).

#include <string>
#include <string_view>

namespace tether::core {

inline constexpr std::string_view kRedacted = "[REDACTED]";

/// True for header names whose values are credentials (case-insensitive).
bool isSecretHeader(std::string_view name);

/// True for parameter or JSON member names whose values are credentials (case-insensitive).
bool isSecretParam(std::string_view name);

/// A header value as it may be logged: the value itself, or kRedacted for secret headers.
std::string redactHeader(std::string_view name, std::string_view value);

/// Text with every secret (by shape or registered value) replaced by kRedacted.
std::string redactText(std::string_view text);

/// Registers a secret value so that `redactText` masks it wherever it appears. Values
/// shorter than 6 bytes are ignored (too likely to occur by chance).
void registerSecret(std::string_view value);

/// Forgets every registered secret (tests).
void clearRegisteredSecrets();

}  // namespace tether::core
