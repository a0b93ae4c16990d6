#include "admin/client_metadata_route.h"

#include "oauth/registration.h"

namespace tether::admin {

void registerClientMetadataRoute(http::Router& router, const std::string& public_url,
                                 const std::string& client_metadata_url) {
  router.add("GET", std::string(oauth::kClientMetadataPath),
             [&public_url, &client_metadata_url](http::Request&, http::Responder r) {
               auto res = http::Response::json(
                   200, oauth::clientMetadataDocument(public_url, client_metadata_url));
               // Servers cache the document (the draft lets them); it changes only with
               // public_url, i.e. with a restart.
               res.headers.push_back({"Cache-Control", "public, max-age=3600"});
               res.headers.push_back({"X-Content-Type-Options", "nosniff"});
               r.send(std::move(res));
             });
}

}  // namespace tether::admin
