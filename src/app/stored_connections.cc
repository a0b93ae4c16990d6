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
  TETHER_TRY_ASSIGN(auto defs, store_.definitions().listDefinitions(/*include_deleted=*/false));
  std::set<store::ConnectionKey> declared;
  for (const auto& c : declared_) declared.insert(keyOf(c));
  std::vector<config::ConnectionConfig> out;
  std::string clashes;
  for (const auto& d : defs) {
    if (declared.count(d.key) != 0) {
      if (strict) {
        clashes += (clashes.empty() ? "" : ", ") + d.key.str();
      } else {
        core::log::error(
            "a connection made through the admin API is also declared in the config file: "
            "the declared one runs; delete one of them",
            {{"connection", d.key.str()}});
      }
      continue;
    }
    if (auto it = parsed_.find(d.key); it != parsed_.end() && it->second.first == d.version) {
      out.push_back(it->second.second);
      continue;
    }
    auto conn = admin::storedConnection(d, options_.default_token_lifetime);
    if (!conn.ok()) {
      core::log::error("a stored connection cannot be read; it is not served",
                       {{"connection", d.key.str()}, {"error", conn.error().message}});
      continue;
    }
    parsed_[d.key] = {d.version, *conn};
    out.push_back(std::move(conn).value());
  }
  // Forget what is no longer stored.
  for (auto it = parsed_.begin(); it != parsed_.end();) {
    const bool live =
        std::any_of(defs.begin(), defs.end(),
                    [&](const store::ConnectionDefinition& d) { return d.key == it->first; });
    it = live ? std::next(it) : parsed_.erase(it);
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
