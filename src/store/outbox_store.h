#pragma once
/// The webhook outbox: messages to deliver, written in the same transaction as the state
/// change that caused them, claimed by one replica at a time, kept after delivery for the
/// delivery log. Part of the blocking store API (see store/store.h).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/types.h"

namespace tether::store {

/// Where a message stands.
enum class OutboxStatus { kPending, kDelivered, kGivenUp };

/// "pending" | "delivered" | "given_up".
std::string_view outboxStatusName(OutboxStatus status);

/// One webhook message. The body is fixed when the message is queued, so every attempt
/// sends the same bytes under the same `message_id` (the receiver's deduplication key);
/// only the signature's timestamp changes. No secret is stored here.
struct OutboxMessage {
  int64_t id = 0;          // assigned by the store
  std::string message_id;  // webhook-id, e.g. "msg_2b8c..."; unique
  /// Which configured webhook: a digest of its URL (see webhooks::Webhook::key), so a
  /// message whose webhook was removed from the configuration is noticed, and no URL (whose
  /// query may carry a credential) is stored.
  std::string webhook_key;
  std::string event;  // needs_reauth, refresh_failing, ...
  ConnectionKey key;
  std::string body;  // the JSON payload
  OutboxStatus status = OutboxStatus::kPending;
  int attempts = 0;
  int last_status = 0;     // HTTP status of the last attempt, 0 when none answered
  std::string last_error;  // why the last attempt failed (no secrets), empty when none
  TimePoint created_at{};  // set by the store (its clock) when zero
  TimePoint next_attempt_at{};
  std::optional<TimePoint> finished_at;  // delivered or given up
};

/// The outcome of one delivery attempt, as the worker reports it.
struct OutboxAttempt {
  OutboxStatus status = OutboxStatus::kPending;  // pending: failed, retry at next_attempt_at
  int http_status = 0;
  std::string error;
  TimePoint next_attempt_at{};  // pending only
};

/// Decides, inside the state write's transaction, which messages a state change queues:
/// `before` is the row being replaced (nullopt when none), `after` the new one. Must not
/// block or touch the store; may be called again if the transaction is retried.
using OutboxDeriver = std::function<std::vector<OutboxMessage>(
    const std::optional<StateRecord>& before, const StateRecord& after)>;

class OutboxStore {
 public:
  virtual ~OutboxStore() = default;

  /// StateStore::putState and the messages `derive(before, after)` returns, in one
  /// transaction (the row is read and locked first: on PostgreSQL `SELECT ... FOR UPDATE`,
  /// so two replicas writing the same change queue its message once).
  virtual core::Status putStateAndEnqueue(const StateRecord& state,
                                          const OutboxDeriver& derive) = 0;

  /// Queues `messages`.
  virtual core::Status enqueue(const std::vector<OutboxMessage>& messages) = 0;

  /// Queues `messages` unless the notice `notice` of `key` was already given for `value`
  /// (e.g. reauthorize_soon for one refresh deadline), and remembers `value`; one
  /// transaction. True when queued.
  virtual core::Result<bool> enqueueOnce(const ConnectionKey& key, std::string_view notice,
                                         int64_t value,
                                         const std::vector<OutboxMessage>& messages) = 0;

  /// Pending messages due by the store clock, oldest first, at most `limit`, claimed for
  /// `owner` for `lease`; rows another owner holds an unexpired claim on are skipped
  /// (PostgreSQL: FOR UPDATE SKIP LOCKED), so each message goes to one replica.
  virtual core::Result<std::vector<OutboxMessage>> claimDueMessages(int limit,
                                                                    std::string_view owner,
                                                                    Duration lease) = 0;

  /// Records an attempt on a message `owner` claimed and drops the claim. False when the
  /// claim was lost meanwhile (the row is left alone).
  virtual core::Result<bool> recordAttempt(int64_t id, std::string_view owner,
                                           const OutboxAttempt& attempt) = 0;

  /// The newest messages, newest first, at most `limit` (the delivery log).
  virtual core::Result<std::vector<OutboxMessage>> recentMessages(int limit) = 0;

  /// Messages still pending (the queue depth).
  virtual core::Result<int64_t> pendingMessages() = 0;

  /// Deletes delivered and given-up messages finished before `before`; the count.
  virtual core::Result<int64_t> pruneMessages(TimePoint before) = 0;
};

}  // namespace tether::store
