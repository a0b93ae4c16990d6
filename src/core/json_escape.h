#pragma once
/// Minimal JSON string escaping for hand-built JSON (log lines, error bodies). Invalid
/// UTF-8 bytes are replaced by U+FFFD so the output is always valid JSON.

#include <string>
#include <string_view>

namespace tether::core {

/// Appends `"<escaped s>"` to `out`.
void appendJsonString(std::string& out, std::string_view s);

/// Returns `"<escaped s>"`.
std::string jsonString(std::string_view s);

}  // namespace tether::core
