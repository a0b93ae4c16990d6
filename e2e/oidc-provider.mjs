#!/usr/bin/env node
// A real OpenID provider for Tether's connect-flow end-to-end test: the `oidc-provider` npm
// package (panva) on plain HTTP on loopback, with one static public client. Pinned to 8.x:
// 9.x supports Node 22+ only and warns on the Node 20 this project runs.
//
//   node e2e/oidc-provider.mjs --port 0 --client-id tether-e2e --redirect-uri URL
//        [--redirect-uri URL2 ...] [--access-ttl 60] [--refresh-ttl 3600]
//        [--scope EXTRA ...] [--access-token-format opaque|jwt] [--any-loopback-port]
//        [--account-groups LOGIN=G1,G2 ...]
//
// Prints exactly one line `listening on http://127.0.0.1:<port>` on stdout once ready; that
// URL is the issuer. Everything else (request log, provider notices) goes to stderr.
// SIGTERM/SIGINT close the listener and every connection, then exit 0.
//
// What it does:
// - Client: public (token_endpoint_auth_method none), grant types authorization_code and
//   refresh_token, response type code, the given redirect URIs (exact match; with
//   --any-loopback-port the client is `native` and a loopback redirect URI matches on any
//   port, RFC 8252 §7.3).
// - PKCE is required, S256 only. Every authorization response carries `iss` (RFC 9207).
// - Refresh tokens are issued for every code grant, with or without offline_access, and
//   rotated on every use. Reusing a rotated refresh token fails with invalid_grant and, as
//   oidc-provider does, revokes the whole grant (the new refresh token dies too).
// - Scopes: openid, offline_access, profile, email and every --scope. Unknown requested scopes
//   are dropped from the grant, not rejected.
// - `resource` (RFC 8707) is optional. Without it the access token is for userinfo. With it,
//   any resource is accepted: the access token's audience is the resource and its scope is the
//   non-OpenID scopes requested; a token request without `resource` reuses the granted one.
//   --access-token-format jwt makes those resource-bound access tokens RS256 JWTs verifiable
//   with <issuer>/jwks; userinfo tokens stay opaque.
// - Interaction pages (no external resources):
//   login   GET /interaction/<uid>  title "Sign in", inputs `login` (any non-empty name) and
//           `password` (anything), button "Sign in"
//   consent GET /interaction/<uid>  title "Authorize <client_id>", lists the scopes; button
//           "Approve" (form POST .../confirm) and, in a second form, "Deny" (.../abort ->
//           error=access_denied)
// - --account-groups LOGIN=G1,G2: the account LOGIN has a `groups` claim (profile scope) with
//   those values; with any --account-groups, ID tokens carry the scope's claims (name, email,
//   groups) as Keycloak, Okta and Entra do when configured so (oidc-provider's
//   conformIdTokenClaims off). Other accounts have `groups: []`.
// - Storage is oidc-provider's in-memory adapter: state dies with the process.

import crypto from 'node:crypto';
import http from 'node:http';
import { parseArgs } from 'node:util';

// oidc-provider prints its notices with console.info; stdout carries only the ready line.
console.log = console.error;
console.info = console.error;

const { default: Provider, errors } = await import('oidc-provider');

function usage(message) {
  if (message) console.error(`oidc-provider: ${message}`);
  console.error(
    'usage: node e2e/oidc-provider.mjs --port 0 --client-id ID --redirect-uri URL [--redirect-uri URL2]\n' +
      '         [--access-ttl 60] [--refresh-ttl 3600] [--scope S ...]\n' +
      '         [--access-token-format opaque|jwt] [--any-loopback-port] [--account-groups LOGIN=G1,G2]',
  );
  process.exit(2);
}

let opts;
try {
  ({ values: opts } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      'client-id': { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true, default: [] },
      'access-ttl': { type: 'string', default: '60' },
      'refresh-ttl': { type: 'string', default: '3600' },
      scope: { type: 'string', multiple: true, default: [] },
      'access-token-format': { type: 'string', default: 'opaque' },
      'any-loopback-port': { type: 'boolean', default: false },
      'account-groups': { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', default: false },
    },
  }));
} catch (e) {
  usage(e.message);
}
if (opts.help) usage();

function positiveInt(name) {
  const v = Number(opts[name]);
  if (!Number.isInteger(v) || v <= 0) usage(`--${name} must be a positive integer`);
  return v;
}
const port = Number(opts.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) usage('--port must be 0..65535');
if (!opts['client-id']) usage('--client-id is required');
if (opts['redirect-uri'].length === 0) usage('at least one --redirect-uri is required');
for (const uri of opts['redirect-uri']) {
  try {
    new URL(uri);
  } catch {
    usage(`--redirect-uri ${uri} is not an absolute URL`);
  }
}
const accessTtl = positiveInt('access-ttl');
const refreshTtl = positiveInt('refresh-ttl');
const accessTokenFormat = opts['access-token-format'];
if (!['opaque', 'jwt'].includes(accessTokenFormat)) usage('--access-token-format is opaque or jwt');

const accountGroups = new Map();
for (const spec of opts['account-groups']) {
  const eq = spec.indexOf('=');
  if (eq <= 0) usage(`--account-groups ${spec}: expected LOGIN=G1,G2`);
  accountGroups.set(spec.slice(0, eq), spec.slice(eq + 1).split(',').filter(Boolean));
}

const OIDC_SCOPES = ['openid', 'offline_access', 'profile', 'email'];
const scopes = [...new Set([...OIDC_SCOPES, ...opts.scope.flatMap((s) => s.split(' ')).filter(Boolean)])];

// The issuer embeds the port, so bind first and build the provider once the port is known.
const server = http.createServer();
try {
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
} catch (e) {
  console.error(`oidc-provider: cannot listen on 127.0.0.1:${port}: ${e.message}`);
  process.exit(1);
}
const issuer = `http://127.0.0.1:${server.address().port}`;

// A fresh RS256 signing key per run (ID tokens, and JWT access tokens when asked for).
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingJwk = {
  ...privateKey.export({ format: 'jwk' }),
  kid: crypto.randomBytes(8).toString('hex'),
  alg: 'RS256',
  use: 'sig',
};

// Scopes a resource server grants: whatever non-OpenID scopes this exchange carries.
function requestedResourceScopes(ctx) {
  const sources = [ctx.oidc?.params?.scope];
  for (const name of ['AuthorizationCode', 'RefreshToken', 'Grant']) {
    try {
      const entity = ctx.oidc?.entities?.[name];
      if (typeof entity?.scope === 'string') sources.push(entity.scope);
    } catch {
      // entity not loaded for this route
    }
  }
  const out = new Set();
  for (const s of sources) {
    for (const scope of (s ?? '').split(' ')) {
      if (scope && !OIDC_SCOPES.includes(scope)) out.add(scope);
    }
  }
  return [...out].join(' ');
}

const configuration = {
  clients: [
    {
      client_id: opts['client-id'],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: opts['redirect-uri'],
      application_type: opts['any-loopback-port'] ? 'native' : 'web',
    },
  ],
  responseTypes: ['code'],
  jwks: { keys: [signingJwk] },
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  scopes,
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username', ...(accountGroups.size ? ['groups'] : [])],
    email: ['email', 'email_verified'],
  },
  async findAccount(_ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        return {
          sub,
          name: sub,
          preferred_username: sub,
          email: `${sub}@example.test`,
          email_verified: true,
          ...(accountGroups.size ? { groups: accountGroups.get(sub) ?? [] } : {}),
        };
      },
    };
  },
  pkce: { methods: ['S256'], required: () => true },
  conformIdTokenClaims: accountGroups.size === 0,
  // Refresh tokens for every code grant, offline_access or not, living their own TTL (not
  // the browser session's) and rotated on every use.
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  expiresWithSession: async () => false,
  rotateRefreshToken: true,
  ttl: {
    AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? accessTtl,
    AuthorizationCode: 60,
    IdToken: 3600,
    RefreshToken: refreshTtl,
    Interaction: 600,
    Session: 3600,
    Grant: Math.max(refreshTtl, 3600) + 3600,
  },
  interactions: {
    url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
  },
  features: {
    devInteractions: { enabled: false },
    revocation: { enabled: true },
    userinfo: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async (_ctx, _client, oneOf) => oneOf,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (ctx, resourceIndicator) => ({
        scope: requestedResourceScopes(ctx),
        audience: resourceIndicator,
        accessTokenTTL: accessTtl,
        accessTokenFormat,
      }),
    },
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page(
      'Error',
      `<h1>Error</h1><p id="error">${esc(out.error)}</p>` +
        `<p id="error_description">${esc(out.error_description ?? '')}</p>`,
    );
  },
};

const provider = new Provider(issuer, configuration);

for (const event of [
  'server_error',
  'authorization.error',
  'grant.error',
  'revocation.error',
  'userinfo.error',
  'introspection.error',
]) {
  provider.on(event, (ctx, err) => {
    console.error(`oidc-provider: ${event}: ${err?.name ?? ''} ${err?.message ?? err}` +
      (err?.error_description ? ` (${err.error_description})` : ''));
  });
}
provider.on('grant.success', (ctx) => {
  console.error(`oidc-provider: grant.success ${ctx.oidc.params.grant_type}`);
});

// --- interaction pages -------------------------------------------------------------------

function esc(v) {
  return String(v).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:sans-serif;max-width:28em;margin:3em auto}
input,button{display:block;margin:.5em 0;font-size:1em}</style></head>
<body>${body}</body></html>`;
}

function loginPage(uid, error) {
  return page(
    'Sign in',
    `<h1>Sign in</h1>
${error ? `<p id="error" role="alert">${esc(error)}</p>` : ''}
<form id="login" method="post" action="/interaction/${esc(uid)}/login" autocomplete="off">
  <label>Login <input type="text" name="login" autofocus></label>
  <label>Password <input type="password" name="password"></label>
  <button type="submit">Sign in</button>
</form>
<form id="cancel" method="post" action="/interaction/${esc(uid)}/abort">
  <button type="submit">Cancel</button>
</form>`,
  );
}

function consentPage(uid, clientId, details, params) {
  const requested = String(params.scope ?? '').split(' ').filter(Boolean);
  const resources = details.missingResourceScopes ? Object.keys(details.missingResourceScopes) : [];
  return page(
    `Authorize ${clientId}`,
    `<h1>Authorize ${esc(clientId)}</h1>
<p>The application <strong>${esc(clientId)}</strong> asks for:</p>
<ul id="scopes">${requested.map((s) => `<li>${esc(s)}</li>`).join('')}</ul>
${resources.length ? `<p>Resources:</p><ul id="resources">${resources.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>` : ''}
<form id="approve" method="post" action="/interaction/${esc(uid)}/confirm">
  <button type="submit">Approve</button>
</form>
<form id="deny" method="post" action="/interaction/${esc(uid)}/abort">
  <button type="submit">Deny</button>
</form>`,
  );
}

const MAX_FORM = 16 * 1024;

async function readForm(req) {
  let size = 0;
  const chunks = [];
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_FORM) throw Object.assign(new Error('form too large'), { status: 413 });
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res, status, html) {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
  });
  res.end(html);
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw Object.assign(new Error('interaction mismatch'), { status: 400 });
  const { prompt, params, session } = details;

  if (req.method === 'GET' && action === undefined) {
    if (prompt.name === 'login') return send(res, 200, loginPage(uid));
    if (prompt.name === 'consent') {
      return send(res, 200, consentPage(uid, params.client_id, prompt.details, params));
    }
    throw Object.assign(new Error(`unsupported prompt ${prompt.name}`), { status: 501 });
  }
  if (req.method !== 'POST') throw Object.assign(new Error('method not allowed'), { status: 405 });

  if (action === 'login') {
    const form = await readForm(req);
    const login = (form.get('login') ?? '').trim();
    if (prompt.name !== 'login') throw Object.assign(new Error('not at login'), { status: 400 });
    if (!login) return send(res, 200, loginPage(uid, 'Enter a login name.'));
    console.error(`oidc-provider: login ${login}`);
    return provider.interactionFinished(req, res, { login: { accountId: login } }, {
      mergeWithLastSubmission: false,
    });
  }

  if (action === 'confirm') {
    await readForm(req);
    if (prompt.name !== 'consent') throw Object.assign(new Error('not at consent'), { status: 400 });
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const d = prompt.details;
    if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
    if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
    if (d.missingResourceScopes) {
      for (const [indicator, s] of Object.entries(d.missingResourceScopes)) {
        grant.addResourceScope(indicator, s.join(' '));
      }
    }
    const grantId = await grant.save();
    console.error(`oidc-provider: consent approved for ${session.accountId}`);
    return provider.interactionFinished(req, res, { consent: { grantId } }, {
      mergeWithLastSubmission: true,
    });
  }

  if (action === 'abort') {
    await readForm(req);
    return provider.interactionFinished(req, res, {
      error: 'access_denied',
      error_description: 'End-User aborted interaction',
    }, { mergeWithLastSubmission: false });
  }
  throw Object.assign(new Error('not found'), { status: 404 });
}

const oidcCallback = provider.callback();
const INTERACTION = /^\/interaction\/([A-Za-z0-9_-]{1,64})(?:\/(login|confirm|abort))?\/?$/;

server.on('request', (req, res) => {
  const started = Date.now();
  res.on('finish', () => {
    const path = (req.url ?? '').split('?')[0];
    console.error(`oidc-provider: ${req.method} ${path} ${res.statusCode} ${Date.now() - started}ms`);
  });
  const m = INTERACTION.exec((req.url ?? '').split('?')[0]);
  if (!m) return oidcCallback(req, res);
  interaction(req, res, m[1], m[2]).catch((err) => {
    const status = err instanceof errors.SessionNotFound ? 400 : err.status ?? err.statusCode ?? 500;
    console.error(`oidc-provider: interaction ${m[1]}: ${err.message}`);
    if (!res.headersSent) {
      send(res, status, page('Error', `<h1>Error</h1><p id="error">${esc(err.message)}</p>`));
    } else {
      res.destroy();
    }
  });
});

// --- lifecycle ---------------------------------------------------------------------------

let stopping = false;
function stop(signal) {
  if (stopping) return;
  stopping = true;
  console.error(`oidc-provider: ${signal}, shutting down`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));

console.error(
  `oidc-provider: issuer ${issuer}, client ${opts['client-id']}, redirect_uris ` +
    `${opts['redirect-uri'].join(' ')}, access ttl ${accessTtl}s, refresh ttl ${refreshTtl}s`,
);
process.stdout.write(`listening on ${issuer}\n`);
