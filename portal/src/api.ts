// The admin REST API client. The session lives in an HttpOnly cookie the page cannot read;
// the CSRF token is kept in memory only (never in the DOM or in storage) and sent with every
// mutation. Errors become ApiError with a message fit to show an operator.

import type {
  AuthEvent,
  ConnectionDetail,
  ConnectionEntry,
  ConnectionHealth,
  ConnectionPage,
  ListParams,
  PortalConfig,
  RefreshResult,
  Session,
  StartResult,
  WebhookDelivery,
  WebhookInfo,
  WebhookTestResult,
} from './types';

const BASE = '/api/v1/admin';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfter: string | null = null,
    /** The configuration key the error is about ("auth.client_secret"), when Tether names one. */
    readonly field: string | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let csrfToken: string | null = null;
let onSessionLost: (() => void) | null = null;

/** Called once by the app: what to do when an admin call answers 401 (session expired). */
export function setSessionLostHandler(handler: (() => void) | null): void {
  onSessionLost = handler;
}

function fallbackMessage(status: number): string {
  if (status === 401) return 'Your session has ended. Sign in again.';
  if (status === 403) return 'Tether refused this request. Reload the page and try again.';
  if (status === 404) return 'Tether does not know this connection.';
  if (status === 409) return 'This connection needs to be re-authorized first.';
  if (status === 429) return 'Too many attempts. Wait a moment, then try again.';
  if (status === 503) return 'Tether or the identity provider is not available right now. Try again shortly.';
  if (status >= 500) return 'Tether hit an internal error. Its log has the details.';
  return `Tether answered with HTTP ${status}.`;
}

interface Options {
  body?: unknown;
  /** A 401 here is an answer (sign-in, session probe), not a lost session. */
  expectUnauthorized?: boolean;
  signal?: AbortSignal;
  /** Extra request headers (If-Match). */
  headers?: Record<string, string>;
}

async function call<T>(method: string, path: string, options: Options = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(BASE + path, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      credentials: 'same-origin',
      cache: 'no-store',
      signal: options.signal,
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'Tether could not be reached. Check that it is running, then try again.');
  }
  const text = response.status === 204 ? '' : await response.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = (data as { error?: { code?: unknown; message?: unknown; field?: unknown } } | null)?.error;
    const code = typeof error?.code === 'string' ? error.code : `http_${response.status}`;
    const message =
      typeof error?.message === 'string' && error.message ? error.message : fallbackMessage(response.status);
    if (response.status === 401 && !options.expectUnauthorized) {
      csrfToken = null;
      onSessionLost?.();
    }
    const field = typeof error?.field === 'string' && error.field ? error.field : null;
    throw new ApiError(response.status, code, message, response.headers.get('Retry-After'), field);
  }
  if (data === null && text) {
    throw new ApiError(response.status, 'bad_response', 'Tether sent an answer the portal does not understand.');
  }
  return data as T;
}

const conn = (kind: string, name: string) =>
  `/connections/${encodeURIComponent(kind)}/${encodeURIComponent(name)}`;

/** The current session, or null when signed out. */
export async function getSession(): Promise<Session | null> {
  try {
    const s = await call<Session>('GET', '/session', { expectUnauthorized: true });
    csrfToken = s.csrf_token;
    return s;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      csrfToken = null;
      return null;
    }
    throw e;
  }
}

/** How one may sign in (single sign-on or not); public, no session needed. */
export async function getPortalConfig(): Promise<PortalConfig> {
  try {
    return await call<PortalConfig>('GET', '/portal-config', { expectUnauthorized: true });
  } catch {
    return { sso: null }; // an older Tether: admin keys only
  }
}

export async function signIn(key: string): Promise<Session> {
  try {
    const s = await call<Session>('POST', '/session', { body: { key }, expectUnauthorized: true });
    csrfToken = s.csrf_token;
    return s;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      throw new ApiError(401, e.code, 'That admin key was not accepted. Check it and try again.');
    }
    throw e;
  }
}

export async function signOut(): Promise<void> {
  try {
    await call<void>('DELETE', '/session', { expectUnauthorized: true });
  } finally {
    csrfToken = null;
  }
}

/** One page of the list, searched, filtered and ordered by Tether (severity, then name). */
export function listConnections(params: ListParams, signal?: AbortSignal) {
  const query = new URLSearchParams();
  if (params.q) query.set('q', params.q);
  if (params.kind) query.set('kind', params.kind);
  if (params.auth) query.set('auth', params.auth);
  if (params.state) query.set('state', params.state);
  if (params.sort) query.set('sort', params.sort);
  query.set('offset', String(params.offset));
  query.set('limit', String(params.limit));
  return call<ConnectionPage>('GET', `/connections?${query}`, { signal });
}

export const oauthHealth = (signal?: AbortSignal) =>
  call<{ connections: ConnectionHealth[] }>('GET', '/connections/oauth-health', { signal }).then(
    (r) => r.connections ?? [],
  );

export const getConnection = (kind: string, name: string, signal?: AbortSignal) =>
  call<ConnectionDetail>('GET', conn(kind, name), { signal });

export const getAuthEvents = (kind: string, name: string, limit = 30, signal?: AbortSignal) =>
  call<{ events: AuthEvent[] }>('GET', `${conn(kind, name)}/auth-events?limit=${limit}`, { signal }).then(
    (r) => r.events ?? [],
  );

export const startConnect = (kind: string, name: string, returnUrl: string) =>
  call<StartResult>('POST', `${conn(kind, name)}/oauth/start`, { body: { return_url: returnUrl } });

export const refreshNow = (kind: string, name: string) =>
  call<RefreshResult>('POST', `${conn(kind, name)}/oauth/refresh`);

export const deleteToken = (kind: string, name: string) =>
  call<{ deleted: boolean }>('DELETE', `${conn(kind, name)}/oauth/token`);

const ifMatch = (version: number | string | undefined) =>
  version === undefined || version === null || version === '' ? undefined : { 'If-Match': `"${version}"` };

/** Creates a connection from one `connections:` entry (400 names the field; 409 when the name exists). */
export const createConnection = (entry: ConnectionEntry) =>
  call<ConnectionEntry>('POST', '/connections', { body: entry });

/** Replaces a connection's entry; a secret left out keeps its stored value (412 when edited meanwhile). */
export const replaceConnection = (kind: string, name: string, entry: ConnectionEntry, version?: number | string) =>
  call<ConnectionEntry>('PUT', conn(kind, name), { body: entry, headers: ifMatch(version) });

/** Deletes a connection: its tokens go (the refresh token is revoked at the IdP), its history stays. */
export const deleteConnection = (kind: string, name: string, version?: number | string) =>
  call<void>('DELETE', conn(kind, name), { headers: ifMatch(version) });

export const listWebhooks = (signal?: AbortSignal) =>
  call<{ webhooks: WebhookInfo[] }>('GET', '/webhooks', { signal }).then((r) => r.webhooks ?? []);

export const webhookDeliveries = (limit = 50, signal?: AbortSignal) =>
  call<{ deliveries: WebhookDelivery[] }>('GET', `/webhooks/deliveries?limit=${limit}`, { signal }).then(
    (r) => r.deliveries ?? [],
  );

export const sendWebhookTest = (index: number) =>
  call<WebhookTestResult>('POST', `/webhooks/${index}/test`);
