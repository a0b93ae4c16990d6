// Fuzzes the discovery document parsers and the well-known URL builders (RFC 9728, RFC 8414,
// OIDC Discovery): input split at the first NUL into a document and a URL.
#include <cstdint>
#include <string_view>

#include "fuzz_util.h"
#include "oauth/metadata.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tether;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto nul = in.find('\0');
  const std::string_view doc = in.substr(0, nul);
  const std::string_view url =
      nul == std::string_view::npos ? "https://a.example" : in.substr(nul + 1);
  if (auto m = oauth::parseAuthorizationServerMetadata(doc, url); m.ok()) {
    fuzz::check(!m->issuer.empty() && !m->token_endpoint.empty());
    (void)oauth::requireS256(*m);
  }
  if (auto p = oauth::parseProtectedResourceMetadata(doc); p.ok()) {
    fuzz::check(!p->resource.empty());
    (void)oauth::resourceCovers(p->resource, url);
  }
  const auto as = oauth::authorizationServerMetadataUrls(url);
  fuzz::check(as.empty() || as.size() == 2 || as.size() == 3);
  const auto pr = oauth::protectedResourceMetadataUrls(url);
  fuzz::check(pr.size() <= 2);
  return 0;
}
