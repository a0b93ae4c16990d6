#include "admin/portal_routes.h"

#include <string_view>

#include "admin/portal_assets.h"

namespace tether::admin {
namespace {

constexpr std::string_view kCsp =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' "
    "data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'";

const PortalAsset* findAsset(std::string_view path) {
  for (const auto& a : portalAssets()) {
    if (a.path == path) return &a;
  }
  return nullptr;
}

http::Response serve(const PortalAsset& asset) {
  http::Response res;
  res.status = 200;
  res.headers.push_back({"Content-Type", std::string(asset.content_type)});
  // Built assets have content hashes in their names; index.html must be revalidated.
  const bool hashed = asset.path.starts_with("/portal/assets/");
  res.headers.push_back(
      {"Cache-Control", hashed ? "public, max-age=31536000, immutable" : "no-cache"});
  res.headers.push_back({"Content-Security-Policy", std::string(kCsp)});
  res.headers.push_back({"X-Content-Type-Options", "nosniff"});
  res.headers.push_back({"X-Frame-Options", "DENY"});
  res.headers.push_back({"Referrer-Policy", "same-origin"});
  res.body = std::string(asset.body);
  return res;
}

}  // namespace

void registerPortalRoutes(http::Router& router) {
  router.add("GET", "/portal", [](http::Request&, http::Responder r) {
    r.send(http::Response::redirect("/portal/", 301));
  });
  router.add("GET", "/portal/{rest*}", [](http::Request& req, http::Responder r) {
    std::string_view path = req.path;
    if (path == "/portal/") path = "/portal/index.html";
    if (const PortalAsset* asset = findAsset(path)) return r.send(serve(*asset));
    // A missing file (a name with an extension) is a 404; any other path is an app route.
    const auto slash = path.rfind('/');
    if (path.substr(slash).find('.') != std::string_view::npos) {
      return r.send(http::Response::text(404, "not found\n"));
    }
    const PortalAsset* index = findAsset("/portal/index.html");
    if (!index)
      return r.send(http::Response::text(404, "the portal is not built into this binary\n"));
    r.send(serve(*index));
  });
}

}  // namespace tether::admin
