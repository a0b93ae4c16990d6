#include "store/sql/store_context.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace tether::store::sql {
namespace {

using core::Errc;
using core::Error;
using core::Result;
using core::Status;

TEST(StoreContextTest, TimesAreStoredAsEpochMilliseconds) {
  const TimePoint t = core::fromUnixSeconds(1'800'000'000) + std::chrono::milliseconds(123);
  EXPECT_EQ(toMs(t), 1'800'000'000'123);
  EXPECT_EQ(fromMs(toMs(t)), t);
  EXPECT_EQ(optMs(std::nullopt), std::nullopt);
  EXPECT_EQ(optMs(t), 1'800'000'000'123);
  EXPECT_EQ(optTime(Value()), std::nullopt);
  EXPECT_EQ(optTime(Value::ofInt(1'800'000'000'123)), t);
}

TEST(StoreContextTest, ContextNamesTheOperationAndSubjectAndKeepsTheCode) {
  const Error e(Errc::kUnavailable, "database is locked");
  EXPECT_EQ(withContext(e, "put token", "mcp/demo").message,
            "store: put token mcp/demo: database is locked");
  EXPECT_EQ(withContext(e, "prune events", "").message, "store: prune events: database is locked");
  EXPECT_EQ(withContext(e, "x", "y").code, Errc::kUnavailable);
}

TEST(StoreContextTest, AnnotatedPrefixesFailuresOnlyAndPropagatesEarlyReturns) {
  int reached = 0;
  auto body = [&](bool fail) {
    return annotated("get token", "mcp/demo", [&]() -> Result<int> {
      TETHER_TRY(fail ? Status(Error(Errc::kStore, "boom")) : core::okStatus());
      ++reached;
      return 7;
    });
  };
  auto ok = body(false);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 7);
  auto failed = body(true);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, Errc::kStore);
  EXPECT_EQ(failed.error().message, "store: get token mcp/demo: boom");
  EXPECT_EQ(reached, 1);
}

TEST(StoreContextTest, KeysAndTextsAreBounded) {
  EXPECT_TRUE(checkKey({"mcp", "demo"}, "op").ok());
  auto empty = checkKey({"mcp", ""}, "get token");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, Errc::kInvalidArgument);
  EXPECT_EQ(empty.error().message, "store: get token: connection kind and name must not be empty");
  EXPECT_EQ(checkKey({"mcp", std::string(kMaxKeyPart + 1, 'x')}, "op").error().code,
            Errc::kInvalidArgument);
  EXPECT_TRUE(checkText("scope", std::string(kMaxText, 'x')).ok());
  auto long_text = checkTexts({{"scope", "ok"}, {"idp_host", std::string(kMaxText + 1, 'x')}});
  ASSERT_FALSE(long_text.ok());
  EXPECT_NE(long_text.error().message.find("idp_host is too long"), std::string::npos);
}

TEST(StoreContextTest, SealingAadsBindTableRowAndColumn) {
  EXPECT_NE(tokenAad({"mcp", "demo"}, "access_token"), tokenAad({"mcp", "demo"}, "refresh_token"));
  EXPECT_NE(tokenAad({"mcp", "demo"}, "access_token"), tokenAad({"mcp", "demox"}, "access_token"));
  EXPECT_EQ(flowAad("h"), flowAad("h", "pkce_verifier"));
  EXPECT_NE(flowAad("h"), clientAad("h", "pkce_verifier"));
  EXPECT_EQ(keyCheckAad(), sealingAad("meta", {"key_check"}, "value"));
}

}  // namespace
}  // namespace tether::store::sql
