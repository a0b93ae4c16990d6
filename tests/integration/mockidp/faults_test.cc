#include "mockidp/faults.h"

#include <gtest/gtest.h>

namespace tether::mockidp {
namespace {

TEST(FaultsTest, FlagFormAndJsonFormAgree) {
  const auto a = parseFaultRule("status_503,grant=refresh_token,times=3,retry_after=120");
  const auto b = parseFaultRule(
      R"({"kind":"status","status":503,"grant":"refresh_token","times":3,"retry_after":"120"})");
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(faultRuleJson(a.value()), faultRuleJson(b.value()));
  EXPECT_EQ(a->fault.kind, FaultKind::kStatus);
  EXPECT_EQ(a->fault.status, 503);
  EXPECT_EQ(a->endpoint, "token");
}

TEST(FaultsTest, RejectsUnknownKindsAndKeys) {
  EXPECT_FALSE(parseFaultRule("explode").ok());
  EXPECT_FALSE(parseFaultRule("status_503,colour=red").ok());
  EXPECT_FALSE(parseFaultRule("status_999").ok());
  EXPECT_FALSE(parseFaultRule("oauth_error,format=xml").ok());
  EXPECT_FALSE(parseFaultRule("drop,times=0").ok());
  EXPECT_FALSE(parseFaultRule("{\"kind\":").ok());
  EXPECT_FALSE(parseFaultRule("status_500,times").ok());
}

TEST(FaultsTest, QueueConsumesInOrderByScope) {
  FaultQueue q;
  q.add(parseFaultRule("status_503,grant=refresh_token,times=2").value());
  q.add(parseFaultRule("html_403,grant=refresh_token").value());
  q.add(parseFaultRule("drop,endpoint=jwks,times=-1").value());
  EXPECT_FALSE(q.take("token", "client_credentials").has_value());
  EXPECT_EQ(q.take("token", "refresh_token")->kind, FaultKind::kStatus);
  EXPECT_EQ(q.take("token", "refresh_token")->kind, FaultKind::kStatus);
  EXPECT_EQ(q.take("token", "refresh_token")->kind, FaultKind::kHtml403);
  EXPECT_FALSE(q.take("token", "refresh_token").has_value());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(q.take("jwks", "")->kind, FaultKind::kDrop);
  EXPECT_EQ(q.pending().size(), 1u);
  q.clear();
  EXPECT_TRUE(q.pending().empty());
}

TEST(FaultsTest, ArrayOfRules) {
  const auto rules = parseFaultRules(
      R"([{"kind":"pass"},{"kind":"oauth_error","error":"invalid_grant","format":"form"}])");
  ASSERT_TRUE(rules.ok());
  ASSERT_EQ(rules->size(), 2u);
  EXPECT_EQ((*rules)[1].fault.format, ErrorFormat::kForm);
}

}  // namespace
}  // namespace tether::mockidp
