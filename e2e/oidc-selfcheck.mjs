#!/usr/bin/env node
// Self-check of the connect-flow test peers, without Tether: e2e/oidc-provider.mjs and
// e2e/browser-login.mjs against each other and a local callback server.
//
//   node e2e/oidc-selfcheck.mjs [--screenshots DIR] [--verbose]
//
// Flow 1 (no resource): discovery -> authorization URL (PKCE S256, state, openid
// offline_access, prompt=consent) -> browser login + consent -> callback carries code, state
// and iss -> code exchange (code_verifier) -> userinfo -> refresh (rotated) -> old refresh
// token refused with invalid_grant -> the grant is gone (the new refresh token is refused
// too: oidc-provider's reuse detection).
// Flow 2 (resource, no offline_access, JWT access tokens): a refresh token anyway, the access
// token's aud is the resource, refresh keeps it; replaying the code is refused and revokes
// the grant (its refresh token is refused afterwards).
// Finally SIGTERM stops the provider with exit code 0. Prints `ok - ...` lines, then PASS or
// FAIL; exit code 0 or 1. Takes 10-15 s (two browsers at once).

import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values: opts } = parseArgs({
  options: {
    screenshots: { type: 'string' },
    verbose: { type: 'boolean', default: false },
  },
});

const CLIENT_ID = 'tether-e2e';
const started = Date.now();
const children = [];
const logs = new Map();

class CheckFailed extends Error {}
function check(cond, what, detail) {
  if (!cond) throw new CheckFailed(`${what}${detail === undefined ? '' : `: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`}`);
  console.log(`ok - ${what}`);
}

function run(name, args, { onStdoutLine } = {}) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  logs.set(name, []);
  const keep = (chunk) => {
    for (const line of chunk.toString().split('\n')) {
      if (!line) continue;
      logs.get(name).push(line);
      if (opts.verbose) console.error(`[${name}] ${line}`);
    }
  };
  child.stderr.on('data', keep);
  let buf = '';
  const stdout = [];
  child.stdout.on('data', (chunk) => {
    buf += chunk.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      stdout.push(line);
      onStdoutLine?.(line);
    }
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout })));
  return { child, exited };
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new CheckFailed(`${what} timed out after ${ms}ms`)), ms);
    }),
  ]);
}

const b64url = (buf) => Buffer.from(buf).toString('base64url');
function pkce() {
  const verifier = b64url(crypto.randomBytes(32));
  return { verifier, challenge: b64url(crypto.createHash('sha256').update(verifier).digest()) };
}

async function tokenRequest(tokenEndpoint, params) {
  const res = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params),
  });
  return { status: res.status, body: await res.json() };
}

function decodeJwtPayload(jwt) {
  const parts = jwt.split('.');
  if (parts.length !== 3) return null;
  return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
}

async function browserLogin(authUrl, until, screenshotsSub) {
  const args = [path.join(here, 'browser-login.mjs'), '--url', authUrl, '--until', until,
    '--login', 'alice', '--timeout-ms', '20000'];
  if (opts.screenshots) args.push('--screenshots', path.join(opts.screenshots, screenshotsSub));
  const t0 = Date.now();
  const { exited } = run(`browser-${screenshotsSub}`, args);
  const { code, stdout } = await withTimeout(exited, 25000, 'browser-login');
  check(code === 0, `browser-login ${screenshotsSub} exits 0 (${Date.now() - t0} ms)`, code);
  check(stdout.length === 1, 'browser-login prints one line', stdout);
  return JSON.parse(stdout[0]);
}

async function main() {
  // The callback plays the client's redirect URI.
  const callbacks = [];
  const cb = http.createServer((req, res) => {
    if (req.url.startsWith('/cb')) callbacks.push(req.url); // not /favicon.ico
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!DOCTYPE html><title>Callback reached</title><p>callback received the code</p>');
  });
  await new Promise((r) => cb.listen(0, '127.0.0.1', r));
  const cbBase = `http://127.0.0.1:${cb.address().port}`;
  const redirectUri = `${cbBase}/cb`;

  let issuer;
  const provider = run('oidc-provider', [path.join(here, 'oidc-provider.mjs'), '--port', '0',
    '--client-id', CLIENT_ID, '--redirect-uri', redirectUri, '--redirect-uri', `${cbBase}/other`,
    '--access-ttl', '60', '--refresh-ttl', '3600', '--access-token-format', 'jwt'], {
    onStdoutLine: (line) => {
      const m = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
      if (m) issuer = m[1];
    },
  });
  const t0 = Date.now();
  await withTimeout((async () => {
    while (!issuer) {
      if (provider.child.exitCode !== null) throw new CheckFailed('oidc-provider exited early');
      await new Promise((r) => setTimeout(r, 20));
    }
  })(), 10000, 'oidc-provider start');
  check(true, `oidc-provider listening at ${issuer} (${Date.now() - t0} ms)`);

  const disco = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
  check(disco.issuer === issuer, 'discovery issuer matches', disco.issuer);
  check(JSON.stringify(disco.code_challenge_methods_supported) === '["S256"]', 'PKCE S256 only', disco.code_challenge_methods_supported);
  check(disco.authorization_response_iss_parameter_supported === true, 'RFC 9207 iss advertised');
  check(disco.registration_endpoint === undefined, 'no registration endpoint');

  // ---- flow 1: no resource, offline_access ----
  const p1 = pkce();
  const state1 = b64url(crypto.randomBytes(12));
  const auth1 = new URL(disco.authorization_endpoint);
  auth1.search = new URLSearchParams({
    response_type: 'code', client_id: CLIENT_ID, redirect_uri: redirectUri,
    scope: 'openid offline_access', state: state1, code_challenge: p1.challenge,
    code_challenge_method: 'S256', prompt: 'consent',
  }).toString();

  const resource = 'http://127.0.0.1:9100/mcp';
  const p2 = pkce();
  const state2 = b64url(crypto.randomBytes(12));
  const auth2 = new URL(disco.authorization_endpoint);
  auth2.search = new URLSearchParams({
    response_type: 'code', client_id: CLIENT_ID, redirect_uri: redirectUri, scope: 'openid mcp:tools',
    state: state2, code_challenge: p2.challenge, code_challenge_method: 'S256', resource,
  }).toString();

  // Both browsers at once (separate profiles): the self-check stays well under 30 s.
  const [r1, r2] = await Promise.all([
    browserLogin(auth1.href, redirectUri, 'flow1'),
    browserLogin(auth2.href, redirectUri, 'flow2'),
  ]);
  check(r1.status === 200 && r1.title === 'Callback reached', 'browser reached the callback page', r1);
  const q1 = new URL(r1.final_url).searchParams;
  check(q1.get('state') === state1, 'callback state matches', q1.get('state'));
  check(q1.get('iss') === issuer, 'callback carries iss', q1.get('iss'));
  check(Boolean(q1.get('code')) && !q1.get('error'), 'callback carries a code', r1.final_url);

  const tok = disco.token_endpoint;
  const codeParams = { grant_type: 'authorization_code', code: q1.get('code'), redirect_uri: redirectUri,
    client_id: CLIENT_ID, code_verifier: p1.verifier };
  const t1 = await tokenRequest(tok, codeParams);
  check(t1.status === 200 && t1.body.access_token && t1.body.refresh_token && t1.body.id_token,
    'code exchange returns access, refresh and ID tokens', t1);
  check(t1.body.token_type === 'Bearer' && t1.body.expires_in <= 60, 'Bearer, expires_in <= 60', t1.body);
  check(decodeJwtPayload(t1.body.id_token)?.sub === 'alice', 'ID token sub is alice');

  const ui = await fetch(disco.userinfo_endpoint, { headers: { authorization: `Bearer ${t1.body.access_token}` } });
  check(ui.status === 200 && (await ui.json()).sub === 'alice', 'userinfo answers for alice');

  const refresh = (rt) => tokenRequest(tok, { grant_type: 'refresh_token', refresh_token: rt, client_id: CLIENT_ID });
  const t2 = await refresh(t1.body.refresh_token);
  check(t2.status === 200 && t2.body.access_token && t2.body.refresh_token, 'refresh succeeds', t2);
  check(t2.body.refresh_token !== t1.body.refresh_token, 'refresh token rotated');
  const reuse = await refresh(t1.body.refresh_token);
  check(reuse.status === 400 && reuse.body.error === 'invalid_grant', 'old refresh token refused (invalid_grant)', reuse);
  const after = await refresh(t2.body.refresh_token);
  check(after.status === 400 && after.body.error === 'invalid_grant', 'reuse revoked the grant: new refresh token refused too', after);

  // ---- flow 2: resource, no offline_access ----
  const q2 = new URL(r2.final_url).searchParams;
  check(q2.get('state') === state2 && q2.get('code'), 'flow 2 callback carries code and state', r2.final_url);
  const code2Params = { grant_type: 'authorization_code', code: q2.get('code'),
    redirect_uri: redirectUri, client_id: CLIENT_ID, code_verifier: p2.verifier };
  const t3 = await tokenRequest(tok, code2Params);
  check(t3.status === 200 && t3.body.refresh_token, 'refresh token issued without offline_access', t3);
  const at = decodeJwtPayload(t3.body.access_token);
  check(at?.aud === resource && at?.iss === issuer && at?.scope === 'mcp:tools',
    'resource-bound JWT access token (aud = resource, scope mcp:tools)', at);
  const t4 = await refresh(t3.body.refresh_token);
  check(t4.status === 200 && decodeJwtPayload(t4.body.access_token)?.aud === resource,
    'refresh keeps the resource', t4);
  const replay = await tokenRequest(tok, code2Params);
  check(replay.status === 400 && replay.body.error === 'invalid_grant', 'code replay refused (invalid_grant)', replay);
  const afterReplay = await refresh(t4.body.refresh_token);
  check(afterReplay.status === 400 && afterReplay.body.error === 'invalid_grant',
    'code replay revoked the grant: its refresh token is refused', afterReplay);

  check(callbacks.length === 2, 'callback hit exactly twice', callbacks);
  cb.close();

  provider.child.kill('SIGTERM');
  const { code, signal } = await withTimeout(provider.exited, 5000, 'oidc-provider shutdown');
  check(code === 0, 'SIGTERM stops oidc-provider with exit code 0', { code, signal });
}

let failed = false;
try {
  await main();
} catch (e) {
  failed = true;
  console.log(`not ok - ${e instanceof CheckFailed ? e.message : e.stack}`);
  for (const [name, lines] of logs) {
    if (opts.verbose) continue;
    console.error(`--- last stderr lines of ${name}:`);
    for (const line of lines.slice(-15)) console.error(`  ${line}`);
  }
} finally {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
}
const secs = ((Date.now() - started) / 1000).toFixed(1);
console.log(failed ? `FAIL (${secs} s)` : `PASS (${secs} s)`);
process.exit(failed ? 1 : 0);
