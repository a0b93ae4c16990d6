#include "oauth/sanitize.h"

#include <cstdint>

namespace tether::oauth {
namespace {

// Length of the well-formed UTF-8 sequence starting at s[i], or 0 if it is not one.
size_t utf8SequenceLength(std::string_view s, size_t i) {
  const auto b0 = static_cast<uint8_t>(s[i]);
  if (b0 < 0x80) return 1;
  size_t len = 0;
  uint32_t cp = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<uint8_t>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not valid UTF-8.
  if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
      (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
    return 0;
  }
  return len;
}

uint32_t decodeCodePoint(std::string_view s, size_t i, size_t len) {
  const auto b0 = static_cast<uint8_t>(s[i]);
  if (len == 1) return b0;
  uint32_t cp = b0 & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
  for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<uint8_t>(s[i + k]) & 0x3F);
  return cp;
}

bool isDroppedCodePoint(uint32_t cp) {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

// Length of a complete CSI sequence (ESC '[' params intermediates final) at s[i], or 0.
size_t csiLength(std::string_view s, size_t i) {
  if (i + 1 >= s.size() || s[i + 1] != '[') return 0;
  size_t j = i + 2;
  while (j < s.size() && s[j] >= 0x30 && s[j] <= 0x3F) ++j;
  while (j < s.size() && s[j] >= 0x20 && s[j] <= 0x2F) ++j;
  if (j < s.size() && s[j] >= 0x40 && s[j] <= 0x7E) return j + 1 - i;
  return 0;
}

// Step 1: valid UTF-8 without control characters.
std::string dropControls(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  size_t i = 0;
  while (i < in.size()) {
    if (in[i] == '\x1b') {
      const size_t csi = csiLength(in, i);
      i += csi ? csi : 1;
      continue;
    }
    const size_t len = utf8SequenceLength(in, i);
    if (len == 0) {
      ++i;
      continue;
    }
    if (!isDroppedCodePoint(decodeCodePoint(in, i, len))) out.append(in.substr(i, len));
    i += len;
  }
  return out;
}

// Step 2: words containing "://" become the marker.
std::string replaceUrls(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  size_t i = 0;
  while (i < in.size()) {
    if (in[i] == ' ') {
      out += ' ';
      ++i;
      continue;
    }
    size_t end = in.find(' ', i);
    if (end == std::string_view::npos) end = in.size();
    const std::string_view word = in.substr(i, end - i);
    if (word.find("://") != std::string_view::npos) {
      out.append(kUrlMarker);
    } else {
      out.append(word);
    }
    i = end;
  }
  return out;
}

}  // namespace

std::string sanitizeIdpString(std::string_view in, size_t max_bytes) {
  if (in.size() > protocol::kMaxSanitizerInputBytes) {
    in = in.substr(0, protocol::kMaxSanitizerInputBytes);
  }
  std::string out = replaceUrls(dropControls(in));
  if (out.size() > max_bytes) {
    size_t cut = max_bytes;
    // The text is valid UTF-8 here: back off continuation bytes to a character start.
    while (cut > 0 && (static_cast<uint8_t>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
  }
  return out;
}

std::string displayUrl(std::string_view in, size_t max_bytes) {
  std::string out;
  for (char c : in) {
    if (c <= 0x20 || c >= 0x7f) continue;
    if (out.size() == max_bytes) {
      out += "...";
      break;
    }
    out += c;
  }
  return out;
}

}  // namespace tether::oauth
