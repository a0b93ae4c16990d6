// SessionRevocationStore over SQL: signed-out portal sessions until their own expiry.

#include <fmt/format.h>

#include "store/sql/parts.h"

namespace tether::store::sql {
namespace {

using core::Errc;
using core::Error;
using core::Result;
using core::Status;

Status checkId(std::string_view session_id) {
  if (session_id.empty() || session_id.size() > SessionRevocationStore::kMaxSessionIdBytes) {
    return Error(Errc::kInvalidArgument, fmt::format("a session id must have 1 to {} bytes",
                                                     SessionRevocationStore::kMaxSessionIdBytes));
  }
  return core::okStatus();
}

class SqlSessionRevocationStore final : public SessionRevocationStore {
 public:
  explicit SqlSessionRevocationStore(StoreContext& ctx) : ctx_(ctx) {}

  Status revokeSession(std::string_view session_id, TimePoint expires_at) override {
    return annotated("revoke session", "", [&]() -> Status {
      TETHER_TRY(checkId(session_id));
      const int64_t now = ctx_.nowMs();
      return ctx_.inTransaction([&](Session& s) -> Status {
        // A session's expiry is part of its signed cookie: a second sign-out of the same
        // session carries the same one.
        TETHER_TRY(s.query(
            "INSERT INTO session_revocations (session_id, expires_at, revoked_at) VALUES ($1, "
            "$2, $3) ON CONFLICT (session_id) DO NOTHING",
            {Param::text(session_id), Param::integer(toMs(expires_at)), Param::integer(now)}));
        TETHER_TRY(s.query("DELETE FROM session_revocations WHERE expires_at <= $1",
                           {Param::integer(now)}));
        return core::okStatus();
      });
    });
  }

  Result<bool> isSessionRevoked(std::string_view session_id) override {
    return annotated("check session revocation", "", [&]() -> Result<bool> {
      TETHER_TRY(checkId(session_id));
      TETHER_TRY_ASSIGN(Lease lease, ctx_.backend().reader());
      TETHER_TRY_ASSIGN(ResultSet r,
                        lease->query("SELECT 1 FROM session_revocations WHERE session_id = $1 AND "
                                     "expires_at > $2",
                                     {Param::text(session_id), Param::integer(ctx_.nowMs())}));
      return !r.rows.empty();
    });
  }

  Result<int64_t> pruneSessionRevocations() override {
    return annotated("prune session revocations", "", [&]() -> Result<int64_t> {
      TETHER_TRY_ASSIGN(Lease lease, ctx_.backend().writer());
      TETHER_TRY_ASSIGN(ResultSet r,
                        lease->query("DELETE FROM session_revocations WHERE expires_at <= $1",
                                     {Param::integer(ctx_.nowMs())}));
      return r.affected;
    });
  }

 private:
  StoreContext& ctx_;
};

}  // namespace

std::unique_ptr<SessionRevocationStore> makeSessionRevocationStore(StoreContext& ctx) {
  return std::make_unique<SqlSessionRevocationStore>(ctx);
}

}  // namespace tether::store::sql
