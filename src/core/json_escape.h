#pragma once
/// Escaping for hand-built documents: JSON strings (log lines, error bodies; invalid UTF-8
/// bytes are replaced by U+FFFD so the output is always valid JSON) and HTML text and
/// attribute values (pages the gateway and the mock IdP serve).

#include <string>
#include <string_view>

namespace tether::core {

/// Appends `"<escaped s>"` to `out`.
void appendJsonString(std::string& out, std::string_view s);

/// Returns `"<escaped s>"`.
std::string jsonString(std::string_view s);

/// `s` with & < > " ' as character references: safe in HTML text and quoted attributes.
std::string htmlEscape(std::string_view s);

}  // namespace tether::core
