#include "http/router.h"

#include <gtest/gtest.h>

namespace tether::http {
namespace {

Handler noop() {
  return [](Request&, Responder r) { r.send(Response::text(200, "")); };
}

TEST(RouterTest, LiteralParamAndTailMatching) {
  Router r;
  r.add("GET", "/healthz", noop());
  r.add("GET", "/api/v1/admin/connections/{kind}/{name}", noop());
  r.add("GET", "/api/v1/admin/connections/oauth-health", noop());
  r.add("*", "/api/{name}/{path*}", noop());

  auto m = r.match("GET", "/api/v1/admin/connections/mcp/demo");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.params["kind"], "mcp");
  EXPECT_EQ(m.params["name"], "demo");
  EXPECT_EQ(m.pattern, "/api/v1/admin/connections/{kind}/{name}");

  // Literal wins over a parameter at the same depth.
  m = r.match("GET", "/api/v1/admin/connections/oauth-health");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.pattern, "/api/v1/admin/connections/oauth-health");

  m = r.match("DELETE", "/api/github/repos/a%2Fb/issues");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.params["name"], "github");
  EXPECT_EQ(m.params["path"], "repos/a%2Fb/issues");  // tail kept raw for proxying

  // The tail may be empty, with or without the slash: /api/github is the API's base URL.
  m = r.match("GET", "/api/github");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.params["path"], "");
  EXPECT_EQ(r.match("GET", "/api").kind, RouteMatch::Kind::kNotFound);
  m = r.match("GET", "/api/github/");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.params["path"], "");
}

TEST(RouterTest, MethodNotAllowedListsAllowedMethods) {
  Router r;
  r.add("GET", "/x", noop());
  r.add("POST", "/x", noop());
  auto m = r.match("DELETE", "/x");
  EXPECT_EQ(m.kind, RouteMatch::Kind::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "GET, POST");
  EXPECT_EQ(r.match("HEAD", "/x").kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(r.match("GET", "/y").kind, RouteMatch::Kind::kNotFound);
}

TEST(RouterTest, ParametersArePercentDecoded) {
  Router r;
  r.add("GET", "/c/{name}", noop());
  auto m = r.match("GET", "/c/my%20conn");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.params["name"], "my conn");
  EXPECT_EQ(r.match("GET", "/c/").kind, RouteMatch::Kind::kNotFound);
}

TEST(RouterTest, BadPatternsThrowAtStartUp) {
  Router r;
  EXPECT_THROW(r.add("GET", "nope", noop()), std::invalid_argument);
  EXPECT_THROW(r.add("GET", "/a/{rest*}/b", noop()), std::invalid_argument);
  r.add("GET", "/dup", noop());
  EXPECT_THROW(r.add("GET", "/dup", noop()), std::invalid_argument);
}

}  // namespace
}  // namespace tether::http
