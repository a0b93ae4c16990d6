// Words and numbers for people: times, durations, event labels and what to do about an
// identity provider's error code.

import type { AuthEvent, ConnectionState } from './types';

export function parseTime(value: string | null | undefined): Date | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

const absoluteFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  timeZoneName: 'short',
});
const clockFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const relativeFormat = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

export const formatAbsolute = (d: Date) => absoluteFormat.format(d);
export const formatClock = (d: Date) => clockFormat.format(d);

/** "in 5 minutes", "3 hours ago", "now". */
export function formatRelative(d: Date, now: number): string {
  const seconds = Math.round((d.getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 5) return 'just now';
  if (abs < 60) return relativeFormat.format(seconds, 'second');
  const minutes = Math.round(seconds / 60);
  if (Math.abs(minutes) < 60) return relativeFormat.format(minutes, 'minute');
  const hours = Math.round(seconds / 3600);
  if (Math.abs(hours) < 48) return relativeFormat.format(hours, 'hour');
  const days = Math.round(seconds / 86400);
  return relativeFormat.format(days, 'day');
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

export const KIND_LABEL: Record<string, string> = { mcp: 'MCP server', api: 'HTTP API' };
export const kindLabel = (kind: string) => KIND_LABEL[kind] ?? kind;

export const AUTH_MODE_LABEL: Record<string, string> = {
  oauth: 'OAuth',
  bearer: 'Bearer token',
  api_key: 'API key',
  header: 'Header',
  none: 'None',
};
export const authModeLabel = (mode: string) => AUTH_MODE_LABEL[mode] ?? mode;

export const STATE_LABEL: Record<ConnectionState, string> = {
  not_connected: 'Not connected',
  connected: 'Connected',
  refresh_failing: 'Refresh failing',
  needs_reauth: 'Needs re-authorization',
  needs_client_fix: 'Fix client credentials',
  not_applicable: 'Static credentials',
};

/** One line: what the operator should do about an IdP error code on a failed refresh. */
export function adviceFor(state: ConnectionState, code: string | null | undefined): string {
  const c = (code ?? '').trim();
  if (state === 'needs_reauth') {
    switch (c) {
      case 'invalid_client':
        return 'Check the client secret, then Reconnect.';
      case 'unauthorized_client':
        return 'Check that the client may use refresh tokens at the IdP, then Reconnect.';
      case 'invalid_scope':
        return 'Check the configured scopes, then Reconnect.';
      case 'invalid_grant':
      default:
        return 'Reconnect.';
    }
  }
  if (state === 'needs_client_fix') {
    return 'The IdP rejected Tether’s client credentials. Fix the client secret (or client id); Tether refreshes at once and keeps the grant: nobody has to reconnect.';
  }
  if (state === 'refresh_failing') {
    if (c === 'token_endpoint_unknown') {
      return 'Configuration error: no token endpoint in the issuer’s metadata. Check auth.issuer or set auth.token_url.';
    }
    if (c === 'temporarily_unavailable' || c === 'server_error' || c === '' || c.startsWith('http_')) {
      return 'Nothing yet: Tether retries on its own. Check the IdP’s status if it persists.';
    }
    return 'Tether retries on its own; if it persists, check the IdP and the client settings.';
  }
  if (state === 'not_connected') return 'Connect to sign in at the IdP.';
  return '';
}

const EVENT_LABEL: Record<string, string> = {
  connect_started: 'Sign-in started',
  connect_completed: 'Connected',
  connect_failed: 'Sign-in failed',
  refresh_succeeded: 'Token refreshed',
  refresh_failed_transient: 'Refresh failed, will retry',
  refresh_failed_revoked: 'Refresh rejected: re-authorization needed',
  refresh_skipped_no_token: 'Refresh skipped: no refresh token',
  refresh_skipped_expired: 'Refresh skipped: refresh token expired',
  refresh_rotation_persistence_failed: 'New refresh token could not be saved',
  token_deleted_revoked: 'Token removed: revoked at the IdP',
  token_deleted_admin: 'Token deleted by an operator',
  client_registered: 'Tether registered as a client at the IdP',
  refresh_failed_client_rejected: 'Refresh refused: the IdP rejected Tether’s client credentials',
  webhook_given_up: 'Webhook not delivered (given up)',
};

export function eventLabel(type: string): string {
  return EVENT_LABEL[type] ?? type.replaceAll('_', ' ').replace(/^./, (c) => c.toUpperCase());
}

export type Tone = 'good' | 'warn' | 'bad' | 'neutral';

export function eventTone(e: AuthEvent): Tone {
  switch (e.type) {
    case 'connect_completed':
    case 'refresh_succeeded':
      return 'good';
    case 'refresh_failed_transient':
    case 'refresh_skipped_no_token':
    case 'refresh_rotation_persistence_failed':
      return 'warn';
    case 'connect_failed':
    case 'refresh_failed_revoked':
    case 'refresh_failed_client_rejected':
    case 'refresh_skipped_expired':
    case 'token_deleted_revoked':
    case 'webhook_given_up':
      return 'bad';
    default:
      return 'neutral';
  }
}

/** Who caused an event: "admin:ops", "system:background-refresh", "system:tool-call". */
export function actorLabel(actor: string): string {
  if (!actor) return '';
  if (actor === 'system:background-refresh') return 'Tether (background refresh)';
  if (actor === 'system:tool-call') return 'Tether (during a proxied call)';
  const admin = /^admin:(.+)$/.exec(actor);
  if (admin) return `admin key “${admin[1]}”`;
  if (actor.startsWith('system:')) return `Tether (${actor.slice(7).replaceAll('-', ' ')})`;
  return actor;
}
