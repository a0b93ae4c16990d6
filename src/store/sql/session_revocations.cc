#include "store/sql/session_revocations.h"

#include <fmt/format.h>

namespace tether::store::sql {
namespace {

using core::Errc;
using core::Error;

core::Status checkId(std::string_view session_id) {
  if (session_id.empty() || session_id.size() > SessionRevocationStore::kMaxSessionIdBytes) {
    return Error(Errc::kInvalidArgument, fmt::format("a session id must have 1 to {} bytes",
                                                     SessionRevocationStore::kMaxSessionIdBytes));
  }
  return core::okStatus();
}

Error withOp(const Error& e, std::string_view op) {
  return Error(e.code, fmt::format("store: {}: {}", op, e.message));
}

}  // namespace

core::Status revokeSession(Backend& backend, std::string_view session_id, int64_t expires_ms,
                           int64_t now_ms) {
  constexpr std::string_view op = "revoke session";
  if (auto st = checkId(session_id); !st.ok()) return withOp(st.error(), op);
  auto lease = backend.writer();
  if (!lease.ok()) return withOp(lease.error(), op);
  Session& s = **lease;
  if (auto b = s.query(backend.beginSql()); !b.ok()) return withOp(b.error(), op);
  auto run = [&]() -> core::Status {
    auto ins = s.query(
        // A session's expiry is part of its signed cookie: a second sign-out of the same
        // session carries the same one.
        "INSERT INTO session_revocations (session_id, expires_at, revoked_at) VALUES ($1, $2, $3) "
        "ON CONFLICT (session_id) DO NOTHING",
        {Param::text(session_id), Param::integer(expires_ms), Param::integer(now_ms)});
    if (!ins.ok()) return ins.error();
    auto prune =
        s.query("DELETE FROM session_revocations WHERE expires_at <= $1", {Param::integer(now_ms)});
    if (!prune.ok()) return prune.error();
    return core::okStatus();
  };
  if (auto st = run(); !st.ok()) {
    (void)s.query("ROLLBACK");
    return withOp(st.error(), op);
  }
  if (auto c = s.query("COMMIT"); !c.ok()) {
    (void)s.query("ROLLBACK");
    return withOp(c.error(), op);
  }
  return core::okStatus();
}

core::Result<bool> isSessionRevoked(Backend& backend, std::string_view session_id, int64_t now_ms) {
  constexpr std::string_view op = "check session revocation";
  if (auto st = checkId(session_id); !st.ok()) return withOp(st.error(), op);
  auto lease = backend.reader();
  if (!lease.ok()) return withOp(lease.error(), op);
  auto r =
      (*lease)->query("SELECT 1 FROM session_revocations WHERE session_id = $1 AND expires_at > $2",
                      {Param::text(session_id), Param::integer(now_ms)});
  if (!r.ok()) return withOp(r.error(), op);
  return !r->rows.empty();
}

core::Result<int64_t> pruneSessionRevocations(Backend& backend, int64_t now_ms) {
  constexpr std::string_view op = "prune session revocations";
  auto lease = backend.writer();
  if (!lease.ok()) return withOp(lease.error(), op);
  auto r = (*lease)->query("DELETE FROM session_revocations WHERE expires_at <= $1",
                           {Param::integer(now_ms)});
  if (!r.ok()) return withOp(r.error(), op);
  return r->affected;
}

}  // namespace tether::store::sql
