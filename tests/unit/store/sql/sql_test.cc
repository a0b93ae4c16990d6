#include "store/sql/sql.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tether::store::sql {
namespace {

using core::Errc;
using core::Error;
using core::Result;
using core::Status;

// Records statements; fails the one equal to `fail_on`.
class RecordingSession final : public Session {
 public:
  using Session::query;
  std::vector<std::string> statements;
  std::string fail_on;

  Result<ResultSet> query(std::string_view sql, std::span<const Param>) override {
    statements.emplace_back(sql);
    if (sql == fail_on) return Error(Errc::kUnavailable, "lost");
    return ResultSet{};
  }
  Status forEach(std::string_view, std::span<const Param>, const RowCallback&) override {
    return core::okStatus();
  }
  Status script(std::string_view) override { return core::okStatus(); }
  bool healthy() const override { return true; }
};

TEST(SqlTest, TransactionCommitsWhenTheBodySucceeds) {
  RecordingSession s;
  auto r = inTransaction(s, "BEGIN IMMEDIATE", [&]() -> Result<int> {
    TETHER_TRY(s.query("UPDATE t SET x = 1"));
    return 5;
  });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 5);
  EXPECT_EQ(s.statements,
            (std::vector<std::string>{"BEGIN IMMEDIATE", "UPDATE t SET x = 1", "COMMIT"}));
}

TEST(SqlTest, TransactionRollsBackWhenTheBodyFails) {
  RecordingSession s;
  s.fail_on = "UPDATE t SET x = 1";
  auto st = inTransaction(s, "BEGIN", [&]() -> Status {
    TETHER_TRY(s.query("UPDATE t SET x = 1"));
    ADD_FAILURE() << "the body went on after a failure";
    return core::okStatus();
  });
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, Errc::kUnavailable);
  EXPECT_EQ(s.statements, (std::vector<std::string>{"BEGIN", "UPDATE t SET x = 1", "ROLLBACK"}));
}

TEST(SqlTest, TransactionRollsBackWhenTheCommitFailsAndNeverRunsWithoutBegin) {
  RecordingSession s;
  s.fail_on = "COMMIT";
  auto st = inTransaction(s, "BEGIN", [] { return core::okStatus(); });
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(s.statements, (std::vector<std::string>{"BEGIN", "COMMIT", "ROLLBACK"}));

  RecordingSession t;
  t.fail_on = "BEGIN";
  bool ran = false;
  auto not_begun = inTransaction(t, "BEGIN", [&] {
    ran = true;
    return core::okStatus();
  });
  EXPECT_FALSE(not_begun.ok());
  EXPECT_FALSE(ran);
  EXPECT_EQ(t.statements, (std::vector<std::string>{"BEGIN"}));
}

// Named values, not temporaries: GCC 12 at -O1 (the ASan build) warns that a temporary
// variant's string "may be used uninitialized" (a false positive, fatal with -Werror).
TEST(SqlTest, ValuesReadAsTheirTypeOrAConversion) {
  const Value null_value;
  EXPECT_TRUE(null_value.isNull());
  EXPECT_EQ(null_value.asInt(), 0);
  EXPECT_EQ(null_value.asText(), "");
  EXPECT_EQ(null_value.optText(), std::nullopt);
  const Value answer = Value::ofInt(42);
  EXPECT_EQ(answer.asText(), "42");
  const Value digits = Value::ofText("17");
  EXPECT_EQ(digits.asInt(), 17);
  const Value text = Value::ofText("x");
  EXPECT_EQ(text.optText(), "x");
}

}  // namespace
}  // namespace tether::store::sql
