#include "flows/scope_selection.h"

#include <gtest/gtest.h>

namespace tether::flows {
namespace {

TEST(ScopeSelectionTest, OperatorScopesWinOverDiscoveredOnes) {
  const auto s = selectScopes({"openid files:read", "mcp:tools", ""});
  EXPECT_EQ(s.scopes, "openid files:read");
  EXPECT_EQ(s.source, "configured");
}

TEST(ScopeSelectionTest, DiscoveredScopesWhenNoneAreConfigured) {
  const auto s = selectScopes({"", "mcp:basic  mcp:read", ""});
  EXPECT_EQ(s.scopes, "mcp:basic mcp:read");
  EXPECT_EQ(s.source, "discovered");
}

TEST(ScopeSelectionTest, NothingKnownOmitsTheParameter) {
  const auto s = selectScopes({"", "", ""});
  EXPECT_EQ(s.scopes, "");
  EXPECT_EQ(s.source, "none");
  EXPECT_TRUE(s.warning.empty());
}

TEST(ScopeSelectionTest, StepUpScopesAreAddedToWhateverWasSelected) {
  EXPECT_EQ(selectScopes({"", "mcp:basic", "mcp:basic mcp:write"}).scopes, "mcp:basic mcp:write");
  const auto configured = selectScopes({"openid", "mcp:basic", "mcp:basic mcp:write"});
  EXPECT_EQ(configured.scopes, "openid mcp:basic mcp:write");
  EXPECT_EQ(configured.source, "configured+step_up");
  EXPECT_EQ(selectScopes({"", "", "mcp:write"}).scopes, "mcp:write");
}

TEST(ScopeSelectionTest, AHostileDiscoveredListIsIgnoredNotCut) {
  std::string many;
  for (int i = 0; i < 500; ++i) many += " s" + std::to_string(i);
  const auto s = selectScopes({"", many, ""});
  EXPECT_EQ(s.scopes, "");
  EXPECT_NE(s.warning.find("more than 100 scopes"), std::string::npos);
  const auto huge = selectScopes({"", std::string(64 * 1024, 'x'), "mcp:write"});
  EXPECT_EQ(huge.scopes, "mcp:write");
  EXPECT_NE(huge.warning.find("longer than"), std::string::npos);
}

}  // namespace
}  // namespace tether::flows
