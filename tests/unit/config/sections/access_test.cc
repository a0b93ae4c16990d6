// admin, clients and allowed_origins.

#include <fstream>

#include "core/digest.h"
#include "unit/config/sections/section_test_util.h"

namespace tether::config::sections {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

using AccessSectionTest = SectionTest;

TEST_F(AccessSectionTest, AdminKeysInEveryForm) {
  AdminConfig admin;
  KeyOrigins keys;
  int listen_line = 0;
  parseAdmin(reader_,
             entry("keys:\n  - ${TETHER_ADMIN_KEY}\n  - {id: ops, key: ops-key-NEVER-PRINT-123, "
                   "role: viewer}\nlisten: 127.0.0.1:9090\n",
                   "admin"),
             admin, keys, listen_line);
  EXPECT_EQ(errors(), "");
  ASSERT_EQ(admin.keys.size(), 2u);
  EXPECT_EQ(admin.keys[0].id, "admin-1");
  EXPECT_EQ(admin.keys[0].sha256, core::sha256(testing::kAdminKey));
  EXPECT_FALSE(admin.keys[0].read_only);
  EXPECT_EQ(admin.keys[1].id, "ops");
  EXPECT_TRUE(admin.keys[1].read_only);
  ASSERT_TRUE(admin.listen.has_value());
  EXPECT_EQ(admin.listen->toString(), "127.0.0.1:9090");
  EXPECT_EQ(listen_line, 4);
  EXPECT_EQ(keys.by_sha256.size(), 2u);
}

TEST_F(AccessSectionTest, AKeyUsedTwiceAcrossAdminAndClientsIsRefused) {
  AdminConfig admin;
  ClientsConfig clients;
  KeyOrigins keys;
  int listen_line = 0;
  parseAdmin(reader_, entry("keys:\n  - ${TETHER_ADMIN_KEY}\n", "admin"), admin, keys, listen_line);
  parseClients(reader_, entry("keys:\n  - ${TETHER_ADMIN_KEY}\n", "clients"), clients, keys);
  EXPECT_EQ(admin.keys.size(), 1u);
  EXPECT_TRUE(clients.keys.empty());
  EXPECT_EQ(errors(),
            "t.yaml:2: clients.keys[0]: the same key (<hidden>) is already configured at "
            "admin.keys[0] (line 2); every key must be distinct");
}

TEST_F(AccessSectionTest, SingleSignOnWithDefaultsAndRoleLists) {
  AdminConfig admin;
  KeyOrigins keys;
  int listen_line = 0;
  parseAdmin(reader_,
             entry("sso:\n  issuer: https://idp.example.com/realms/ops\n  client_id: tether\n"
                   "  client_secret: sso-secret-NEVER-PRINT\n  admin_groups: [ops-admins]\n"
                   "  viewer_subjects: auditor\n",
                   "admin"),
             admin, keys, listen_line);
  EXPECT_EQ(errors(), "");
  ASSERT_TRUE(admin.sso.has_value());
  EXPECT_EQ(admin.sso->issuer, "https://idp.example.com/realms/ops");
  EXPECT_EQ(admin.sso->client_id, "tether");
  EXPECT_EQ(admin.sso->client_secret, "sso-secret-NEVER-PRINT");
  EXPECT_EQ(admin.sso->scopes, "openid email profile");
  EXPECT_EQ(admin.sso->groups_claim, "groups");
  EXPECT_THAT(admin.sso->admin_groups, ElementsAre("ops-admins"));
  EXPECT_THAT(admin.sso->viewer_subjects, ElementsAre("auditor"));
  EXPECT_TRUE(admin.sso->viewer_groups.empty());
}

TEST_F(AccessSectionTest, SingleSignOnNeedsAnIssuerAClientAndOpenid) {
  AdminConfig admin;
  KeyOrigins keys;
  int listen_line = 0;
  parseAdmin(
      reader_,
      entry("sso:\n  client_secret: sso-secret-NEVER-PRINT\n  scopes: email\n  colour: red\n",
            "admin"),
      admin, keys, listen_line);
  EXPECT_FALSE(admin.sso.has_value());
  EXPECT_THAT(errors(), HasSubstr("admin.sso.colour"));
  EXPECT_THAT(errors(), HasSubstr("admin.sso.issuer: required"));
  EXPECT_THAT(errors(), HasSubstr("admin.sso.client_id: required"));
  EXPECT_THAT(errors(), HasSubstr("admin.sso.scopes: must include openid"));
  EXPECT_THAT(errors(), Not(HasSubstr("NEVER-PRINT")));
}

// admin.sso.ca_bundle: trust for the IdP's TLS, checked readable at load like a
// connection's auth.ca_bundle.
TEST_F(AccessSectionTest, SingleSignOnCaBundleMustBeAReadableFile) {
  const std::string base = "sso:\n  issuer: https://idp.example.com\n  client_id: tether\n";
  const std::string pem = ::testing::TempDir() + "sso-ca-bundle.pem";
  std::ofstream(pem) << "-----BEGIN CERTIFICATE-----\n";
  {
    AdminConfig admin;
    KeyOrigins keys;
    int listen_line = 0;
    parseAdmin(reader_, entry(base + "  ca_bundle: " + pem + "\n", "admin"), admin, keys,
               listen_line);
    EXPECT_EQ(errors(), "");
    ASSERT_TRUE(admin.sso.has_value());
    EXPECT_EQ(admin.sso->ca_bundle, pem);
  }
  AdminConfig admin;
  KeyOrigins keys;
  int listen_line = 0;
  parseAdmin(reader_, entry(base + "  ca_bundle: /nonexistent/idp-ca.pem\n", "admin"), admin, keys,
             listen_line);
  EXPECT_FALSE(admin.sso.has_value());
  EXPECT_THAT(errors(), HasSubstr("admin.sso.ca_bundle: cannot read \"/nonexistent/idp-ca.pem\""));
}

TEST_F(AccessSectionTest, ClientKeysHaveNoRole) {
  ClientsConfig clients;
  KeyOrigins keys;
  parseClients(reader_,
               entry("keys: [{id: a, key: client-key-NEVER-PRINT-1, role: viewer}]", "clients"),
               clients, keys);
  EXPECT_EQ(errors(), "t.yaml:1: clients.keys[0].role: only admin keys have a role");
  EXPECT_THAT(errors(), Not(HasSubstr("NEVER-PRINT")));
}

TEST_F(AccessSectionTest, OriginsAreNormalised) {
  std::vector<std::string> origins;
  parseOrigins(reader_,
               entry("[\"HTTP://LocalHost:6274/\", \"http://localhost:80\", "
                     "\"http://localhost:6274/app\"]",
                     "allowed_origins"),
               origins);
  EXPECT_THAT(origins, ElementsAre("http://localhost:6274", "http://localhost"));
  EXPECT_EQ(errors(),
            "t.yaml:1: allowed_origins[2]: expected an origin such as http://localhost:6274 "
            "(scheme, host and optional port only), got \"http://localhost:6274/app\"");
}

}  // namespace
}  // namespace tether::config::sections
