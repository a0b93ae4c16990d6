#include "core/errors.h"

#include <gtest/gtest.h>

namespace tether::core {
namespace {

TEST(ErrorTableTest, EveryCodeHasItsOwnRow) {
  for (int c = 0; c <= static_cast<int>(Errc::kInternal); ++c) {
    const auto code = static_cast<Errc>(c);
    EXPECT_EQ(errorInfo(code).code, code) << "missing row for error code " << c;
  }
}

TEST(ErrorTableTest, TokenTroubleIsNeverABare401) {
  // A 401 would make MCP clients start their own OAuth dance against the gateway.
  EXPECT_NE(errorInfo(Errc::kNeedsReauth).http_status, 401);
  EXPECT_EQ(errorInfo(Errc::kTemporarilyUnavailable).http_status, 503);
  EXPECT_EQ(errorInfo(Errc::kPayloadTooLarge).http_status, 413);
  EXPECT_EQ(errorInfo(Errc::kHeadersTooLarge).http_status, 431);
}

TEST(ErrorTableTest, ErrorJsonIsEscaped) {
  EXPECT_EQ(errorJson(Error(Errc::kNotFound, "connection \"x\" not found")),
            R"({"error":{"code":"not_found","message":"connection \"x\" not found"}})");
  EXPECT_EQ(errorJson(Error(Errc::kInternal, "")),
            R"({"error":{"code":"internal","message":"Internal error."}})");
}

}  // namespace
}  // namespace tether::core
