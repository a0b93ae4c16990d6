// Admin keys on the Authorization header (admin/admin_auth.h): which key a request
// presents, and what a caller reads when it presents none, a malformed one or a wrong one.
#include "admin/admin_auth.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/digest.h"

namespace tether::admin {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kOps = "ops-admin-key-0123456789";
const std::string kHashed = "hashed-admin-key-0123456789";

http::Request withAuthorization(std::optional<std::string> value) {
  http::Request r;
  if (value) r.headers.push_back({"Authorization", *value});
  return r;
}

AdminAuth configured() {
  return AdminAuth(
      {{"ops", kOps, core::sha256(kOps), false}, {"hashed", "", core::sha256(kHashed), true}});
}

TEST(AdminAuthTest, APresentedKeyNamesItsId) {
  const AdminAuth auth = configured();
  EXPECT_TRUE(auth.configured());
  auto ops = auth.authenticate(withAuthorization("Bearer " + kOps));
  ASSERT_TRUE(ops.ok()) << ops.error().message;
  EXPECT_EQ(*ops, "ops");
  // A key configured only as its SHA-256 works the same.
  EXPECT_EQ(auth.authenticate(withAuthorization("Bearer " + kHashed)).value(), "hashed");
  // The scheme is case-insensitive; extra spaces before the key are tolerated.
  EXPECT_EQ(auth.authenticate(withAuthorization("bearer   " + kOps)).value(), "ops");
}

TEST(AdminAuthTest, EachRefusalSaysWhatIsWrongAndNeverEchoesTheKey) {
  const AdminAuth auth = configured();
  auto none = auth.authenticate(withAuthorization(std::nullopt));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, core::Errc::kUnauthenticated);
  EXPECT_THAT(none.error().message, HasSubstr("Authorization: Bearer"));

  auto basic = auth.authenticate(withAuthorization("Basic b3BzOnNlY3JldA=="));
  ASSERT_FALSE(basic.ok());
  EXPECT_THAT(basic.error().message, HasSubstr("must be Bearer"));

  const std::string wrong = "not-a-configured-key-0123";
  auto unknown = auth.authenticate(withAuthorization("Bearer " + wrong));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, core::Errc::kUnauthenticated);
  EXPECT_THAT(unknown.error().message, HasSubstr("not valid"));
  EXPECT_THAT(unknown.error().message, Not(HasSubstr(wrong)));
  // A prefix of a real key is not the key.
  EXPECT_FALSE(auth.authenticate(withAuthorization("Bearer " + kOps.substr(0, 10))).ok());
}

TEST(AdminAuthTest, WithoutConfiguredKeysTheApiIsClosed) {
  const AdminAuth auth({});
  EXPECT_FALSE(auth.configured());
  auto r = auth.authenticate(withAuthorization("Bearer " + kOps));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("closed"));
  EXPECT_THAT(r.error().message, HasSubstr("admin.keys"));
}

}  // namespace
}  // namespace tether::admin
