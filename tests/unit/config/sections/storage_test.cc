// storage and encryption.

#include "core/encoding.h"
#include "unit/config/sections/section_test_util.h"

namespace tether::config::sections {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using StorageSectionTest = SectionTest;

TEST_F(StorageSectionTest, SqliteIsTheDefault) {
  StorageConfig s;
  parseStorage(reader_, entry("{path: /tmp/t.db, allow_plaintext: true}", "storage"), s);
  EXPECT_EQ(errors(), "");
  EXPECT_EQ(s.driver, StorageDriver::kSqlite);
  EXPECT_EQ(s.path, "/tmp/t.db");
  EXPECT_TRUE(s.allow_plaintext);
}

TEST_F(StorageSectionTest, PostgresNeedsADsnAndRefusesAPath) {
  StorageConfig s;
  parseStorage(reader_, entry("{driver: postgres, dsn: \"host=db\", pool_size: 3}", "storage"), s);
  EXPECT_EQ(s.driver, StorageDriver::kPostgres);
  EXPECT_EQ(s.dsn, "host=db");
  EXPECT_EQ(s.pool_size, 3);
  StorageConfig t;
  parseStorage(reader_, entry("driver: postgres\npath: x.db\n", "storage"), t);
  EXPECT_EQ(errors(),
            "t.yaml:2: storage.path: only used with driver sqlite (driver is postgres)\n"
            "t.yaml:1: storage.dsn: required (expected a PostgreSQL connection string, e.g. "
            "\"host=db dbname=tether\")");
}

TEST_F(StorageSectionTest, SqliteRefusesPostgresKeys) {
  StorageConfig s;
  parseStorage(reader_, entry("{pool_size: 3}", "storage"), s);
  EXPECT_EQ(errors(),
            "t.yaml:1: storage.pool_size: only used with driver postgres (driver is sqlite)");
}

TEST_F(StorageSectionTest, EncryptionKeyInlineOrFromAFile) {
  EncryptionConfig enc;
  EXPECT_TRUE(
      parseEncryption(reader_, entry("{key: \"${TETHER_ENCRYPTION_KEY}\"}", "encryption"), enc));
  EXPECT_EQ(core::hexEncode(enc.key), testing::kEncryptionKeyHex);
  EncryptionConfig from_file;
  EXPECT_TRUE(parseEncryption(
      reader_, entry("{key_file: \"" + testing::kDataDir + "/key.hex\"}", "encryption"),
      from_file));
  EXPECT_EQ(from_file.key.size(), 32u);
  EXPECT_EQ(from_file.key_file, testing::kDataDir + "/key.hex");
  EXPECT_EQ(errors(), "");
}

TEST_F(StorageSectionTest, EncryptionErrorsNeverShowTheKey) {
  EncryptionConfig enc;
  EXPECT_FALSE(parseEncryption(reader_, entry("previous_keys: [abc]", "encryption"), enc));
  EXPECT_TRUE(parseEncryption(reader_, entry("{key: NEVER-PRINT-short}", "encryption"), enc));
  EXPECT_FALSE(enc.hasKey());
  EXPECT_THAT(errors(), HasSubstr("t.yaml:1: encryption.previous_keys: needs a current key"));
  EXPECT_THAT(errors(), HasSubstr("t.yaml:1: encryption.key: "));
  EXPECT_THAT(errors(), Not(HasSubstr("NEVER-PRINT")));
}

}  // namespace
}  // namespace tether::config::sections
