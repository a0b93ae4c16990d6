#!/usr/bin/env node
// ctest `app_register_e2e_test` (issue 21 acceptance): the real `tether serve` against the
// certified OpenID provider `oidc-provider` with open dynamic registration and its strict
// defaults (a refresh token only for offline_access granted with prompt=consent), and an MCP
// SDK upstream whose protected-resource metadata advertises only `mcp:tools`.
//
//   node e2e/register-e2e.mjs [--build-dir build] [--timeout-ms 120000] [--verbose]
//
// (a) mcp/reg is configured with only its `url`: Tether discovers the authorization server
//     from the upstream's 401, registers itself (RFC 7591; a scope of resource scopes would
//     be refused by this provider), connects by following the redirects the way a browser
//     would (login and consent are automatic here), receives a refresh token, is refreshed
//     by the keeper (30 s access tokens), and a tool call through /mcp/reg works after it.
// (b) mcp/cc is client_credentials with only `issuer`: connected within one keeper tick, a
//     tool call through /mcp/cc works, and the token is renewed before it expires.
// Also: Tether serves its client metadata document at <public_url>/oauth/client-metadata.json.
// Prints PASS (exit 0) or FAIL with the reason (exit 1).

import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import * as z from 'zod';

import { check, Failure, parseCommandLine, processGroup, runLog, waitFor } from './harness.mjs';

console.info = console.error; // oidc-provider's notices stay off stdout
const { default: Provider } = await import('oidc-provider');

const { opts, timeoutMs, buildDir } = parseCommandLine(
  'register-e2e',
  'usage: node e2e/register-e2e.mjs [--build-dir DIR] [--timeout-ms 120000] [--verbose]',
  { timeoutMs: 120_000 },
);
const { log } = runLog('register-e2e');
const group = processGroup({ verbose: opts.verbose });
const ACCESS_TTL = 30; // seconds: the keeper must refresh within the run
const CC_SECRET = 'cc-secret-NEVER-PRINT';
const adminKey = crypto.randomBytes(24).toString('hex');

async function listen(server) {
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return `http://127.0.0.1:${server.address().port}`;
}

// ---------------------------------------------------------------------------------------
// The OpenID provider: open registration, client_credentials, JWT access tokens for the
// MCP resource. Login and consent finish on their own (accountId alice, every scope asked).

const providerServer = http.createServer();
const issuer = await listen(providerServer);
const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const kid = crypto.randomBytes(8).toString('hex');
const providerLog = [];

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'cc-client',
      client_secret: CC_SECRET,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] },
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  scopes: ['openid', 'offline_access'],
  pkce: { methods: ['S256'], required: () => true },
  ttl: { AccessToken: ACCESS_TTL, ClientCredentials: ACCESS_TTL, RefreshToken: 3600, Grant: 7200, Session: 3600, Interaction: 600, AuthorizationCode: 60 },
  rotateRefreshToken: true,
  features: {
    devInteractions: { enabled: false },
    registration: { enabled: true }, // open: no initial access token
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async (_ctx, _client, oneOf) => oneOf,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, resource) => ({
        scope: 'mcp:tools',
        audience: resource,
        accessTokenTTL: ACCESS_TTL,
        accessTokenFormat: 'jwt',
      }),
    },
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
});
for (const event of ['server_error', 'grant.error', 'registration_create.error', 'authorization.error']) {
  provider.on(event, (_ctx, err) => providerLog.push(`${event}: ${err?.message} ${err?.error_description ?? ''}`));
}
provider.on('registration_create.success', (_ctx, client) => providerLog.push(`registered ${client.clientId}`));
provider.on('grant.success', (ctx) => providerLog.push(`grant ${ctx.oidc.params.grant_type}`));

const oidcCallback = provider.callback();
providerServer.on('request', async (req, res) => {
  const m = /^\/interaction\/([A-Za-z0-9_-]+)$/.exec((req.url ?? '').split('?')[0]);
  if (!m) return oidcCallback(req, res);
  try {
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name === 'login') {
      return await provider.interactionFinished(req, res, { login: { accountId: 'alice' } }, { mergeWithLastSubmission: false });
    }
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
    const d = details.prompt.details;
    if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
    if (d.missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(d.missingResourceScopes)) grant.addResourceScope(indicator, scopes.join(' '));
    }
    providerLog.push(`consent ${details.params.scope} prompt=${details.params.prompt ?? ''}`);
    return await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
  } catch (e) {
    providerLog.push(`interaction failed: ${e.message}`);
    res.writeHead(500).end(e.message);
  }
});

// ---------------------------------------------------------------------------------------
// The MCP upstream (official SDK, stateless): JWTs from the provider for its own resource
// with mcp:tools; otherwise 401 naming its protected-resource metadata.

const upstreamServer = http.createServer();
const upstreamBase = await listen(upstreamServer);
const resource = `${upstreamBase}/mcp`;
const prmPath = '/.well-known/oauth-protected-resource/mcp';
const upstreamSeen = { tokens: new Set(), calls: 0 };

function verify(token) {
  const parts = token.split('.');
  if (parts.length !== 3) return 'not a JWT';
  const ok = crypto.verify('RSA-SHA256', Buffer.from(`${parts[0]}.${parts[1]}`), publicKey, Buffer.from(parts[2], 'base64url'));
  if (!ok) return 'bad signature';
  const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  if (claims.iss !== issuer) return 'wrong issuer';
  if (claims.exp <= Date.now() / 1000) return 'expired';
  if (![].concat(claims.aud).includes(resource)) return 'wrong audience';
  if (!(claims.scope ?? '').split(' ').includes('mcp:tools')) return 'no mcp:tools scope';
  return null;
}

upstreamServer.on('request', async (req, res) => {
  const url = new URL(req.url, upstreamBase);
  if (url.pathname === prmPath) {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    return res.end(JSON.stringify({ resource, authorization_servers: [issuer], scopes_supported: ['mcp:tools'] }));
  }
  if (url.pathname !== '/mcp') return res.writeHead(404).end();
  const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
  const why = m ? verify(m[1]) : 'no token';
  if (why) {
    res.writeHead(401, {
      'Content-Type': 'application/json',
      'WWW-Authenticate': `Bearer resource_metadata="${upstreamBase}${prmPath}", scope="mcp:tools"${m ? `, error="invalid_token"` : ''}`,
    });
    return res.end(JSON.stringify({ error: 'invalid_token', error_description: why }));
  }
  upstreamSeen.tokens.add(m[1]);
  upstreamSeen.calls++;
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
  const server = new McpServer({ name: 'register-e2e-upstream', version: '1.0.0' });
  server.registerTool('echo', { description: 'echo', inputSchema: { text: z.string() } }, async ({ text }) => ({
    content: [{ type: 'text', text: `echo: ${text}` }],
  }));
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  res.on('close', () => {
    transport.close();
    server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, body);
});

// ---------------------------------------------------------------------------------------
// Tether

async function startTether() {
  const tetherBin = path.join(buildDir, 'tether');
  check(fs.existsSync(tetherBin), `${tetherBin} is missing: build it first`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'register-e2e-'));
  const config =
    'listen: 127.0.0.1:0\n' +
    'log: { level: info, format: json }\n' +
    `storage: { driver: sqlite, path: "${path.join(dir, 'tether.db')}" }\n` +
    'encryption: { key: "${TETHER_ENCRYPTION_KEY}" }\n' +
    'admin:\n  keys: [ "${TETHER_ADMIN_KEY}" ]\n' +
    'keeper: { interval: 1s, access_lead: 20s, jitter: 0s }\n' +
    'connections:\n' +
    `  - kind: mcp\n    name: reg\n    url: ${resource}\n    auth: { mode: oauth }\n` +
    `  - kind: mcp\n    name: cc\n    url: ${resource}\n` +
    `    auth: { mode: oauth, grant: client_credentials, issuer: "${issuer}", client_id: cc-client, ` +
    'client_secret: "${CC_SECRET}", scopes: "mcp:tools" }\n';
  const configPath = path.join(dir, 'tether.yaml');
  fs.writeFileSync(configPath, config);
  const proc = group.startProcess('tether', tetherBin, ['serve', '--config', configPath], {
    TETHER_ADMIN_KEY: adminKey,
    TETHER_ENCRYPTION_KEY: crypto.randomBytes(32).toString('hex'),
    CC_SECRET,
  });
  const listening = await waitFor('tether to log "listening"', () => /"msg":"listening".*?"address":"(127\.0\.0\.1:\d+)"/.exec(proc.err), 30_000, proc);
  const base = `http://${listening[1]}`;
  await waitFor('tether to be ready', async () => (await fetch(`${base}/readyz`).catch(() => null))?.status === 200, 30_000, proc);
  return { proc, base };
}

async function admin(tether, method, p) {
  const res = await fetch(`${tether.base}/api/v1/admin${p}`, { method, headers: { Authorization: `Bearer ${adminKey}` } });
  const text = await res.text();
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body };
}

// Follows redirects the way a browser would (with cookies), until the URL starts with `until`.
async function follow(start, until) {
  const jar = new Map();
  let url = start;
  for (let step = 0; step < 15; step++) {
    if (url.startsWith(until)) return url;
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair.indexOf('=');
      jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1));
    }
    const location = res.headers.get('location');
    if (res.status < 300 || res.status >= 400 || !location) {
      throw new Failure(`the authorization flow stopped at ${url.split('?')[0]}: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
    }
    url = new URL(location, url).toString();
  }
  throw new Failure('too many redirects');
}

async function callTool(tether, name, text) {
  const client = new Client({ name: 'register-e2e', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${tether.base}/mcp/${name}`));
  await client.connect(transport);
  try {
    const r = await client.callTool({ name: 'echo', arguments: { text } });
    return r.content?.[0]?.text;
  } finally {
    await client.close();
  }
}

async function events(tether, name) {
  const r = await admin(tether, 'GET', `/connections/mcp/${name}/auth-events?limit=100`);
  check(r.status === 200, `auth-events of mcp/${name}: HTTP ${r.status}`);
  return r.body.events ?? r.body;
}

// ---------------------------------------------------------------------------------------

async function urlOnlyConnection(tether) {
  const started = await admin(tether, 'POST', '/connections/mcp/reg/oauth/start');
  check(started.status === 200, `oauth/start of mcp/reg: HTTP ${started.status} ${JSON.stringify(started.body)}\n${providerLog.join('\n')}`);
  const authorization = new URL(started.body.authorization_url);
  log(`authorization URL: scope="${authorization.searchParams.get('scope')}" prompt=${authorization.searchParams.get('prompt')}`);
  check(authorization.searchParams.get('scope').split(' ').includes('offline_access'), 'offline_access was not asked for');
  check(authorization.searchParams.get('prompt') === 'consent', 'prompt=consent missing');
  const callback = await follow(started.body.authorization_url, `${tether.base}/oauth/callback`);
  const done = await fetch(callback);
  const page = await done.text();
  check(done.status === 200 && page.includes('Tether is now connected to mcp/reg'), `callback: HTTP ${done.status} ${page.slice(0, 400)}`);
  const detail = await admin(tether, 'GET', '/connections/mcp/reg');
  const o = detail.body.oauth;
  check(o.state === 'connected', `mcp/reg is ${o.state} (${o.error_code})`);
  check(o.has_refresh_token === true, 'mcp/reg got no refresh token');
  const history = await events(tether, 'reg');
  check(history.some((e) => e.type === 'client_registered'), 'no client_registered event');
  log(`mcp/reg connected through discovery and registration (${providerLog.filter((l) => l.startsWith('registered')).length} registration)`);
  check((await callTool(tether, 'reg', 'one')) === 'echo: one', 'tool call through /mcp/reg failed');
  const firstExpiry = Date.parse(o.expires_at);
  await waitFor('the keeper to refresh mcp/reg', async () => (await events(tether, 'reg')).some((e) => e.type === 'refresh_succeeded'), ACCESS_TTL * 1000 + 15_000, tether.proc);
  const after = (await admin(tether, 'GET', '/connections/mcp/reg')).body.oauth;
  check(after.state === 'connected' && Date.parse(after.expires_at) > firstExpiry, 'the refresh did not renew the access token');
  check((await callTool(tether, 'reg', 'two')) === 'echo: two', 'tool call after the refresh failed');
  log('mcp/reg refreshed by the keeper; tool call works');
}

async function clientCredentialsWithOnlyAnIssuer(tether) {
  await waitFor('mcp/cc to be connected', async () => (await admin(tether, 'GET', '/connections/mcp/cc')).body?.oauth?.state === 'connected', 5_000, tether.proc);
  const first = (await admin(tether, 'GET', '/connections/mcp/cc')).body.oauth;
  log(`mcp/cc connected (idp_host ${first.idp_host}), expires ${first.expires_at}`);
  check(first.idp_host === '127.0.0.1', `idp_host is "${first.idp_host}"`);
  check((await callTool(tether, 'cc', 'three')) === 'echo: three', 'tool call through /mcp/cc failed');
  const firstExpiry = Date.parse(first.expires_at);
  await waitFor('mcp/cc to be renewed', async () => Date.parse((await admin(tether, 'GET', '/connections/mcp/cc')).body.oauth.expires_at) > firstExpiry, ACCESS_TTL * 1000, tether.proc);
  check(Date.now() < firstExpiry, 'mcp/cc was renewed only after its token expired');
  log('mcp/cc renewed before expiry');
}

let failed = null;
const deadline = setTimeout(() => {
  console.error(`register-e2e: FAIL: no result within ${timeoutMs} ms`);
  process.exit(1);
}, timeoutMs);
try {
  const tether = await startTether();
  log(`tether at ${tether.base}, provider ${issuer}, upstream ${resource}`);
  // Tether's client metadata document (CIMD) is served at its public URL.
  const cimd = await (await fetch(`${tether.base}/oauth/client-metadata.json`)).json();
  check(cimd.client_id === `${tether.base}/oauth/client-metadata.json`, `CIMD client_id ${cimd.client_id}`);
  check(cimd.redirect_uris?.[0] === `${tether.base}/oauth/callback`, 'CIMD redirect_uris');
  await clientCredentialsWithOnlyAnIssuer(tether);
  await urlOnlyConnection(tether);
  check(!tether.proc.err.includes(CC_SECRET) && !tether.proc.err.includes(adminKey), 'a secret reached the log');
} catch (e) {
  failed = e;
} finally {
  clearTimeout(deadline);
  await group.stopAll();
  providerServer.close();
  providerServer.closeAllConnections();
  upstreamServer.close();
  upstreamServer.closeAllConnections();
}
if (failed) {
  console.error(`register-e2e: FAIL: ${failed instanceof Failure ? failed.message : failed.stack}`);
  if (opts.verbose) console.error(providerLog.join('\n'));
  process.exit(1);
}
console.log('register-e2e: PASS');
process.exit(0);
