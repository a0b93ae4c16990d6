// Portal sessions (admin/session.h) as an operator meets them: a cookie that works once the
// store said it is not signed out, expires, dies with its key or a sign-out (here, on
// another replica, after a restart), and cannot be forged or reused under another secret.
#include "admin/session.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "core/digest.h"

namespace tether::admin {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

/// The store's revocation table, in memory; `down` makes it unreachable.
class Revocations final : public store::SessionRevocationStore {
 public:
  core::Status revokeSession(std::string_view id, core::TimePoint expires_at) override {
    if (down) return core::Error(core::Errc::kUnavailable, "store down");
    revoked[std::string(id)] = expires_at;
    return core::okStatus();
  }
  core::Result<bool> isSessionRevoked(std::string_view id) override {
    ++reads;
    if (down) return core::Error(core::Errc::kUnavailable, "store down");
    return revoked.count(std::string(id)) > 0;
  }
  core::Result<int64_t> pruneSessionRevocations() override { return int64_t{0}; }

  std::map<std::string, core::TimePoint> revoked;
  bool down = false;
  int reads = 0;
};

config::AccessKey key(std::string id, std::string secret) {
  return {std::move(id), secret, core::sha256(secret), false};
}

class SessionTest : public ::testing::Test {
 protected:
  /// Signs in with `k`: the cookie value, checked against the store once.
  std::string signIn(const config::AccessKey& k, Session* session = nullptr) {
    const std::string cookie = codec_.issue(k, session);
    EXPECT_TRUE(codec_.checkRevocation(store_, cookie).ok());
    return cookie;
  }

  core::ManualClock clock_;
  Revocations store_;
  SessionCodec codec_{std::string(32, 'k'), clock_};
  config::AccessKey ops_ = key("ops", "ops-key-0123456789abcdef");
  std::vector<config::AccessKey> keys_ = {ops_};
};

TEST_F(SessionTest, ASignedInCookieNamesItsKeyAndCarriesTheCsrfToken) {
  Session issued;
  const std::string cookie = signIn(ops_, &issued);
  EXPECT_EQ(issued.key_id, "ops");
  EXPECT_FALSE(issued.csrf_token.empty());
  auto session = codec_.verify(cookie, keys_);
  ASSERT_TRUE(session);
  EXPECT_EQ(session->key_id, "ops");
  EXPECT_EQ(session->csrf_token, issued.csrf_token);
  // The admin key itself is never in the cookie.
  EXPECT_EQ(cookie.find(ops_.key), std::string::npos);
  // Two sign-ins are two sessions, with their own CSRF tokens.
  Session other;
  signIn(ops_, &other);
  EXPECT_NE(other.csrf_token, issued.csrf_token);
}

TEST_F(SessionTest, TheStoreIsAskedBeforeACookieIsTrusted) {
  const std::string cookie = codec_.issue(ops_, nullptr);
  EXPECT_TRUE(codec_.needsRevocationCheck(cookie));
  EXPECT_FALSE(codec_.verify(cookie, keys_));  // no answer yet: refused, not guessed
  ASSERT_TRUE(codec_.checkRevocation(store_, cookie).ok());
  EXPECT_FALSE(codec_.needsRevocationCheck(cookie));
  EXPECT_TRUE(codec_.verify(cookie, keys_));
  // The answer is trusted for kRevocationRecheck, then asked again.
  clock_.advance(kRevocationRecheck);
  EXPECT_TRUE(codec_.needsRevocationCheck(cookie));
  EXPECT_FALSE(codec_.verify(cookie, keys_));
  // A store that cannot answer is an error, not a pass.
  store_.down = true;
  EXPECT_FALSE(codec_.checkRevocation(store_, cookie).ok());
  EXPECT_FALSE(codec_.verify(cookie, keys_));
}

TEST_F(SessionTest, SignOutEndsTheSessionHereAndOnEveryReplicaWithinTheBound) {
  const std::string cookie = signIn(ops_);
  SessionCodec replica(std::string(32, 'k'), clock_);  // same secret, own cache
  ASSERT_TRUE(replica.checkRevocation(store_, cookie).ok());
  ASSERT_TRUE(replica.verify(cookie, keys_));

  ASSERT_TRUE(codec_.revoke(store_, cookie).ok());
  EXPECT_FALSE(codec_.verify(cookie, keys_));         // at once where it happened
  EXPECT_FALSE(codec_.needsRevocationCheck(cookie));  // a revocation is final
  EXPECT_TRUE(replica.verify(cookie, keys_));         // the replica's answer still holds
  clock_.advance(kRevocationRecheck);
  ASSERT_TRUE(replica.checkRevocation(store_, cookie).ok());
  EXPECT_FALSE(replica.verify(cookie, keys_));  // ... for at most the bound

  // A restart (a new codec) asks the store and refuses at once.
  SessionCodec restarted(std::string(32, 'k'), clock_);
  ASSERT_TRUE(restarted.checkRevocation(store_, cookie).ok());
  EXPECT_FALSE(restarted.verify(cookie, keys_));
}

TEST_F(SessionTest, SessionsExpire) {
  const std::string cookie = signIn(ops_);
  clock_.advance(codec_.ttl() - seconds(1));
  ASSERT_TRUE(codec_.checkRevocation(store_, cookie).ok());
  EXPECT_TRUE(codec_.verify(cookie, keys_));
  clock_.advance(seconds(1));
  EXPECT_FALSE(codec_.verify(cookie, keys_));
  EXPECT_FALSE(codec_.needsRevocationCheck(cookie));  // nothing to ask about an expired one
}

TEST_F(SessionTest, RemovingOrChangingTheKeyEndsItsSessions) {
  const std::string cookie = signIn(ops_);
  EXPECT_FALSE(codec_.verify(cookie, {}));
  EXPECT_FALSE(codec_.verify(cookie, {key("ops", "a-new-key-for-ops-0123456789")}));
  EXPECT_FALSE(codec_.verify(cookie, {key("someone-else", ops_.key)}));
}

TEST_F(SessionTest, AForgedOrTamperedCookieIsRefusedAndRevokesNothing) {
  const std::string cookie = signIn(ops_);
  std::string tampered = cookie;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(codec_.verify(tampered, keys_));
  EXPECT_FALSE(codec_.needsRevocationCheck(tampered));  // no store read for junk
  // Another secret (a replica with another encryption key) does not accept it.
  SessionCodec other(std::string(32, 'x'), clock_);
  EXPECT_FALSE(other.needsRevocationCheck(cookie));
  EXPECT_FALSE(other.verify(cookie, keys_));
  // Signing out with a forged cookie writes nothing and leaves the real session alone.
  const std::string forged = cookie.substr(0, cookie.find('.')) + "." + std::string(43, 'A');
  ASSERT_TRUE(codec_.revoke(store_, forged).ok());
  EXPECT_TRUE(store_.revoked.empty());
  EXPECT_TRUE(codec_.verify(cookie, keys_));
  for (const std::string& junk :
       std::vector<std::string>{"", ".", "no-dot", std::string(2000, 'a') + ".b"}) {
    EXPECT_FALSE(codec_.verify(junk, keys_)) << junk.substr(0, 20);
  }
}

TEST_F(SessionTest, ASingleSignOnSessionCarriesSubjectNameAndRoleAndIsSignedOutEverywhere) {
  Session issued;
  const std::string cookie =
      codec_.issueSso("sub|with|bars", std::string(100, 'n'), Role::kUser, &issued);
  EXPECT_TRUE(issued.sso());
  EXPECT_EQ(issued.name.size(), kMaxDisplayNameBytes);
  ASSERT_TRUE(codec_.checkRevocation(store_, cookie).ok());
  auto s = codec_.verify(cookie, keys_, /*sso_enabled=*/true);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->subject, "sub|with|bars");
  EXPECT_EQ(s->role, Role::kUser);
  EXPECT_EQ(s->csrf_token, issued.csrf_token);
  EXPECT_TRUE(s->key_id.empty());
  // Removing admin.sso ends SSO sessions; a key session names its role.
  EXPECT_FALSE(codec_.verify(cookie, keys_, /*sso_enabled=*/false));
  Session by_key;
  signIn(ops_, &by_key);
  EXPECT_EQ(by_key.role, Role::kAdmin);
  // Sign-out on another replica (same secret, same store) is honoured here.
  SessionCodec replica(std::string(32, 'k'), clock_);
  ASSERT_TRUE(replica.revoke(store_, cookie).ok());
  clock_.advance(kRevocationRecheck);
  EXPECT_FALSE(codec_.verify(cookie, keys_, true));
  ASSERT_TRUE(codec_.needsRevocationCheck(cookie));
  ASSERT_TRUE(codec_.checkRevocation(store_, cookie).ok());
  EXPECT_FALSE(codec_.verify(cookie, keys_, true));
}

TEST(CookieValueTest, FindsTheNamedCookieAmongOthers) {
  EXPECT_EQ(cookieValue("theme=dark; tether_session=abc.def; x=1", kSessionCookie), "abc.def");
  EXPECT_EQ(cookieValue("tether_session=v", kSessionCookie), "v");
  EXPECT_FALSE(cookieValue("tether_session_old=v; other=1", kSessionCookie));
  EXPECT_FALSE(cookieValue("", kSessionCookie));
}

}  // namespace
}  // namespace tether::admin
