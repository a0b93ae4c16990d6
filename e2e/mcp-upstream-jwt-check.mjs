#!/usr/bin/env node
// Checks the demo upstream's --issuer mode without the mock IdP: serves a JWKS of its own,
// starts e2e/mcp-upstream.mjs against it, and sends initialize with good and bad RS256
// tokens. Exits 0 when every expectation holds, 1 otherwise (registered with ctest).

import crypto from 'node:crypto';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const deadline = setTimeout(() => fail('timed out'), 30000);
let upstream;

function fail(why) {
  console.error(`FAIL: ${why}`);
  upstream?.kill();
  process.exit(1);
}

const keys = [crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })];
const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const kidOf = (pair) => crypto.createHash('sha256').update(pair.publicKey.export({ type: 'spki', format: 'der' })).digest('base64url').slice(0, 16);

const jwks = http.createServer((req, res) => {
  if (req.url !== '/jwks') return res.writeHead(404).end();
  const doc = { keys: keys.map((k) => ({ ...k.publicKey.export({ format: 'jwk' }), kid: kidOf(k), alg: 'RS256', use: 'sig' })) };
  res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(doc));
});
await new Promise((r) => jwks.listen(0, '127.0.0.1', r));
const issuer = `http://127.0.0.1:${jwks.address().port}`;

function sign(pair, claims, kid = kidOf(pair)) {
  const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${enc({ alg: 'RS256', typ: 'JWT', kid })}.${enc(claims)}`;
  return `${input}.${crypto.sign('RSA-SHA256', Buffer.from(input), pair.privateKey).toString('base64url')}`;
}
const now = () => Math.floor(Date.now() / 1000);
const good = (extra = {}) => ({ iss: issuer, sub: 'mock-user', aud: 'demo', exp: now() + 600, ...extra });

upstream = spawn(process.execPath, [path.join(here, 'mcp-upstream.mjs'), '--port', '0', '--issuer', issuer, '--audience', 'demo'], { stdio: ['ignore', 'inherit', 'pipe'] });
const url = await new Promise((resolve) => {
  let err = '';
  upstream.stderr.on('data', (d) => {
    err += d;
    const m = /listening on (\S+)/.exec(err);
    if (m) resolve(m[1]);
  });
  upstream.on('exit', () => fail(`upstream exited: ${err}`));
});

async function initialize(token) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'jwt-check', version: '1' } } }),
  });
  await res.text();
  return res.status;
}

const cases = [
  ['valid token', () => sign(keys[0], good()), 200],
  ['expired', () => sign(keys[0], good({ exp: now() - 5 })), 401],
  ['wrong issuer', () => sign(keys[0], good({ iss: 'http://elsewhere' })), 401],
  ['wrong audience', () => sign(keys[0], good({ aud: 'other' })), 401],
  ['signed by an unknown key', () => sign(other, good()), 401],
  ['forged kid', () => sign(other, good(), kidOf(keys[0])), 401],
  ['not a JWT', () => 'opaque-token', 401],
  ['key rotated at the IdP (JWKS refetched)', () => { keys.push(other); return sign(other, good()); }, 200],
];
for (const [name, token, want] of cases) {
  const got = await initialize(token());
  if (got !== want) fail(`${name}: HTTP ${got}, expected ${want}`);
  console.log(`ok - ${name} (${got})`);
}
clearTimeout(deadline);
upstream.removeAllListeners('exit');
upstream.kill();
jwks.close();
console.log('all JWT checks passed');
