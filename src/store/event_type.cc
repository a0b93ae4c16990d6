#include "store/event_type.h"

namespace tether::store {

std::string_view eventTypeName(EventType type) {
  switch (type) {
    case EventType::kConnectStarted:
      return "connect_started";
    case EventType::kConnectCompleted:
      return "connect_completed";
    case EventType::kConnectFailed:
      return "connect_failed";
    case EventType::kRefreshSucceeded:
      return "refresh_succeeded";
    case EventType::kRefreshFailedTransient:
      return "refresh_failed_transient";
    case EventType::kRefreshFailedRevoked:
      return "refresh_failed_revoked";
    case EventType::kRefreshSkippedNoToken:
      return "refresh_skipped_no_token";
    case EventType::kRefreshSkippedExpired:
      return "refresh_skipped_expired";
    case EventType::kRefreshRotationPersistenceFailed:
      return "refresh_rotation_persistence_failed";
    case EventType::kTokenDeletedRevoked:
      return "token_deleted_revoked";
    case EventType::kTokenDeletedAdmin:
      return "token_deleted_admin";
    case EventType::kClientRegistered:
      return "client_registered";
    case EventType::kWebhookGivenUp:
      return "webhook_given_up";
    case EventType::kStepUpRequired:
      return "step_up_required";
    case EventType::kStepUpLimitReached:
      return "step_up_limit_reached";
    case EventType::kRefreshFailedClientRejected:
      return "refresh_failed_client_rejected";
    case EventType::kConnectionCreated:
      return "connection_created";
    case EventType::kConnectionUpdated:
      return "connection_updated";
    case EventType::kConnectionDeleted:
      return "connection_deleted";
  }
  return {};
}

std::optional<EventType> parseEventType(std::string_view name) {
  for (EventType t : kAllEventTypes) {
    if (eventTypeName(t) == name) return t;
  }
  return std::nullopt;
}

EventOutcome eventOutcome(EventType type) {
  switch (type) {
    case EventType::kConnectFailed:
    case EventType::kRefreshFailedTransient:
    case EventType::kRefreshFailedRevoked:
    case EventType::kTokenDeletedRevoked:
    case EventType::kStepUpRequired:
    case EventType::kStepUpLimitReached:
    case EventType::kRefreshFailedClientRejected:
      return EventOutcome::kFailure;
    case EventType::kConnectStarted:
    case EventType::kConnectCompleted:
    case EventType::kRefreshSucceeded:
    case EventType::kTokenDeletedAdmin:
      return EventOutcome::kSuccess;
    case EventType::kRefreshSkippedNoToken:
    case EventType::kRefreshSkippedExpired:
    case EventType::kRefreshRotationPersistenceFailed:
    case EventType::kClientRegistered:
    case EventType::kWebhookGivenUp:
    case EventType::kConnectionCreated:
    case EventType::kConnectionUpdated:
    case EventType::kConnectionDeleted:
      return EventOutcome::kNeutral;
  }
  return EventOutcome::kNeutral;
}

}  // namespace tether::store
