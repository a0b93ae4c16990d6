// Shapes of the admin REST API (/api/v1/admin). Times are RFC 3339 strings or null.

export type OAuthState = 'not_connected' | 'connected' | 'refresh_failing' | 'needs_reauth' | 'needs_client_fix';
export type ConnectionState = OAuthState | 'not_applicable';
/** The status card Tether derives for a connection (the portal shows it as is). */
export type OAuthCardStatus = OAuthState | 'revoked' | 'never_connected';

export type Role = 'admin' | 'viewer' | 'user';

export interface Session {
  /** The admin key's id; empty for a single sign-on session. */
  key_id: string;
  csrf_token: string;
  role: Role;
  /** Single sign-on only: the IdP's subject and a display name. */
  subject?: string;
  name?: string;
}

/** GET /api/v1/admin/portal-config (public): how one may sign in. */
export interface PortalConfig {
  sso: { name: string; start_url: string } | null;
}

export interface ConnectionSummary {
  kind: string;
  name: string;
  url_host: string;
  /** host[:port][/path] of the upstream URL. */
  upstream: string;
  auth_mode: string;
  state: ConnectionState;
  /** 0 needs a human (re-auth, client fix), 1 failing, 2 not connected, 3 connected, 4 static. */
  severity: number;
  idp_error_code: string;
  reason: string;
  token_acquired: boolean;
  expires_at: string | null;
  last_refreshed_at: string | null;
  refresh_deadline: string | null;
  refresh_deadline_source: '' | 'idp' | 'refresh_max_lifetime';
  next_attempt_at: string | null;
  /** "config": declared in Tether's configuration file (read-only here); "api": made at runtime. */
  source?: ConnectionSource;
  /** When a proxied call last reached it (written every 15 s); null: not since records began. */
  last_used_at?: string | null;
  /** The newest connect attempt, when it failed (cleared by a completed one). */
  connect_failure?: ListConnectFailure | null;
}

export type ConnectionSource = 'config' | 'api';

export interface ListConnectFailure {
  at: string;
  reason: string;
  idp_error: string;
}

export type ListSort = '' | 'name' | 'last_used';

export type ListStateFilter = ConnectionState | 'attention';

export interface ListParams {
  q: string;
  kind: string;
  auth: string;
  state: '' | ListStateFilter;
  /** '' = severity, then name. */
  sort?: ListSort;
  offset: number;
  limit: number;
}

export interface ConnectionPage {
  connections: ConnectionSummary[];
  total: number;
  offset: number;
  limit: number;
  next_offset: number | null;
  counts: Record<ConnectionState, number>;
}

export interface ConnectionHealth {
  kind: string;
  name: string;
  has_oauth: boolean;
  needs_reauth: boolean;
  token_acquired: boolean;
  state: ConnectionState;
  idp_error_code: string;
}

export interface Revocation {
  at: string | null;
  reason: string;
  idp_host: string;
}

export interface OAuthStatus {
  state: OAuthState;
  /** The status card: `state`, or "revoked" / "never_connected" for a connection without a token. */
  status: OAuthCardStatus;
  /** A token is stored (there is something to delete). */
  has_token: boolean;
  /** The code to show: the last error code, else the revocation's reason while re-auth is needed. */
  error_code: string;
  expires_at: string | null;
  refresh_expires_at: string | null;
  last_refreshed_at: string | null;
  authenticated_at: string | null;
  authenticated_by: string | null;
  scope: string | null;
  has_refresh_token: boolean;
  last_revocation: Revocation | null;
  /** When refreshing stops being possible (refresh token expiry or refresh_max_lifetime). */
  refresh_deadline?: string | null;
  /** Tether's reason code for the current state, when it has one. */
  reason?: string;
  next_attempt_at: string | null;
  consecutive_failures: number;
  last_error_code: string | null;
  reauthorize_soon: boolean;
  idp_host: string | null;
  /** Where the refresh deadline comes from: the IdP's disclosed expiry or refresh_max_lifetime. */
  refresh_deadline_source?: '' | 'idp' | 'refresh_max_lifetime';
  refresh_max_lifetime_s?: number | null;
  /** The keeper's next planned refresh. */
  next_refresh_at?: string | null;
  /** The IdP's issuer URL (configured). */
  issuer?: string;
  /** The newest failed connect attempt, unless a later one completed. */
  last_connect_failure?: ConnectFailure | null;
  /** Who consented at the IdP (the ID token's claims, unverified; display only). */
  consenting_account?: ConsentingAccount | null;
}

export interface ConsentingAccount {
  subject: string;
  email: string;
  name: string;
  at: string;
}

export interface ConnectFailure {
  at: string;
  reason: string;
  idp_error: string;
  actor: string;
}

export interface ConnectionDetail {
  kind: string;
  name: string;
  url_host: string;
  auth_mode: string;
  oauth: OAuthStatus | null;
  /** host[:port][/path] of the upstream. */
  upstream?: string;
  /** Where agents call this connection through Tether: "/mcp/<name>" or "/api/<name>/". */
  gateway_path?: string;
  /** The same on the data plane's base URL (not the admin listener's); null: unknown. */
  gateway_url?: string | null;
  /** When a proxied call last reached it; null: not since records began. */
  last_used_at?: string | null;
  /** clients.keys is set: callers must send Authorization: Bearer <client key>. */
  client_key_required?: boolean;
  /** "config": declared in the configuration file (no edit or delete here); "api": made at runtime. */
  source?: ConnectionSource;
  /** The configuration file that declares it (source "config"). */
  config_file?: string;
  /** The connection's settings as one `connections:` entry; secrets say "set" / "not set". */
  definition?: ConnectionEntry;
  /** The definition's version: sent as If-Match with an edit or a delete. */
  version?: number | string;
}

/** One `connections:` entry of Tether's configuration, as JSON (the admin API's body). */
export interface ConnectionEntry {
  kind: string;
  name: string;
  url: string;
  timeout?: string;
  auth?: EntryAuth;
}

export interface EntryAuth {
  mode: 'none' | 'bearer' | 'api_key' | 'oauth';
  /** bearer; write-only ("set" / "not set" in answers). */
  token?: string;
  /** api_key */
  header?: string;
  /** api_key; write-only. */
  key?: string;
  grant?: 'authorization_code' | 'client_credentials';
  issuer?: string;
  authorization_url?: string;
  token_url?: string;
  client_id?: string;
  /** Write-only ("set" / "not set" in answers). */
  client_secret?: string;
  client_auth?: string;
  scopes?: string;
  extra_params?: Record<string, string>;
  resource_indicator?: boolean;
  refresh_max_lifetime?: string;
  ca_bundle?: string;
}

export type AuthEventType =
  | 'connect_started'
  | 'connect_completed'
  | 'connect_failed'
  | 'refresh_succeeded'
  | 'refresh_failed_transient'
  | 'refresh_failed_revoked'
  | 'refresh_skipped_no_token'
  | 'refresh_skipped_expired'
  | 'refresh_rotation_persistence_failed'
  | 'token_deleted_revoked'
  | 'token_deleted_admin'
  | 'refresh_failed_client_rejected';

export interface AuthEventDetail {
  expires_before?: string | null;
  expires_after?: string | null;
  refresh_expires_before?: string | null;
  refresh_expires_after?: string | null;
  rotated?: boolean;
  duration_ms?: number;
  http_status?: number;
  idp_error?: string;
  error_class?: 'success' | 'transient' | 'terminal' | string;
  reason?: string;
  consecutive_failures?: number;
  next_attempt_at?: string | null;
  suppressed?: number | boolean;
}

export interface AuthEvent {
  id: string | number;
  at: string;
  type: AuthEventType | string;
  actor: string;
  idp_host: string;
  correlation_id: string;
  detail: AuthEventDetail | null;
}

export interface StartResult {
  authorization_url: string;
}

export interface RefreshResult {
  refreshed: boolean;
  expires_at: string | null;
}

/** A configured webhook as GET /webhooks lists it (the URL's query masked; no secret). */
export interface WebhookInfo {
  index: number;
  url: string;
  events: string[];
  headers: string[];
  ca_bundle: boolean;
}

/** One line of the delivery log (GET /webhooks/deliveries). */
export interface WebhookDelivery {
  id: string;
  event: string;
  connection: { kind: string; name: string };
  webhook: string;
  attempts: number;
  last_status: number;
  last_error: string | null;
  state: 'pending' | 'delivered' | 'given_up';
  created_at: string;
  next_attempt_at: string | null;
  finished_at: string | null;
}

/** The answer of POST /webhooks/{index}/test. */
export interface WebhookTestResult {
  delivered: boolean;
  status: number;
  error: string | null;
  id: string;
}
