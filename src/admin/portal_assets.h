#pragma once
/// The operator portal's files (portal/dist, built by `npm run build:portal`), compiled into
/// the binary by portal/portal.cmake as the library `tether_portal_assets`. The table is
/// generated (build/generated/portal_assets.cc); this header is its only interface.
///
/// Thread-safety: the table is immutable static data; call portalAssets() from any thread.

#include <span>
#include <string_view>

namespace tether::admin {

/// One file of the portal.
struct PortalAsset {
  /// The URL path it is served under: "/portal/index.html", "/portal/assets/index-1a2b.js".
  /// File names under /portal/assets/ carry a content hash and never change content.
  std::string_view path;
  /// The Content-Type to send, with "; charset=utf-8" for text.
  std::string_view content_type;
  /// The file's bytes (may contain NULs; not NUL-terminated as far as the view goes).
  std::string_view body;
};

/// Every file of the portal, sorted by path. Contains "/portal/index.html" (the SPA
/// fallback for /portal/*); when the portal was built without npm, that page says so.
std::span<const PortalAsset> portalAssets();

}  // namespace tether::admin
