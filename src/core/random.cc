#include "core/random.h"

#include <openssl/rand.h>

#include <cstdint>
#include <cstdlib>

#include "core/encoding.h"

namespace tether::core {

std::string randomBytes(size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    std::abort();
  }
  return out;
}

std::string randomToken(size_t n) { return base64UrlEncode(randomBytes(n)); }

std::string newId() { return hexEncode(randomBytes(16)); }

std::string newRequestId() {
  thread_local const std::string prefix = hexEncode(randomBytes(8));
  thread_local uint64_t counter = 0;
  ++counter;
  char tail[8];
  for (int i = 7; i >= 0; --i) tail[7 - i] = static_cast<char>((counter >> (i * 8)) & 0xFF);
  return prefix + hexEncode(std::string_view(tail, 8));
}

}  // namespace tether::core
