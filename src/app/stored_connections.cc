// The running set = declared ∪ stored, kept current by own writes, the store's change
// notification and a registry-version poll.

#include "app/stored_connections.h"

#include <algorithm>
#include <set>

#include "admin/connections_api.h"
#include "core/log.h"

namespace tether::app {

using core::Errc;
using core::Error;

namespace {

// More changed rows than this since the last read: one query reads them all.
constexpr size_t kReadOneByOne = 16;

store::ConnectionKey keyOf(const config::ConnectionConfig& c) {
  return {std::string(config::kindName(c.kind)), c.name};
}

}  // namespace

StoredConnections::StoredConnections(store::Store& store,
                                     std::vector<config::ConnectionConfig> declared, Apply apply,
                                     Options options)
    : store_(store), apply_(std::move(apply)), options_(options), declared_(std::move(declared)) {}

StoredConnections::~StoredConnections() { stop(); }

core::Result<std::vector<config::ConnectionConfig>> StoredConnections::readStored(bool strict) {
  // Only the rows whose version changed since the last read are read whole and parsed: a
  // sync after one write reads the (key, version) list and one definition.
  TETHER_TRY_ASSIGN(auto versions, store_.definitions().listDefinitionVersions());
  std::set<store::ConnectionKey> declared;
  for (const auto& c : declared_) declared.insert(keyOf(c));
  std::vector<store::ConnectionKey> changed;
  for (const auto& [key, version] : versions) {
    if (declared.contains(key)) continue;
    auto it = parsed_.find(key);
    if (it != parsed_.end() && it->second.first == version) continue;
    if (auto bad = unreadable_.find(key); bad != unreadable_.end() && bad->second == version) {
      continue;
    }
    changed.push_back(key);
  }
  std::map<store::ConnectionKey, int64_t> live(versions.begin(), versions.end());
  std::vector<store::ConnectionDefinition> defs;
  if (changed.size() > kReadOneByOne) {
    TETHER_TRY_ASSIGN(defs, store_.definitions().listDefinitions(/*include_deleted=*/false));
  } else {
    for (const auto& key : changed) {
      TETHER_TRY_ASSIGN(auto d, store_.definitions().getDefinition(key));
      if (d && !d->deleted_at) defs.push_back(std::move(*d));
    }
  }
  for (auto& d : defs) {
    live[d.key] = d.version;  // a write since the version list: the row read is the newer
    if (declared.contains(d.key)) continue;
    if (auto it = parsed_.find(d.key); it != parsed_.end() && it->second.first == d.version) {
      continue;
    }
    auto conn = admin::storedConnection(d, options_.default_token_lifetime);
    if (!conn.ok()) {
      parsed_.erase(d.key);
      unreadable_[d.key] = d.version;  // logged once per version
      core::log::error("a stored connection cannot be read; it is not served",
                       {{"connection", d.key.str()}, {"error", conn.error().message}});
      continue;
    }
    unreadable_.erase(d.key);
    parsed_[d.key] = {d.version, std::move(conn).value()};
  }
  // Forget what is no longer stored.
  std::erase_if(parsed_, [&](const auto& p) { return !live.contains(p.first); });
  std::erase_if(unreadable_, [&](const auto& p) { return !live.contains(p.first); });
  std::vector<config::ConnectionConfig> out;
  out.reserve(parsed_.size());
  std::string clashes;
  for (const auto& [key, version] : live) {
    if (declared.contains(key)) {
      if (strict) {
        clashes += (clashes.empty() ? "" : ", ") + key.str();
      } else {
        core::log::error(
            "a connection made through the admin API is also declared in the config file: "
            "the declared one runs; delete one of them",
            {{"connection", key.str()}});
      }
      continue;
    }
    if (auto it = parsed_.find(key); it != parsed_.end()) out.push_back(it->second.second);
  }
  if (!clashes.empty()) {
    return Error(
        Errc::kConfig,
        "connections both declared in the config file and made through the admin API: " + clashes +
            " (remove them from the file, or delete them through the API, then start "
            "again)");
  }
  return out;
}

core::Result<bool> StoredConnections::applyLocked(std::vector<config::ConnectionConfig> stored) {
  std::vector<config::ConnectionConfig> all = declared_;
  for (auto& c : stored) all.push_back(std::move(c));
  if (!apply_) return false;
  return apply_(std::move(all));
}

core::Status StoredConnections::load() {
  std::lock_guard lock(mu_);
  TETHER_TRY_ASSIGN(const int64_t version, store_.definitions().definitionsVersion());
  TETHER_TRY_ASSIGN(auto stored, readStored(/*strict=*/true));
  const size_t count = stored.size();
  TETHER_TRY(applyLocked(std::move(stored)));
  applied_version_ = version;
  core::log::info("stored connections loaded",
                  {{"connections", static_cast<int64_t>(count)}, {"registry_version", version}});
  return core::okStatus();
}

core::Status StoredConnections::syncNow(bool force) {
  std::lock_guard lock(mu_);
  // The version is read first: a write after it is seen by the next sync.
  TETHER_TRY_ASSIGN(const int64_t version, store_.definitions().definitionsVersion());
  if (!force && version == applied_version_) return core::okStatus();
  TETHER_TRY_ASSIGN(auto stored, readStored(/*strict=*/false));
  TETHER_TRY(applyLocked(std::move(stored)));
  applied_version_ = version;
  return core::okStatus();
}

core::Result<bool> StoredConnections::setDeclared(std::vector<config::ConnectionConfig> declared) {
  std::lock_guard lock(mu_);
  std::vector<config::ConnectionConfig> previous = std::move(declared_);
  declared_ = std::move(declared);
  auto stored = readStored(/*strict=*/true);
  if (!stored.ok()) {
    declared_ = std::move(previous);
    return stored.error();
  }
  auto changed = applyLocked(std::move(stored).value());
  if (!changed.ok()) declared_ = std::move(previous);
  return changed;
}

bool StoredConnections::isDeclared(const store::ConnectionKey& key) const {
  std::lock_guard lock(mu_);
  for (const auto& c : declared_) {
    if (keyOf(c) == key) return true;
  }
  return false;
}

int64_t StoredConnections::appliedVersion() const {
  std::lock_guard lock(mu_);
  return applied_version_;
}

void StoredConnections::start() {
  subscription_ = store_.definitions().subscribeDefinitionChanges([this] {
    std::lock_guard lock(wake_mu_);
    woken_ = true;
    wake_cv_.notify_one();
  });
  thread_ = std::thread([this] { run(); });
}

void StoredConnections::stop() {
  {
    std::lock_guard lock(wake_mu_);
    stopping_ = true;
  }
  wake_cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  subscription_.reset();
}

void StoredConnections::run() {
  bool logged = false;
  for (;;) {
    {
      std::unique_lock lock(wake_mu_);
      wake_cv_.wait_for(lock, options_.poll_interval, [this] { return woken_ || stopping_; });
      if (stopping_) return;
      woken_ = false;
    }
    if (auto st = syncNow(); !st.ok()) {
      if (!logged) {
        core::log::warn("cannot bring the stored connections up to date; retrying",
                        {{"error", st.error().message}});
      }
      logged = true;
    } else {
      logged = false;
    }
  }
}

}  // namespace tether::app
