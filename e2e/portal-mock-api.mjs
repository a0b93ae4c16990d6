#!/usr/bin/env node
// A stand-in for Tether's admin API, for developing the portal without the C++ backend and for
// checking the portal end-to-end test's browser half (`node e2e/portal-e2e.mjs --mock-api`).
// Development only: Tether's tests run the real binary.
//
//   node e2e/portal-mock-api.mjs [--port 0] [--key ADMIN_KEY] [--dist portal/dist]
//   # stdout, once: portal-mock-api listening on http://127.0.0.1:<port>
//
// Serves portal/dist under /portal/ (SPA fallback, a strict CSP like Tether's) and the admin
// API under /api/v1/admin as the contract describes, with in-memory connections: mcp/wiki
// (healthy), api/billing (refresh failing), mcp/tickets (needs re-auth, invalid_client),
// mcp/notes (never connected), api/status (bearer). Its "IdP" is /mock-idp/authorize, a
// consent page whose Approve button connects the connection and returns to return_url.
// POST /mock-control/state {"kind","name","state","code"} changes a connection's state.
// Connections as data (issue 14): every connection has a `source` ("config": declared in the
// file, read-only, 409 naming it; "api": made at runtime) and the detail a `definition` (one
// `connections:` entry, secrets "set"/"not set") and `version`. POST /connections, PUT and
// DELETE /connections/{kind}/{name} (If-Match "<version>", else 412) validate like Tether
// (400 {"error":{"code","message","field"}} naming the key path). mcp/crm (source api) is
// needs_client_fix (invalid_client): a PUT with a new auth.client_secret heals it (connected,
// same grant), as Tether's lifecycle does.

import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values: opts } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    key: { type: 'string', default: 'mock-admin-key-0123456789' },
    dist: { type: 'string', default: path.join(here, '..', 'portal', 'dist') },
  },
});

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
  "font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png' };

const now = () => Date.now();
const iso = (ms) => (ms == null ? null : new Date(ms).toISOString());
const HOUR = 3600_000;
const DAY = 24 * HOUR;
let eventId = 1;

function oauth(state, extra = {}) {
  return {
    state,
    expires_at: null,
    refresh_expires_at: null,
    last_refreshed_at: null,
    authenticated_at: null,
    authenticated_by: null,
    scope: null,
    has_refresh_token: false,
    last_revocation: null,
    next_attempt_at: null,
    consecutive_failures: 0,
    last_error_code: null,
    reauthorize_soon: false,
    idp_host: '127.0.0.1:9400',
    ...extra,
  };
}

// The fields Tether derives for the status card (src/lifecycle/connection_view.cc).
function served(o) {
  const hasToken = Boolean(o.authenticated_at) && o.state !== 'not_connected';
  const lacking = o.state === 'needs_reauth' || o.state === 'not_connected';
  const revoked = lacking && Boolean(o.last_revocation);
  let status = o.state;
  if (o.state === 'not_connected') status = revoked ? 'revoked' : o.authenticated_at ? 'not_connected' : 'never_connected';
  const code = o.last_error_code || (o.state === 'needs_reauth' && revoked ? o.last_revocation.reason : '') || '';
  return { ...o, status, has_token: hasToken, error_code: code };
}

const connected = (t) => ({
  expires_at: iso(t + HOUR),
  refresh_expires_at: iso(t + 30 * DAY),
  last_refreshed_at: null,
  authenticated_at: iso(t),
  authenticated_by: 'admin:ops',
  scope: 'openid offline_access mcp:tools',
  has_refresh_token: true,
});

const connections = [
  { kind: 'mcp', name: 'wiki', url_host: 'wiki.internal.example:443', auth_mode: 'oauth', oauth: oauth('connected', { ...connected(now() - 3 * HOUR), last_refreshed_at: iso(now() - 20 * 60_000), expires_at: iso(now() + 40 * 60_000) }) },
  { kind: 'api', name: 'billing', url_host: 'billing.example.com', auth_mode: 'oauth', oauth: oauth('refresh_failing', { ...connected(now() - 2 * DAY), expires_at: iso(now() + 4 * 60_000), consecutive_failures: 3, next_attempt_at: iso(now() + 90_000), last_error_code: 'temporarily_unavailable' }) },
  { kind: 'mcp', name: 'tickets', url_host: 'tickets.example.com', auth_mode: 'oauth', oauth: oauth('needs_reauth', { ...connected(now() - 5 * DAY), last_error_code: 'invalid_grant', last_revocation: { at: iso(now() - HOUR), reason: 'invalid_grant', idp_host: '127.0.0.1:9400' } }) },
  { kind: 'mcp', name: 'notes', url_host: 'notes.example.com', auth_mode: 'oauth', oauth: oauth('not_connected') },
  { kind: 'api', name: 'status', url_host: 'status.example.com', auth_mode: 'bearer', oauth: null },
];
const CONFIG_FILE = '/etc/tether/tether.yaml';
for (const c of connections) c.source = 'config';
connections.push({
  kind: 'mcp',
  name: 'crm',
  url_host: 'crm.example.com',
  auth_mode: 'oauth',
  source: 'api',
  version: 3,
  definition: { kind: 'mcp', name: 'crm', url: 'https://crm.example.com/mcp', auth: { mode: 'oauth', grant: 'authorization_code', issuer: 'https://idp.example.com', client_id: 'crm-client', scopes: 'openid offline_access' } },
  secrets: { client_secret: 'crm-old-secret' },
  oauth: oauth('needs_client_fix', { ...connected(now() - 3 * DAY), last_error_code: 'invalid_client', consecutive_failures: 1 }),
});
connections[0].upstream = 'wiki.internal.example:443/mcp';
connections[0].last_used_at = iso(now() - 4 * 60_000);
connections[4].upstream = 'status.example.com/v2';
connections[4].last_used_at = iso(now() - 2 * HOUR);
const events = new Map(connections.map((c) => [`${c.kind}/${c.name}`, []]));
function record(c, type, actor, detail = {}, at = now()) {
  events.get(`${c.kind}/${c.name}`).unshift({ id: eventId++, at: iso(at), type, actor, idp_host: '127.0.0.1:9400', correlation_id: crypto.randomUUID(), detail });
}
for (const c of connections.filter((c) => c.oauth?.authenticated_at)) {
  const t = Date.parse(c.oauth.authenticated_at);
  record(c, 'connect_started', 'admin:ops', {}, t - 8000);
  record(c, 'connect_completed', 'admin:ops', { duration_ms: 412, http_status: 200, error_class: 'success', expires_after: iso(t + HOUR) }, t);
}
record(connections[0], 'refresh_succeeded', 'system:background-refresh', { duration_ms: 87, rotated: true, http_status: 200, error_class: 'success' }, now() - 20 * 60_000);
record(connections[1], 'refresh_failed_transient', 'system:background-refresh', { duration_ms: 3012, http_status: 503, error_class: 'transient', consecutive_failures: 3, next_attempt_at: iso(now() + 90_000), suppressed: 1 }, now() - 60_000);
record(connections[2], 'refresh_failed_revoked', 'system:background-refresh', { duration_ms: 95, http_status: 400, idp_error: 'invalid_grant', error_class: 'terminal' }, now() - HOUR);

record(connections[5], 'refresh_failed_client_rejected', 'system:background-refresh', { duration_ms: 80, http_status: 401, idp_error: 'invalid_client', error_class: 'client', reason: 'invalid_client' }, now() - 2 * HOUR);

// --- Connections as data -----------------------------------------------------------------

const SECRET_KEYS = ['client_secret', 'token', 'key'];
const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const DURATION = /^[0-9]+(ms|s|m|h|d)$/;
const bad = (field, message) => ({ field, message });

/** What `tether config check` would say about one entry (the subset the portal test needs). */
function validate(e) {
  if (!e || typeof e !== 'object' || Array.isArray(e)) return bad('', 'must be a map');
  if (e.kind !== 'mcp' && e.kind !== 'api') return bad('kind', 'must be one of mcp, api');
  if (typeof e.name !== 'string' || !NAME.test(e.name)) return bad('name', 'must match [a-z0-9][a-z0-9_-]{0,62}');
  if (e.kind === 'api' && e.name === 'v1') return bad('name', '"v1" collides with the route /api/v1');
  let url;
  try {
    url = new URL(e.url);
  } catch {
    return bad('url', 'must be an absolute http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return bad('url', 'must be an absolute http(s) URL');
  const a = e.auth ?? { mode: 'none' };
  if (!['none', 'bearer', 'api_key', 'oauth'].includes(a.mode)) return bad('auth.mode', 'must be one of none, bearer, api_key, oauth');
  if (a.mode !== 'oauth') return null;
  if (a.grant && !['authorization_code', 'client_credentials'].includes(a.grant)) return bad('auth.grant', 'must be one of authorization_code, client_credentials');
  if (a.issuer && (a.authorization_url || a.token_url)) return bad('auth.issuer', 'give auth.issuer or auth.authorization_url and auth.token_url, not both');
  for (const k of ['issuer', 'authorization_url', 'token_url']) {
    if (!a[k]) continue;
    try {
      new URL(a[k]);
    } catch {
      return bad(`auth.${k}`, 'must be an absolute http(s) URL');
    }
  }
  if (a.grant === 'client_credentials' && !a.client_id) return bad('auth.client_id', 'is required with grant client_credentials');
  if (a.refresh_max_lifetime && !DURATION.test(a.refresh_max_lifetime)) return bad('auth.refresh_max_lifetime', `must be a duration such as 90d, 24h or 30m (got "${String(a.refresh_max_lifetime).slice(0, 32)}")`);
  return null;
}

/** The entry as answers show it: secrets "set" / "not set". */
function masked(c) {
  const d = structuredClone(c.definition);
  const auth = d.auth ?? {};
  const mode = auth.mode;
  const own = { bearer: ['token'], api_key: ['key'], oauth: ['client_secret'] }[mode] ?? [];
  for (const k of own) auth[k] = c.secrets?.[k] ? 'set' : 'not set';
  return d;
}

function splitSecrets(entry, keep = {}) {
  const def = structuredClone(entry);
  const secrets = { ...keep };
  for (const k of SECRET_KEYS) {
    if (def.auth && typeof def.auth[k] === 'string') {
      secrets[k] = def.auth[k];
      delete def.auth[k];
    }
  }
  return { def, secrets };
}

const hostOf = (u) => {
  try {
    return new URL(u).host;
  } catch {
    return '';
  }
};
const etag = (c) => ({ ETag: `"${c.version}"` });
const ifMatchOk = (req, c) => !req.headers['if-match'] || req.headers['if-match'] === `"${c.version}"`;
const fieldError = (res, b) => send(res, 400, { error: { code: 'invalid_argument', message: `${b.field || 'the connection'} ${b.message}`, field: b.field } });

const sessions = new Map(); // id -> {key_id, csrf}
const flows = new Map(); // state -> {conn, return_url, by}

function send(res, status, body, headers = {}) {
  const data = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'Cache-Control': 'no-store', ...(typeof body === 'object' ? { 'Content-Type': 'application/json' } : {}), ...headers });
  res.end(data);
}
const error = (res, status, code, message, headers) => send(res, status, { error: { code, message } }, headers);

function sessionOf(req) {
  const m = /(?:^|;\s*)tether_session=([^;]+)/.exec(req.headers.cookie ?? '');
  return m ? sessions.get(m[1]) && { id: m[1], ...sessions.get(m[1]) } : null;
}

// null when allowed (and the actor), else answers.
function authorize(req, res) {
  const auth = req.headers.authorization ?? '';
  if (auth === `Bearer ${opts.key}`) return 'admin:ops';
  const s = sessionOf(req);
  if (!s) return error(res, 401, 'unauthenticated', 'an admin key or a portal session is required'), null;
  if (req.method !== 'GET' && req.headers['x-csrf-token'] !== s.csrf) return error(res, 403, 'forbidden', 'missing or wrong X-CSRF-Token'), null;
  return `admin:${s.key_id}`;
}

const readBody = (req) =>
  new Promise((resolve) => {
    let b = '';
    req.on('data', (d) => (b += d));
    req.on('end', () => resolve(b));
  });

function stateOf(c) {
  return c.oauth ? c.oauth.state : 'not_applicable';
}

// GET /connections as Tether answers it (src/admin/list_query.cc): search, filters, severity
// or name or last-use order, paging, per-state counts over the rows matching q/kind/auth.
const LIST_STATES = ['needs_reauth', 'needs_client_fix', 'refresh_failing', 'not_connected', 'connected', 'not_applicable'];
function listQuery(sp) {
  const oneOf = (name, allowed) => {
    const v = sp.get(name) ?? '';
    if (v && !allowed.includes(v)) return { bad: `${name} must be one of ${allowed.join(', ')} (got "${v.slice(0, 32)}")` };
    return { v };
  };
  const number = (name, dflt, min, max) => {
    const t = sp.get(name);
    if (t === null) return { v: dflt };
    const n = /^\d+$/.test(t) ? Number(t) : NaN;
    if (!(n >= min && n <= max)) return { bad: `${name} must be a whole number from ${min} to ${max}` };
    return { v: n };
  };
  const qText = sp.get('q') ?? '';
  if (qText.length > 200) return { error: 'q must be at most 200 characters' };
  const parts = {
    kind: oneOf('kind', ['mcp', 'api']),
    auth: oneOf('auth', ['none', 'bearer', 'api_key', 'oauth']),
    state: oneOf('state', [...LIST_STATES, 'attention']),
    sort: oneOf('sort', ['severity', 'name', 'last_used']),
    limit: number('limit', 100, 1, 500),
    offset: number('offset', 0, 0, 100_000_000),
  };
  for (const p of Object.values(parts)) if (p.bad) return { error: p.bad };
  return { q: qText.toLowerCase(), ...Object.fromEntries(Object.entries(parts).map(([k, p]) => [k, p.v])) };
}

function severityOf(c) {
  if (!c.oauth) return 4;
  const s = c.oauth.state;
  const code = c.oauth.last_error_code;
  if (s === 'needs_reauth' || s === 'needs_client_fix' || code === 'invalid_client' || code === 'unauthorized_client') return 0;
  if (s === 'not_connected' && c.connect_failure) {
    const f = c.connect_failure.idp_error || c.connect_failure.reason;
    return f === 'invalid_client' || f === 'unauthorized_client' ? 0 : 1;
  }
  return { refresh_failing: 1, not_connected: 2, connected: 3 }[s];
}

function summary(c) {
  const o = c.oauth;
  const deadline = o?.authenticated_at && o.refresh_expires_at ? o.refresh_expires_at : null;
  return {
    kind: c.kind,
    name: c.name,
    url_host: c.url_host,
    upstream: c.upstream ?? c.url_host,
    auth_mode: c.auth_mode,
    state: stateOf(c),
    severity: severityOf(c),
    idp_error_code: o && (o.state === 'needs_reauth' || o.state === 'needs_client_fix' || o.state === 'refresh_failing') ? o.last_error_code ?? '' : '',
    reason: '',
    token_acquired: Boolean(o?.authenticated_at) && o?.state !== 'not_connected',
    expires_at: o?.expires_at ?? null,
    last_refreshed_at: o?.last_refreshed_at ?? null,
    refresh_deadline: deadline,
    refresh_deadline_source: deadline ? 'idp' : '',
    next_attempt_at: o?.next_attempt_at ?? null,
    source: c.source,
    last_used_at: c.last_used_at ?? null,
    connect_failure: o?.state === 'not_connected' || c.connect_failure ? c.connect_failure ?? null : null,
  };
}

function listPage(q) {
  const counts = Object.fromEntries(LIST_STATES.map((s) => [s, 0]));
  const matching = [];
  for (const c of connections) {
    if (q.kind && c.kind !== q.kind) continue;
    if (q.auth && c.auth_mode !== q.auth) continue;
    const upstream = (c.upstream ?? c.url_host).toLowerCase();
    if (q.q && !c.name.toLowerCase().includes(q.q) && !upstream.includes(q.q)) continue;
    const row = summary(c);
    counts[row.state]++;
    if (q.state && (q.state === 'attention' ? row.severity > 2 : row.state !== q.state)) continue;
    matching.push(row);
  }
  const byName = (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0);
  matching.sort((a, b) => {
    if (q.sort === 'last_used') {
      const ua = a.last_used_at ? Date.parse(a.last_used_at) : -Infinity;
      const ub = b.last_used_at ? Date.parse(b.last_used_at) : -Infinity;
      if (ua !== ub) return ub - ua;
    } else if (q.sort !== 'name' && a.severity !== b.severity) {
      return a.severity - b.severity;
    }
    return byName(a, b);
  });
  const page = matching.slice(q.offset, q.offset + q.limit);
  const next = q.offset + page.length;
  return { connections: page, total: matching.length, offset: q.offset, limit: q.limit, next_offset: next < matching.length ? next : null, counts };
}

function serveStatic(req, res, pathname) {
  let rel = pathname.replace(/^\/portal\/?/, '');
  let file = path.join(opts.dist, rel);
  if (!rel || !file.startsWith(opts.dist) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
    if (rel.startsWith('assets/')) return send(res, 404, 'not found', { 'Content-Type': 'text/plain' });
    file = path.join(opts.dist, 'index.html');
  }
  const type = TYPES[path.extname(file)] ?? 'application/octet-stream';
  res.writeHead(200, { 'Content-Type': type, 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff', 'Cache-Control': rel.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache' });
  res.end(fs.readFileSync(file));
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  const p = url.pathname;
  if (p === '/' ) return send(res, 302, '', { Location: '/portal/' });
  if (p === '/portal' || p.startsWith('/portal/')) return serveStatic(req, res, p);

  if (p === '/mock-idp/authorize' && req.method === 'GET') {
    const flow = flows.get(url.searchParams.get('state'));
    if (!flow) return send(res, 400, 'unknown flow', { 'Content-Type': 'text/plain' });
    return send(res, 200, `<!doctype html><title>Authorize</title><h1>Authorize tether-client</h1><p>${flow.conn.kind}/${flow.conn.name}</p><form method="post" action="/mock-idp/decision"><input type="hidden" name="state" value="${url.searchParams.get('state')}"><button name="decision" value="approve">Approve</button></form><form method="post" action="/mock-idp/decision"><input type="hidden" name="state" value="${url.searchParams.get('state')}"><button name="decision" value="deny">Deny</button></form>`, { 'Content-Type': 'text/html' });
  }
  if (p === '/mock-idp/decision' && req.method === 'POST') {
    const form = new URLSearchParams(await readBody(req));
    const flow = flows.get(form.get('state'));
    if (!flow) return send(res, 400, 'unknown flow', { 'Content-Type': 'text/plain' });
    flows.delete(form.get('state'));
    const c = flow.conn;
    if (form.get('decision') === 'approve') {
      c.oauth = oauth('connected', { ...connected(now()), authenticated_by: flow.by });
      c.connect_failure = null;
      record(c, 'connect_completed', flow.by, { duration_ms: 230, http_status: 200, error_class: 'success', expires_after: c.oauth.expires_at, refresh_expires_after: c.oauth.refresh_expires_at });
    } else {
      c.connect_failure = { at: iso(now()), reason: 'authorization_refused', idp_error: 'access_denied' };
      record(c, 'connect_failed', flow.by, { idp_error: 'access_denied', error_class: 'terminal' });
    }
    return send(res, 302, '', { Location: flow.return_url || '/portal/' });
  }
  if (p === '/mock-control/state' && req.method === 'POST') {
    const b = JSON.parse(await readBody(req));
    const c = connections.find((x) => x.kind === b.kind && x.name === b.name);
    if (!c?.oauth) return error(res, 404, 'not_found', 'no such OAuth connection');
    c.oauth.state = b.state;
    c.oauth.last_error_code = b.code ?? null;
    return send(res, 200, { ok: true });
  }

  if (!p.startsWith('/api/v1/admin/')) return error(res, 404, 'not_found', 'no route');
  const route = p.slice('/api/v1/admin'.length);

  if (route === '/session') {
    if (req.method === 'POST') {
      let body;
      try {
        body = JSON.parse(await readBody(req));
      } catch {
        return error(res, 400, 'invalid_argument', 'the body must be JSON');
      }
      if (body?.key !== opts.key) return error(res, 401, 'unauthenticated', 'unknown admin key');
      const id = crypto.randomBytes(24).toString('base64url');
      const s = { key_id: 'ops', csrf: crypto.randomBytes(18).toString('base64url') };
      sessions.set(id, s);
      return send(res, 200, { key_id: s.key_id, csrf_token: s.csrf }, { 'Set-Cookie': `tether_session=${id}; HttpOnly; SameSite=Strict; Path=/` });
    }
    const s = sessionOf(req);
    if (req.method === 'GET') return s ? send(res, 200, { key_id: s.key_id, csrf_token: s.csrf }) : error(res, 401, 'unauthenticated', 'no session');
    if (req.method === 'DELETE') {
      if (s && req.headers['x-csrf-token'] !== s.csrf) return error(res, 403, 'forbidden', 'missing or wrong X-CSRF-Token');
      if (s) sessions.delete(s.id);
      res.writeHead(204, { 'Set-Cookie': 'tether_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0' });
      return res.end();
    }
  }

  const actor = authorize(req, res);
  if (!actor) return;
  if (route === '/connections' && req.method === 'GET') {
    const q = listQuery(url.searchParams);
    if (q.error) return error(res, 400, 'invalid_argument', q.error);
    return send(res, 200, listPage(q));
  }
  if (route === '/connections' && req.method === 'POST') {
    let entry;
    try {
      entry = JSON.parse(await readBody(req));
    } catch {
      return error(res, 400, 'invalid_argument', 'the body must be JSON');
    }
    const b = validate(entry);
    if (b) return fieldError(res, b);
    if (connections.some((x) => x.kind === entry.kind && x.name === entry.name)) {
      return error(res, 409, 'conflict', `connection ${entry.kind}/${entry.name} exists already`);
    }
    const { def, secrets } = splitSecrets(entry);
    const c = { kind: def.kind, name: def.name, url_host: hostOf(def.url), auth_mode: def.auth?.mode ?? 'none', source: 'api', version: 1, definition: def, secrets, oauth: def.auth?.mode === 'oauth' ? oauth('not_connected') : null };
    connections.push(c);
    events.set(`${c.kind}/${c.name}`, []);
    record(c, 'connection_created', actor, {});
    return send(res, 201, { ...masked(c), source: 'api', version: c.version }, etag(c));
  }
  if (route === '/connections/oauth-health' && req.method === 'GET') {
    return send(res, 200, {
      connections: connections.filter((c) => c.oauth).map((c) => ({ kind: c.kind, name: c.name, has_oauth: true, needs_reauth: c.oauth.state === 'needs_reauth', token_acquired: Boolean(c.oauth.authenticated_at), state: c.oauth.state, idp_error_code: c.oauth.state === 'needs_reauth' || c.oauth.state === 'refresh_failing' ? c.oauth.last_error_code ?? '' : '' })),
    });
  }
  const m = /^\/connections\/([^/]+)\/([^/]+)(\/.*)?$/.exec(route);
  const c = m && connections.find((x) => x.kind === decodeURIComponent(m[1]) && x.name === decodeURIComponent(m[2]));
  if (!c) return error(res, 404, 'not_found', 'no such connection');
  const rest = m[3] ?? '';
  if (rest === '' && req.method === 'GET') {
    const gatewayPath = c.kind === 'mcp' ? `/mcp/${c.name}` : `/api/${c.name}/`;
    const account = c.oauth?.authenticated_at && c.oauth.state !== 'not_connected' ? { subject: 'user-4711', email: 'ops@example.com', name: 'Ops Person', at: c.oauth.authenticated_at } : null;
    const extra = c.source === 'api' ? { definition: masked(c), version: c.version } : { config_file: CONFIG_FILE };
    return send(res, 200, {
      kind: c.kind,
      name: c.name,
      url_host: c.url_host,
      auth_mode: c.auth_mode,
      upstream: c.upstream ?? c.url_host,
      gateway_path: gatewayPath,
      gateway_url: `http://${req.headers.host}${gatewayPath}`,
      client_key_required: false,
      last_used_at: c.last_used_at ?? null,
      oauth: c.oauth && {
        ...served(c.oauth),
        last_connect_failure: c.connect_failure ? { ...c.connect_failure, actor: 'admin:ops' } : null,
        consenting_account: account,
      },
      source: c.source,
      ...extra,
    }, c.source === 'api' ? etag(c) : {});
  }
  if (rest === '' && (req.method === 'PUT' || req.method === 'DELETE')) {
    if (c.source === 'config') return error(res, 409, 'conflict', `connection ${c.kind}/${c.name} is declared in ${CONFIG_FILE}: change it there and reload`);
    if (!ifMatchOk(req, c)) return error(res, 412, 'precondition_failed', `connection ${c.kind}/${c.name} changed since version ${req.headers['if-match']}; it is at "${c.version}"`);
    if (req.method === 'DELETE') {
      connections.splice(connections.indexOf(c), 1);
      record(c, 'connection_deleted', actor, {});
      res.writeHead(204);
      return res.end();
    }
    let entry;
    try {
      entry = JSON.parse(await readBody(req));
    } catch {
      return error(res, 400, 'invalid_argument', 'the body must be JSON');
    }
    const b = validate(entry);
    if (b) return fieldError(res, b);
    if (entry.kind !== c.kind || entry.name !== c.name) return fieldError(res, bad('name', 'cannot change (create a new connection instead)'));
    const secretChanged = typeof entry.auth?.client_secret === 'string' && entry.auth.client_secret !== c.secrets?.client_secret;
    const { def, secrets } = splitSecrets(entry, c.secrets);
    c.definition = def;
    c.secrets = secrets;
    c.version += 1;
    c.url_host = hostOf(def.url);
    c.auth_mode = def.auth?.mode ?? 'none';
    record(c, 'connection_updated', actor, {});
    if (c.oauth?.state === 'needs_client_fix' && secretChanged) {
      // The lifecycle refreshes at once with the new client settings: same grant, connected.
      c.oauth = oauth('connected', { ...connected(Date.parse(c.oauth.authenticated_at ?? iso(now()))), last_refreshed_at: iso(now()), expires_at: iso(now() + HOUR) });
      record(c, 'refresh_succeeded', actor, { duration_ms: 70, http_status: 200, error_class: 'success', reason: 'recovered' });
    }
    return send(res, 200, { ...masked(c), source: 'api', version: c.version }, etag(c));
  }
  if (rest === '/auth-events' && req.method === 'GET') {
    const limit = Number(url.searchParams.get('limit') ?? 30);
    return send(res, 200, { events: events.get(`${c.kind}/${c.name}`).slice(0, limit) });
  }
  if (!c.oauth) return error(res, 404, 'not_found', 'not an OAuth connection');
  if (rest === '/oauth/start' && req.method === 'POST') {
    const body = JSON.parse((await readBody(req)) || '{}');
    const state = crypto.randomBytes(12).toString('base64url');
    flows.set(state, { conn: c, return_url: body.return_url, by: actor });
    record(c, 'connect_started', actor);
    const host = req.headers.host;
    return send(res, 200, { authorization_url: `http://${host}/mock-idp/authorize?state=${state}`, state, correlation_id: crypto.randomUUID() });
  }
  if (rest === '/oauth/refresh' && req.method === 'POST') {
    if (c.oauth.state === 'needs_reauth' || c.oauth.state === 'not_connected') return error(res, 409, 'conflict', 'needs re-authorization');
    if (c.oauth.state === 'refresh_failing') return error(res, 503, 'unavailable', 'the IdP answered 503', { 'Retry-After': '30' });
    c.oauth.expires_at = iso(now() + HOUR);
    c.oauth.last_refreshed_at = iso(now());
    record(c, 'refresh_succeeded', actor, { duration_ms: 64, rotated: true, http_status: 200, error_class: 'success', expires_after: c.oauth.expires_at });
    return send(res, 200, { refreshed: true, expires_at: c.oauth.expires_at });
  }
  if (rest === '/oauth/token' && req.method === 'DELETE') {
    c.oauth = oauth('not_connected', { authenticated_at: c.oauth.authenticated_at });
    record(c, 'token_deleted_admin', actor);
    return send(res, 200, { deleted: true });
  }
  return error(res, 404, 'not_found', 'no route');
});

server.listen(Number(opts.port), '127.0.0.1', () => {
  console.log(`portal-mock-api listening on http://127.0.0.1:${server.address().port}`);
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close(() => process.exit(0)));
