// storage and encryption: where state is kept and how its secrets are sealed.

#include <cctype>
#include <fstream>

#include "config/internal.h"
#include "config/sections/sections.h"

namespace tether::config::sections {
namespace {

constexpr size_t kMaxKeyFileBytes = 4096;

}  // namespace

void parseStorage(Reader& r, const Entry& e, StorageConfig& out) {
  auto m = r.readMap(e, {"driver", "path", "dsn", "pool_size", "allow_plaintext"});
  if (!m) return;
  StorageConfig& s = out;
  if (const Entry* a = m->get("allow_plaintext")) {
    if (auto v = r.boolean(*a)) s.allow_plaintext = *v;
  }
  if (const Entry* d = m->get("driver")) {
    auto driver = r.oneOf<StorageDriver>(
        *d, {{"sqlite", StorageDriver::kSqlite}, {"postgres", StorageDriver::kPostgres}});
    if (!driver) return;  // the other keys depend on the driver
    s.driver = *driver;
  }
  if (s.driver == StorageDriver::kSqlite) {
    for (std::string_view key : {"dsn", "pool_size"}) {
      if (m->has(key)) r.forbidden(*m, key, "only used with driver postgres (driver is sqlite)");
    }
    if (const Entry* p = m->get("path")) {
      if (auto v = r.nonEmpty(*p, "a database file path")) s.path = *v;
    }
    return;
  }
  if (m->has("path")) r.forbidden(*m, "path", "only used with driver sqlite (driver is postgres)");
  if (const Entry* d = m->get("dsn")) {
    if (auto v = r.secret(*d, "a PostgreSQL connection string")) s.dsn = *v;
  } else {
    r.required(*m, "dsn", "a PostgreSQL connection string, e.g. \"host=db dbname=tether\"");
  }
  r.setInt(*m, "pool_size", s.pool_size, 1, 256);
}

bool parseEncryption(Reader& r, const Entry& e, EncryptionConfig& out) {
  auto m = r.readMap(e, {"key", "key_file", "previous_keys"});
  if (!m) return false;
  EncryptionConfig& enc = out;
  const Entry* key = m->get("key");
  const Entry* key_file = m->get("key_file");
  const bool key_given = key != nullptr || key_file != nullptr;
  if (key && key_file) {
    r.error(key_file->line, key_file->path,
            "encryption.key and encryption.key_file are exclusive (key is set at line " +
                std::to_string(key->line) + "); keep one");
  } else if (key) {
    if (auto text = r.secret(*key, "a 32-byte key (64 hex characters or Base64)")) {
      auto decoded = internal::decodeKey32(*text);
      if (decoded.ok()) {
        enc.key = *decoded;
      } else {
        r.error(*key, decoded.error().message);
      }
    }
  } else if (key_file) {
    if (auto path = r.readableFile(*key_file)) {
      std::ifstream in(*path, std::ios::binary);
      std::string content(kMaxKeyFileBytes + 1, '\0');
      in.read(content.data(), static_cast<std::streamsize>(content.size()));
      content.resize(static_cast<size_t>(in.gcount()));
      if (content.size() > kMaxKeyFileBytes) {
        r.error(*key_file, quote(*path) + " is too large to be a key file");
      } else {
        auto isSpace = [](unsigned char c) { return std::isspace(c) != 0; };
        while (!content.empty() && isSpace(content.back())) content.pop_back();
        size_t start = 0;
        while (start < content.size() && isSpace(content[start])) ++start;
        auto decoded = internal::decodeKey32(std::string_view(content).substr(start));
        if (decoded.ok()) {
          enc.key = *decoded;
          enc.key_file = *path;
        } else {
          r.error(*key_file, "the content of " + quote(*path) + ": " + decoded.error().message);
        }
      }
    }
  }
  if (const Entry* prev = m->get("previous_keys")) {
    if (!key_given) {
      r.error(prev->line, prev->path,
              "needs a current key (encryption.key or encryption.key_file)");
    }
    if (auto items = r.readList(*prev)) {
      for (const Entry& item : *items) {
        auto text = r.secret(item, "a 32-byte key (64 hex characters or Base64)");
        if (!text) continue;
        auto decoded = internal::decodeKey32(*text);
        if (decoded.ok()) {
          enc.previous_keys.push_back(*decoded);
        } else {
          r.error(item, decoded.error().message);
        }
      }
    }
  }
  return key_given;
}

}  // namespace tether::config::sections
