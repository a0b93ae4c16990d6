#include "core/random.h"

#include <cstdlib>

#include <openssl/rand.h>

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

}  // namespace tether::core
