#include "http/ip_address.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "http/http_client.h"

namespace tether::http {
namespace {

using ::testing::HasSubstr;

AddressClass classOf(const char* text) {
  auto a = IpAddress::parse(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a ? classifyAddress(*a).cls : AddressClass::kPublic;
}

TEST(IpAddress, ParsesStrictlyAndPrintsCanonically) {
  EXPECT_EQ(IpAddress::parse("127.0.0.2")->str(), "127.0.0.2");
  EXPECT_EQ(IpAddress::parse("[::FFFF:127.0.0.2]")->str(), "::ffff:127.0.0.2");
  EXPECT_EQ(IpAddress::parse("0:0:0:0:0:0:0:1")->str(), "::1");
  // Non-canonical IPv4 is not an address to this parser: libcurl normalises it first.
  for (const char* text : {"0x7f000002", "2130706434", "0177.0.0.2", "127.2", "127.0.0.1.",
                           "127.0.0.1.evil.example", "", "[]", "1.2.3.4:80", "fe80::1%eth0"}) {
    EXPECT_FALSE(IpAddress::parse(text).has_value()) << text;
  }
  EXPECT_EQ(IpAddress::v4(0x7f000002), *IpAddress::parse("127.0.0.2"));
  EXPECT_FALSE(IpAddress::parse("::ffff:127.0.0.2") == IpAddress::parse("127.0.0.2"));
}

TEST(IpAddress, ClassifiesIpv4SpecialRanges) {
  EXPECT_EQ(classOf("127.0.0.1"), AddressClass::kLoopback);
  EXPECT_EQ(classOf("127.255.255.254"), AddressClass::kLoopback);
  EXPECT_EQ(classOf("10.0.0.1"), AddressClass::kPrivate);
  EXPECT_EQ(classOf("172.16.0.1"), AddressClass::kPrivate);
  EXPECT_EQ(classOf("172.31.255.255"), AddressClass::kPrivate);
  EXPECT_EQ(classOf("192.168.1.1"), AddressClass::kPrivate);
  EXPECT_EQ(classOf("169.254.169.254"), AddressClass::kLinkLocal);
  EXPECT_EQ(classOf("100.64.0.1"), AddressClass::kShared);
  EXPECT_EQ(classOf("100.127.255.255"), AddressClass::kShared);
  EXPECT_EQ(classOf("0.0.0.0"), AddressClass::kUnspecified);
  EXPECT_EQ(classOf("0.1.2.3"), AddressClass::kThisNetwork);
  EXPECT_EQ(classOf("224.0.0.1"), AddressClass::kMulticast);
  EXPECT_EQ(classOf("239.255.255.250"), AddressClass::kMulticast);
  EXPECT_EQ(classOf("255.255.255.255"), AddressClass::kBroadcast);
  EXPECT_EQ(classOf("240.0.0.1"), AddressClass::kReserved);
  EXPECT_EQ(classOf("192.0.0.8"), AddressClass::kReserved);
  EXPECT_EQ(classOf("192.0.2.1"), AddressClass::kReserved);
  EXPECT_EQ(classOf("198.18.0.1"), AddressClass::kReserved);
  for (const char* pub : {"8.8.8.8", "1.1.1.1", "172.32.0.1", "172.15.255.255", "100.128.0.1",
                          "100.63.255.255", "169.253.0.1", "11.0.0.1", "223.255.255.255"}) {
    EXPECT_EQ(classOf(pub), AddressClass::kPublic) << pub;
  }
}

TEST(IpAddress, ClassifiesIpv6SpecialRanges) {
  EXPECT_EQ(classOf("::1"), AddressClass::kLoopback);
  EXPECT_EQ(classOf("::"), AddressClass::kUnspecified);
  EXPECT_EQ(classOf("fe80::1"), AddressClass::kLinkLocal);
  EXPECT_EQ(classOf("febf::1"), AddressClass::kLinkLocal);
  EXPECT_EQ(classOf("fec0::1"), AddressClass::kUniqueLocal);
  EXPECT_EQ(classOf("fc00::1"), AddressClass::kUniqueLocal);
  EXPECT_EQ(classOf("fd12:3456::1"), AddressClass::kUniqueLocal);
  EXPECT_EQ(classOf("ff02::1"), AddressClass::kMulticast);
  EXPECT_EQ(classOf("2001:db8::1"), AddressClass::kReserved);
  EXPECT_EQ(classOf("100::1"), AddressClass::kReserved);
  EXPECT_EQ(classOf("2001::1"), AddressClass::kReserved);  // Teredo
  EXPECT_EQ(classOf("2606:4700:4700::1111"), AddressClass::kPublic);
  EXPECT_EQ(classOf("2a00:1450:4001::1"), AddressClass::kPublic);
}

TEST(IpAddress, EmbeddedIpv4IsClassifiedByTheAddressItLeadsTo) {
  struct Case {
    const char* text;
    AddressClass cls;
    const char* embedded;
  };
  const Case cases[] = {
      {"::ffff:127.0.0.2", AddressClass::kLoopback, "127.0.0.2"},  // mapped
      {"::ffff:7f00:2", AddressClass::kLoopback, "127.0.0.2"},     // mapped, hex
      {"::ffff:169.254.169.254", AddressClass::kLinkLocal, "169.254.169.254"},
      {"::127.0.0.2", AddressClass::kLoopback, "127.0.0.2"},  // compatible
      {"::10.0.0.1", AddressClass::kPrivate, "10.0.0.1"},
      {"::8.8.8.8", AddressClass::kReserved, "8.8.8.8"},          // compatible: never
      {"64:ff9b::7f00:2", AddressClass::kLoopback, "127.0.0.2"},  // NAT64
      {"64:ff9b::169.254.169.254", AddressClass::kLinkLocal, "169.254.169.254"},
      {"64:ff9b:1::a00:1", AddressClass::kPrivate, "10.0.0.1"},  // local-use NAT64
      {"64:ff9b::808:808", AddressClass::kPublic, "8.8.8.8"},
      {"2002:7f00:2::1", AddressClass::kLoopback, "127.0.0.2"},  // 6to4
      {"2002:c0a8:101::", AddressClass::kPrivate, "192.168.1.1"},
      {"::ffff:8.8.8.8", AddressClass::kPublic, "8.8.8.8"},
  };
  for (const auto& c : cases) {
    auto a = IpAddress::parse(c.text);
    ASSERT_TRUE(a) << c.text;
    const auto got = classifyAddress(*a);
    EXPECT_EQ(got.cls, c.cls) << c.text;
    ASSERT_TRUE(got.embedded_v4) << c.text;
    EXPECT_EQ(got.embedded_v4->str(), c.embedded) << c.text;
  }
  auto mapped = *IpAddress::parse("::ffff:127.0.0.2");
  EXPECT_EQ(describeAddress(mapped, classifyAddress(mapped)),
            "a loopback address 127.0.0.2 (embedded in ::ffff:127.0.0.2)");
}

}  // namespace
}  // namespace tether::http
