#include "store/sealer.h"

#include <gtest/gtest.h>

#include <string>

#include "core/encoding.h"

namespace tether::store {
namespace {

using core::Errc;

SealingKey key(char fill) { return SealingKey::fromBytes(std::string(32, fill)).value(); }

std::unique_ptr<Sealer> aes(std::vector<SealingKey> keys) {
  return makeAesGcmSealer(std::move(keys)).value();
}

const std::string kAad = sealingAad("tokens", {"mcp", "demo"}, "access_token");
const std::string kSecret = "eyJhbGciOiJSUzI1NiJ9.access-token-secret-value";

TEST(SealerTest, SealedValueRoundTripsAndHidesThePlaintext) {
  auto sealer = aes({key('a')});
  auto sealed = sealer->seal(kSecret, kAad);
  ASSERT_TRUE(sealed.ok());
  EXPECT_TRUE(sealed->starts_with("ts1:" + key('a').id() + ":")) << *sealed;
  EXPECT_EQ(sealed->find("access-token-secret"), std::string::npos);
  EXPECT_EQ(sealed->find(core::base64UrlEncode(kSecret)), std::string::npos);
  auto opened = sealer->open(*sealed, kAad);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(*opened, kSecret);
}

TEST(SealerTest, EveryValueGetsAFreshNonce) {
  auto sealer = aes({key('a')});
  EXPECT_NE(sealer->seal(kSecret, kAad).value(), sealer->seal(kSecret, kAad).value());
}

TEST(SealerTest, EmptyAndBinaryValuesRoundTrip) {
  auto sealer = aes({key('a')});
  const std::string binary("\0\x01\xff\n", 4);
  for (const std::string& v : {std::string(), binary}) {
    auto sealed = sealer->seal(v, kAad);
    ASSERT_TRUE(sealed.ok());
    EXPECT_EQ(sealer->open(*sealed, kAad).value(), v);
  }
}

TEST(SealerTest, EveryLengthRoundTripsInBothModes) {
  auto sealer = aes({key('a')});
  auto plain = makePlaintextSealer();
  std::string value;
  for (int n = 0; n < 80; ++n) {
    EXPECT_EQ(sealer->open(sealer->seal(value, kAad).value(), kAad).value(), value) << n;
    EXPECT_EQ(plain->open(plain->seal(value, kAad).value(), kAad).value(), value) << n;
    value += static_cast<char>(n * 37);
  }
  EXPECT_EQ(plain->seal("\xfb\xff", kAad).value(), "plain:-_8");
}

TEST(SealerTest, MalformedEncodingIsRefused) {
  auto plain = makePlaintextSealer();
  for (const char* bad :
       {"plain:A", "plain:AB", "plain:ABC", "plain:Zg==", "plain:Zm9v!", "plain:Zm+v"}) {
    auto opened = plain->open(bad, kAad);
    EXPECT_FALSE(opened.ok()) << bad;
  }
  EXPECT_EQ(plain->open("plain:Zg", kAad).value(), "f");
  EXPECT_EQ(plain->open("plain:Zm8", kAad).value(), "fo");
}

TEST(SealerTest, ValueBoundToAnotherRowOrColumnDoesNotOpen) {
  auto sealer = aes({key('a')});
  const std::string sealed = sealer->seal(kSecret, kAad).value();
  for (const std::string& other : {sealingAad("tokens", {"mcp", "other"}, "access_token"),
                                   sealingAad("tokens", {"mcp", "demo"}, "refresh_token"),
                                   sealingAad("tokens", {"api", "demo"}, "access_token")}) {
    auto opened = sealer->open(sealed, other);
    ASSERT_FALSE(opened.ok());
    EXPECT_EQ(opened.error().code, Errc::kCrypto);
    EXPECT_NE(opened.error().message.find("another row or column"), std::string::npos);
  }
}

TEST(SealerTest, AssociatedDataIsUnambiguous) {
  EXPECT_NE(sealingAad("t", {"a|b", "c"}, "x"), sealingAad("t", {"a", "b|c"}, "x"));
  EXPECT_NE(sealingAad("t", {"ab", ""}, "x"), sealingAad("t", {"a", "b"}, "x"));
}

TEST(SealerTest, TruncatedOrCorruptedValuesAreCryptoErrors) {
  auto sealer = aes({key('a')});
  const std::string sealed = sealer->seal(kSecret, kAad).value();
  std::string flipped = sealed;
  flipped[flipped.size() / 2 + 10] = flipped[flipped.size() / 2 + 10] == 'A' ? 'B' : 'A';
  for (const std::string& bad :
       {sealed.substr(0, sealed.size() - 4), sealed.substr(0, 20), sealed.substr(0, 12), flipped,
        std::string("ts1:"), std::string("garbage"), std::string(), sealed + "AAAA",
        sealed.substr(0, 13) + "!!!!"}) {
    auto opened = sealer->open(bad, kAad);
    ASSERT_FALSE(opened.ok()) << bad;
    EXPECT_EQ(opened.error().code, Errc::kCrypto) << bad;
    EXPECT_EQ(opened.error().message.find(kSecret), std::string::npos);
  }
}

TEST(SealerTest, UnknownKeyIdIsNamedInTheError) {
  const std::string sealed = aes({key('a')})->seal(kSecret, kAad).value();
  auto opened = aes({key('b')})->open(sealed, kAad);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, Errc::kCrypto);
  EXPECT_NE(opened.error().message.find(key('a').id()), std::string::npos);
  EXPECT_NE(opened.error().message.find(key('b').id()), std::string::npos);
}

TEST(SealerTest, KeyRingSealsWithTheFirstKeyAndOpensWithAll) {
  const std::string old_value = aes({key('a')})->seal(kSecret, kAad).value();
  auto ring = aes({key('b'), key('a')});
  EXPECT_EQ(ring->open(old_value, kAad).value(), kSecret);
  EXPECT_FALSE(ring->isCurrent(old_value));
  const std::string fresh = ring->seal(kSecret, kAad).value();
  EXPECT_TRUE(fresh.starts_with("ts1:" + key('b').id()));
  EXPECT_TRUE(ring->isCurrent(fresh));
  EXPECT_EQ(aes({key('b')})->open(fresh, kAad).value(), kSecret);
  EXPECT_EQ(ring->describe(), "aes-256-gcm key " + key('b').id() + " (+1 older)");
}

TEST(SealerTest, PlaintextModeIsMarkedAndCannotOpenSealedValues) {
  auto plain = makePlaintextSealer();
  const std::string stored = plain->seal(kSecret, kAad).value();
  EXPECT_TRUE(stored.starts_with("plain:"));
  EXPECT_EQ(plain->open(stored, kAad).value(), kSecret);
  EXPECT_FALSE(plain->encrypts());

  const std::string sealed = aes({key('a')})->seal(kSecret, kAad).value();
  auto opened = plain->open(sealed, kAad);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, Errc::kCrypto);
  EXPECT_NE(opened.error().message.find("no sealing key is configured"), std::string::npos);

  auto reverse = aes({key('a')})->open(stored, kAad);
  ASSERT_FALSE(reverse.ok());
  EXPECT_EQ(reverse.error().code, Errc::kCrypto);
  EXPECT_NE(reverse.error().message.find("plaintext"), std::string::npos);
}

TEST(SealerTest, KeysMustBe32BytesAndDistinct) {
  auto short_key = SealingKey::fromBytes(std::string(16, 'a'));
  ASSERT_FALSE(short_key.ok());
  EXPECT_EQ(short_key.error().code, Errc::kInvalidArgument);
  EXPECT_FALSE(makeAesGcmSealer({}).ok());
  EXPECT_FALSE(makeAesGcmSealer({key('a'), key('a')}).ok());
}

TEST(SealerTest, KeyIdIsStableShortHexAndRevealsNoKeyBytes) {
  EXPECT_EQ(key('a').id(), key('a').id());
  EXPECT_NE(key('a').id(), key('b').id());
  EXPECT_EQ(key('a').id().size(), 8u);
  EXPECT_EQ(key('a').id().find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(aes({key('a')})->describe().find("aaaa"), std::string::npos);
}

// The key id is written into every sealed value: its derivation (the first 4 bytes of
// SHA-256("tether-key-id:" || key), through core::sha256Hex) must never change.
TEST(SealerTest, KeyIdIsTheDocumentedSha256Prefix) { EXPECT_EQ(key('a').id(), "62ad1b35"); }

}  // namespace
}  // namespace tether::store
