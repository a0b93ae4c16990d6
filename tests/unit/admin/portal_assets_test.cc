// The embedded portal (portal/dist compiled in by portal/portal.cmake) is complete and
// servable: an index.html, every file it references present, sane content types.

#include "admin/portal_assets.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace tether::admin {
namespace {

using testing::HasSubstr;
using testing::StartsWith;

const PortalAsset* find(std::string_view path) {
  for (const auto& a : portalAssets()) {
    if (a.path == path) return &a;
  }
  return nullptr;
}

TEST(PortalAssetsTest, HasAnIndexPageServedAsHtml) {
  const PortalAsset* index = find("/portal/index.html");
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
  EXPECT_THAT(std::string(index->body), StartsWith("<!doctype html>"));
}

TEST(PortalAssetsTest, EveryFileTheIndexReferencesIsEmbedded) {
  const std::string html(find("/portal/index.html")->body);
  // Every src="/portal/..." and href="/portal/..." (no std::regex: g++ 12 warns inside it
  // at -O1, which the sanitizer build treats as an error).
  int refs = 0;
  for (const std::string attr : {"src=\"/portal/", "href=\"/portal/"}) {
    for (size_t pos = html.find(attr); pos != std::string::npos; pos = html.find(attr, pos + 1)) {
      const size_t start = pos + attr.size() - std::string("/portal/").size();
      const size_t end = html.find('"', start);
      ASSERT_NE(end, std::string::npos);
      const std::string path = html.substr(start, end - start);
      ++refs;
      EXPECT_NE(find(path), nullptr) << path;
    }
  }
  // A real build references its script; the placeholder (no npm) references nothing.
  if (html.find("<script") != std::string::npos) {
    EXPECT_GE(refs, 1);
  }
  // Tether's CSP forbids inline scripts: every script is a file.
  EXPECT_EQ(html.find("<script>"), std::string::npos);
}

TEST(PortalAssetsTest, PathsAreUniqueSortedAndTyped) {
  auto assets = portalAssets();
  ASSERT_FALSE(assets.empty());
  EXPECT_TRUE(std::is_sorted(assets.begin(), assets.end(),
                             [](const auto& a, const auto& b) { return a.path < b.path; }));
  for (size_t i = 0; i < assets.size(); ++i) {
    const auto& a = assets[i];
    EXPECT_THAT(std::string(a.path), StartsWith("/portal/"));
    if (i > 0) {
      EXPECT_NE(a.path, assets[i - 1].path);
    }
    EXPECT_FALSE(a.body.empty()) << a.path;
    if (a.path.ends_with(".js")) {
      EXPECT_EQ(a.content_type, "text/javascript; charset=utf-8");
    }
    if (a.path.ends_with(".css")) {
      EXPECT_EQ(a.content_type, "text/css; charset=utf-8");
    }
    if (a.path.ends_with(".svg")) {
      EXPECT_EQ(a.content_type, "image/svg+xml");
    }
    EXPECT_NE(a.content_type, "") << a.path;
  }
}

TEST(PortalAssetsTest, BytesSurviveEmbeddingExactly) {
  // The favicon is a small checked-in file: its bytes round-trip through the hex literal.
  const PortalAsset* icon = find("/portal/favicon.svg");
  if (!icon) GTEST_SKIP() << "built without the portal";
  EXPECT_THAT(std::string(icon->body), StartsWith("<svg xmlns=\"http://www.w3.org/2000/svg\""));
  EXPECT_THAT(std::string(icon->body), HasSubstr("</svg>"));
}

}  // namespace
}  // namespace tether::admin
