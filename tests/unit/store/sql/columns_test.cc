#include "store/sql/columns.h"

#include <gtest/gtest.h>

namespace tether::store::sql {
namespace {

constexpr auto kCols =
    columns("kind", "t.expires_at", "CASE WHEN t.kind IS NULL THEN 0 ELSE 1 END AS token_acquired");

// Names become positions at compile time (a wrong name would not compile).
static_assert(kCols("kind") == 0);
static_assert(kCols("expires_at") == 1);
static_assert(kCols("token_acquired") == 2);
static_assert(kCols.size() == 3);

TEST(ColumnsTest, NamesAreAliasesOrUnqualifiedColumns) {
  EXPECT_EQ(kCols.name(0), "kind");
  EXPECT_EQ(kCols.name(1), "expires_at");
  EXPECT_EQ(kCols.name(2), "token_acquired");
  EXPECT_EQ(kCols.expression(1), "t.expires_at");
}

TEST(ColumnsTest, TheStatementTextIsBuiltFromTheSameList) {
  EXPECT_EQ(kCols.sql(),
            "kind, t.expires_at, CASE WHEN t.kind IS NULL THEN 0 ELSE 1 END AS token_acquired");
  EXPECT_EQ(columns("value").sql(), "value");
}

TEST(ColumnsTest, PlusAppendsWithoutMovingExistingColumns) {
  constexpr auto kMore = kCols.plus("state_hash", "x.y AS z");
  static_assert(kMore.size() == 5);
  static_assert(kMore("kind") == kCols("kind"));
  static_assert(kMore("token_acquired") == kCols("token_acquired"));
  static_assert(kMore("state_hash") == 3);
  static_assert(kMore("z") == 4);
  EXPECT_EQ(kMore.sql().rfind(kCols.sql(), 0), 0u);
}

TEST(ColumnsTest, SameNamesComparesTheRowShape) {
  constexpr auto kPlain = columns("id", "at");
  constexpr auto kJoined = columns("e.id", "e.at");
  constexpr auto kOther = columns("e.at", "e.id");
  static_assert(kJoined.sameNames(kPlain));
  static_assert(!kOther.sameNames(kPlain));
  static_assert(!kPlain.sameNames(kCols));
  SUCCEED();
}

}  // namespace
}  // namespace tether::store::sql
