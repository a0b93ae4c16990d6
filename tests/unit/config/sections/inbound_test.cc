// inbound: Tether as an OAuth resource server.

#include "unit/config/sections/section_test_util.h"

namespace tether::config::sections {
namespace {

using ::testing::HasSubstr;

using InboundSectionTest = SectionTest;

TEST_F(InboundSectionTest, DefaultsWithOnlyTheIssuer) {
  InboundConfig in;
  parseInbound(reader_, entry("{issuer: \"https://idp.example/realms/acme\"}", "inbound"), in);
  EXPECT_EQ(errors(), "");
  EXPECT_TRUE(in.enabled);
  EXPECT_EQ(in.issuer, "https://idp.example/realms/acme");
  EXPECT_EQ(in.audience, "");
  EXPECT_EQ(in.algorithms, (std::vector<std::string>{"RS256", "ES256", "PS256", "EdDSA"}));
  EXPECT_EQ(in.clock_skew, std::chrono::seconds(60));
  EXPECT_EQ(in.subject_claim, "sub");
  EXPECT_EQ(in.groups_claim, "");
  EXPECT_EQ(in.introspection.endpoint, "");
}

TEST_F(InboundSectionTest, EverySetting) {
  InboundConfig in;
  parseInbound(reader_,
               entry("issuer: https://idp.example\n"
                     "audience: api://tether\n"
                     "jwks_uri: https://idp.example/keys\n"
                     "algorithms: [ES256]\n"
                     "clock_skew: 30s\n"
                     "required_scopes: [mcp:tools, openid]\n"
                     "subject_claim: oid\n"
                     "groups_claim: roles\n"
                     "introspection:\n"
                     "  endpoint: https://idp.example/introspect\n"
                     "  client_id: tether\n"
                     "  client_secret: s3cret-value\n",
                     "inbound"),
               in);
  EXPECT_EQ(errors(), "");
  EXPECT_EQ(in.audience, "api://tether");
  EXPECT_EQ(in.jwks_uri, "https://idp.example/keys");
  EXPECT_EQ(in.algorithms, std::vector<std::string>{"ES256"});
  EXPECT_EQ(in.clock_skew, std::chrono::seconds(30));
  EXPECT_EQ(in.required_scopes, (std::vector<std::string>{"mcp:tools", "openid"}));
  EXPECT_EQ(in.subject_claim, "oid");
  EXPECT_EQ(in.groups_claim, "roles");
  EXPECT_EQ(in.introspection.client_secret, "s3cret-value");
}

TEST_F(InboundSectionTest, BadValuesNameTheField) {
  InboundConfig in;
  parseInbound(
      reader_,
      entry("algorithms: [RS256, HS256, none]\n"
            "clock_skew: 1h\n"
            "required_scopes: [\"a b\"]\n"
            "introspection: {endpoint: https://idp.example/i, client_secret: 0123456789}\n",
            "inbound"),
      in);
  const std::string e = errors();
  EXPECT_THAT(e, HasSubstr("inbound.issuer: required"));
  EXPECT_THAT(e, HasSubstr("t.yaml:1: inbound.algorithms[1]: expected one of RS256, ES256, PS256, "
                           "EdDSA (never none or HS*), got \"HS256\""));
  EXPECT_THAT(e, HasSubstr("inbound.algorithms[2]"));
  EXPECT_THAT(e, HasSubstr("t.yaml:2: inbound.clock_skew: at most 10m"));
  EXPECT_THAT(e, HasSubstr("inbound.required_scopes[0]: expected an OAuth scope token"));
  EXPECT_THAT(e, HasSubstr("inbound.introspection.client_id: required"));
  EXPECT_THAT(e, ::testing::Not(HasSubstr("0123456789")));  // never the secret
}

}  // namespace
}  // namespace tether::config::sections
