// Fuzzes the IdP string sanitizer and checks its promises on every output.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "oauth/sanitize.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tether;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::string out = oauth::sanitizeIdpString(in);
  fuzz::check(out.size() <= 200);
  fuzz::check(out.find("://") == std::string::npos);
  size_t i = 0;
  while (i < out.size()) {
    const auto c = static_cast<unsigned char>(out[i]);
    fuzz::check(c >= 0x20 && c != 0x7F);
    const size_t len = c < 0x80         ? 1
                       : (c >> 5) == 6  ? 2
                       : (c >> 4) == 14 ? 3
                       : (c >> 3) == 30 ? 4
                                        : 0;
    fuzz::check(len != 0 && i + len <= out.size());
    for (size_t k = 1; k < len; ++k) {
      fuzz::check((static_cast<unsigned char>(out[i + k]) & 0xC0) == 0x80);
    }
    if (len == 2) fuzz::check(!(c == 0xC2 && static_cast<unsigned char>(out[i + 1]) < 0xA0));
    i += len;
  }
  return 0;
}
