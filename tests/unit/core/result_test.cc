#include "core/result.h"

#include <gtest/gtest.h>

#include <string>

namespace tether::core {
namespace {

Result<int> parsePositive(int v) {
  if (v <= 0) return Error(Errc::kInvalidArgument, "not positive: " + std::to_string(v));
  return v;
}

Status check(int v) {
  if (v == 13) return Error(Errc::kConflict, "unlucky");
  return okStatus();
}

Result<int> doubled(int v) {
  TETHER_TRY(check(v));
  TETHER_TRY_ASSIGN(int p, parsePositive(v));
  TETHER_TRY_ASSIGN(const int q, parsePositive(p + 1));
  return p + q - 1;
}

TEST(ResultPropagation, ValuesFlowThroughAndTheFirstErrorIsReturnedUnchanged) {
  auto ok = doubled(4);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 8);

  auto bad = doubled(-2);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::kInvalidArgument);
  EXPECT_EQ(bad.error().message, "not positive: -2");

  auto unlucky = doubled(13);
  ASSERT_FALSE(unlucky.ok());
  EXPECT_EQ(unlucky.error().code, Errc::kConflict);
}

}  // namespace
}  // namespace tether::core
