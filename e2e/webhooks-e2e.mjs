// End-to-end test of webhooks: the real tether binary, the mock IdP and a receiver on
// loopback that verifies every delivery with the `standardwebhooks` npm package (an
// independent implementation of the Standard Webhooks signature).
//
//   node e2e/webhooks-e2e.mjs [--build-dir build] [--verbose]
//
// It connects mcp/demo (authorization code, the IdP approves at once) and walks it through
// every transition: connected, refresh_failing (once for two failed refreshes), recovered,
// needs_reauth (invalid_grant), connected again, needs_client_fix (invalid_client); each is
// exactly one message the verifier accepts. Then:
//  - a receiver failing 3 times then answering 200 gets the message 4 times, same webhook-id;
//  - `kill -9` of tether while a message is pending: delivered after a restart;
//  - a receiver that hangs 60 s does not slow refreshes (median latency measured before and
//    while a delivery hangs);
//  - the admin API: the hooks (URL query masked, no secret), the delivery log, a test send.
// Prints PASS or FAIL (exit 0 / 1; usage errors exit 2).

import http from 'node:http';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';

import { Failure, check, parseCommandLine, processGroup, runLog, waitFor } from './harness.mjs';

const { opts, timeoutMs, buildDir } = parseCommandLine(
  'webhooks-e2e',
  'usage: node e2e/webhooks-e2e.mjs [--build-dir DIR] [--timeout-ms N] [--verbose]',
  { timeoutMs: 240_000 },
);
const { log } = runLog('webhooks-e2e');
const { startProcess, stopAll } = processGroup({ verbose: opts.verbose });

const secret = `whsec_${crypto.randomBytes(32).toString('base64')}`;
const adminKey = `admin-${crypto.randomBytes(16).toString('hex')}`;
const clientSecret = `client-${crypto.randomBytes(12).toString('hex')}`;
const encryptionKey = crypto.randomBytes(32).toString('hex');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-webhooks-e2e-'));

// ---------------------------------------------------------------------------------------
// The receiver: verifies with standardwebhooks, records, answers as told.

const verifier = new Webhook(secret);
const received = []; // { id, type, ok, status, body }
let mode = { fail: 0, hang: false };
const hanging = [];

const receiver = http.createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    let type = null;
    let ok = false;
    try {
      const payload = verifier.verify(body, req.headers);
      type = payload.type;
      ok = true;
    } catch (e) {
      ok = false;
    }
    let status = 200;
    if (mode.hang) {
      received.push({ id: req.headers['webhook-id'], type, ok, status: 'hang', body });
      const t = setTimeout(() => res.writeHead(200).end('{}'), 60_000);
      hanging.push({ res, t });
      return;
    }
    if (mode.fail > 0) {
      mode.fail -= 1;
      status = 500;
    }
    received.push({ id: req.headers['webhook-id'], type, ok, status, body });
    res.writeHead(status, { 'Content-Type': 'application/json' }).end('{}');
  });
});
await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
const hookUrl = `http://127.0.0.1:${receiver.address().port}/hook?token=query-secret-value`;

function releaseHanging() {
  for (const h of hanging.splice(0)) {
    clearTimeout(h.t);
    h.res.destroy();
  }
}

/// Successful (2xx) deliveries the verifier accepted, by type.
const delivered = (type) => received.filter((r) => r.ok && r.status === 200 && r.type === type);

// ---------------------------------------------------------------------------------------
// Processes

let issuer;
let tether;
const dbPath = path.join(tmp, 'tether.db');
const configPath = path.join(tmp, 'tether.yaml');

async function startTether() {
  const proc = startProcess('tether', path.join(buildDir, 'tether'), ['serve', '--config', configPath], {
    TETHER_ADMIN_KEY: adminKey,
    TETHER_ENCRYPTION_KEY: encryptionKey,
    E2E_CLIENT_SECRET: clientSecret,
    HOOK_SECRET: secret,
  });
  const listening = await waitFor(
    'tether to log "listening"',
    () => /"msg":"listening".*?"address":"(127\.0\.0\.1:\d+)"/.exec(proc.err),
    30_000,
    proc,
  );
  const base = `http://${listening[1]}`;
  await waitFor('tether to be ready', async () => (await fetch(`${base}/readyz`).catch(() => null))?.status === 200, 30_000, proc);
  return { proc, base };
}

async function api(method, route, body) {
  const res = await fetch(`${tether.base}/api/v1/admin${route}`, {
    method,
    headers: { Authorization: `Bearer ${adminKey}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, json, text };
}

async function idp(method, route, body) {
  const res = await fetch(`${issuer}${route}`, {
    method,
    headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  check(res.ok, `mock IdP ${method} ${route} answered ${res.status}`);
}

async function connect() {
  const started = await api('POST', '/connections/mcp/demo/oauth/start', {});
  check(started.status === 200 && started.json?.authorization_url, `oauth/start answered ${started.status}: ${started.text}`);
  const res = await fetch(started.json.authorization_url, { redirect: 'follow' });
  check(res.ok, `the connect flow ended with ${res.status}`);
  await waitFor('mcp/demo to be connected', async () => (await api('GET', '/connections/mcp/demo')).json?.oauth?.state === 'connected', 10_000, tether.proc);
}

const refresh = () => api('POST', '/connections/mcp/demo/oauth/refresh');

async function expectOne(type, what) {
  await waitFor(`a verified ${type} delivery (${what})`, () => delivered(type).length >= 1, 15_000, tether.proc);
}

// ---------------------------------------------------------------------------------------

async function run() {
  const idpProc = startProcess('tether-mock-idp', path.join(buildDir, 'tether-mock-idp'), ['--port', '0', '--client', `tether-client:${clientSecret}`]);
  issuer = (await waitFor('the mock IdP to listen', () => /listening on (\S+)/.exec(idpProc.out), 20_000, idpProc))[1];
  fs.writeFileSync(
    configPath,
    'listen: 127.0.0.1:0\n' +
      'log: { level: info, format: json }\n' +
      `storage: { driver: sqlite, path: "${dbPath}" }\n` +
      'encryption: { key: "${TETHER_ENCRYPTION_KEY}" }\n' +
      'admin: { keys: [ "${TETHER_ADMIN_KEY}" ] }\n' +
      'webhooks:\n' +
      `  - url: "${hookUrl}"\n` +
      '    secret: "${HOOK_SECRET}"\n' +
      'webhook_delivery: { timeout: 60s, backoff_initial: 1s, backoff_max: 2s, poll_interval: 100ms }\n' +
      'connections:\n' +
      '  - kind: mcp\n    name: demo\n    url: https://demo.example.test/mcp\n' +
      `    auth: { mode: oauth, issuer: "${issuer}", client_id: tether-client, client_secret: "\${E2E_CLIENT_SECRET}", scopes: "openid offline_access" }\n`,
  );
  tether = await startTether();

  // `config check` masks the URL's query and never prints the secret.
  const { execFileSync } = await import('node:child_process');
  const checked = execFileSync(path.join(buildDir, 'tether'), ['config', 'check', configPath], {
    env: { ...process.env, TETHER_ADMIN_KEY: adminKey, TETHER_ENCRYPTION_KEY: encryptionKey, E2E_CLIENT_SECRET: clientSecret, HOOK_SECRET: secret },
  }).toString();
  check(checked.includes('/hook?********'), `config check shows the webhook URL unmasked:\n${checked}`);
  check(!checked.includes('query-secret-value') && !checked.includes(secret), 'config check printed a webhook secret');
  log('config check masks the webhook URL and secret');

  // Every transition: one verified delivery each.
  await connect();
  await expectOne('connected', 'first connect');
  await idp('POST', '/control/faults', { endpoint: 'token', grant: 'refresh_token', times: -1, kind: 'status', status: 503 });
  await refresh();
  await refresh(); // same episode: no second refresh_failing
  await expectOne('refresh_failing', 'IdP 503');
  await idp('DELETE', '/control/faults');
  await refresh();
  await expectOne('recovered', 'IdP healthy again');
  await idp('POST', '/control/faults', { endpoint: 'token', grant: 'refresh_token', times: 1, kind: 'oauth_error', error: 'invalid_grant' });
  await refresh();
  await expectOne('needs_reauth', 'invalid_grant');
  await connect();
  await waitFor('the second connected delivery', () => delivered('connected').length >= 2, 15_000, tether.proc);
  await idp('POST', '/control/faults', { endpoint: 'token', grant: 'refresh_token', times: -1, kind: 'oauth_error', error: 'invalid_client' });
  await refresh();
  await expectOne('needs_client_fix', 'invalid_client');
  await new Promise((r) => setTimeout(r, 1000)); // time for any duplicate to show up
  const counts = {};
  for (const r of received) counts[r.type] = (counts[r.type] ?? 0) + 1;
  check(received.every((r) => r.ok), `a delivery failed verification: ${JSON.stringify(received.filter((r) => !r.ok))}`);
  check(JSON.stringify(counts) === JSON.stringify({ connected: 2, refresh_failing: 1, recovered: 1, needs_reauth: 1, needs_client_fix: 1 }),
    `expected exactly one delivery per transition, got ${JSON.stringify(counts)}`);
  check(new Set(received.map((r) => r.id)).size === received.length, 'two transitions shared a webhook-id');
  for (const r of received) {
    check(!/eyJ|access_token|refresh_token|error_description|client-|whsec_/.test(r.body), `a payload holds something secret: ${r.body}`);
  }
  log(`each transition delivered once and verified by standardwebhooks: ${JSON.stringify(counts)}`);

  // Failing 3 times, then 200: 4 attempts, one webhook-id.
  await idp('DELETE', '/control/faults');
  mode.fail = 3;
  const before = received.length;
  await connect(); // needs_client_fix -> connected
  await waitFor('the retried delivery to succeed', () => received.slice(before).some((r) => r.status === 200), 20_000, tether.proc);
  const retried = received.slice(before);
  check(retried.length === 4, `expected 4 attempts (3 failures, 1 success), got ${retried.length}`);
  check(retried.every((r) => r.id === retried[0].id && r.ok), 'the retries did not keep one webhook-id');
  log(`3 failures then success: 4 attempts of ${retried[0].id}`);

  // kill -9 with a pending message; delivered after a restart.
  mode.fail = 1_000_000;
  const beforeKill = received.length;
  await idp('POST', '/control/faults', { endpoint: 'token', grant: 'refresh_token', times: -1, kind: 'status', status: 503 });
  await refresh();
  await waitFor('a failed attempt of refresh_failing', () => received.slice(beforeKill).some((r) => r.type === 'refresh_failing'), 15_000, tether.proc);
  const pendingId = received.slice(beforeKill).find((r) => r.type === 'refresh_failing').id;
  // Let tether record the failed attempt (the next one is at least 0.5 s away): a message
  // killed in the middle of an attempt waits for its claim's lease after a restart.
  await new Promise((r) => setTimeout(r, 250));
  tether.proc.child.kill('SIGKILL');
  await waitFor('tether to die', () => tether.proc.exited, 5_000);
  mode.fail = 0;
  tether = await startTether();
  await waitFor('the pending message after the restart', () => received.some((r) => r.id === pendingId && r.status === 200 && r.ok), 20_000, tether.proc);
  log(`kill -9 with ${pendingId} pending: delivered after the restart`);
  await idp('DELETE', '/control/faults');
  await refresh(); // recovered
  await waitFor('the recovery to be delivered', () => delivered('recovered').length >= 2, 15_000, tether.proc);

  // A receiver that hangs 60 s does not slow refreshes.
  const measure = async () => {
    const times = [];
    for (let i = 0; i < 7; i++) {
      const t0 = performance.now();
      const r = await refresh();
      check(r.status === 200, `refresh answered ${r.status}: ${r.text}`);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return times[3];
  };
  const baseline = await measure();
  mode.hang = true;
  const beforeHang = received.length;
  await idp('POST', '/control/faults', { endpoint: 'token', grant: 'refresh_token', times: 1, kind: 'status', status: 503 });
  await refresh(); // refresh_failing: its delivery hangs
  await waitFor('a delivery to hang', () => received.slice(beforeHang).some((r) => r.status === 'hang'), 15_000, tether.proc);
  const during = await measure(); // the first one recovers: a second delivery hangs too
  log(`refresh latency (median of 7): ${baseline.toFixed(1)} ms before, ${during.toFixed(1)} ms while deliveries hang`);
  check(during < baseline * 3 + 250, `refreshes slowed down while a webhook hangs: ${baseline.toFixed(1)} ms -> ${during.toFixed(1)} ms`);
  mode.hang = false;
  releaseHanging();

  // Admin API.
  const hooks = await api('GET', '/webhooks');
  check(hooks.status === 200, `GET /webhooks answered ${hooks.status}`);
  check(hooks.json.webhooks.length === 1 && hooks.json.webhooks[0].url.endsWith('/hook?********'), `GET /webhooks: ${hooks.text}`);
  check(!hooks.text.includes(secret) && !hooks.text.includes('query-secret-value'), 'GET /webhooks leaked a secret');
  const log1 = await api('GET', '/webhooks/deliveries?limit=100');
  check(log1.status === 200 && log1.json.deliveries.length >= 8, `GET /webhooks/deliveries: ${log1.status} ${log1.text.slice(0, 300)}`);
  const killed = log1.json.deliveries.find((d) => d.id === pendingId);
  check(killed && killed.state === 'delivered' && killed.attempts >= 2, `the delivery log lacks ${pendingId}: ${JSON.stringify(killed)}`);
  check((await api('GET', '/webhooks/deliveries?limit=0')).status === 400, 'limit=0 was accepted');
  const test = await api('POST', '/webhooks/0/test');
  check(test.status === 200 && test.json.delivered === true && test.json.status === 200, `test send: ${test.status} ${test.text}`);
  check(received.some((r) => r.type === 'test' && r.ok && r.id === test.json.id), 'the test message was not verified');
  check((await api('POST', '/webhooks/7/test')).status === 404, 'a test to an unknown webhook was not 404');
  log('admin API: hooks masked, delivery log, test send verified');

  const metrics = await (await fetch(`${tether.base}/metrics`)).text();
  check(/# TYPE tether_webhook_deliveries_total counter/.test(metrics), 'tether_webhook_deliveries_total missing');
  check(/# TYPE tether_webhook_queue_depth gauge/.test(metrics), 'tether_webhook_queue_depth missing');
}

const timer = setTimeout(() => {
  console.error(`webhooks-e2e: FAIL: timed out after ${timeoutMs} ms`);
  process.exit(1);
}, timeoutMs);
let failed = false;
try {
  await run();
} catch (e) {
  failed = true;
  console.error(`webhooks-e2e: FAIL: ${e instanceof Failure ? e.message : e.stack}`);
  if (tether?.proc && !(e instanceof Failure)) console.error(tether.proc.err.slice(-3000));
} finally {
  releaseHanging();
  await stopAll();
  receiver.close();
  clearTimeout(timer);
  fs.rmSync(tmp, { recursive: true, force: true });
}
console.error(failed ? 'FAIL' : 'PASS');
process.exit(failed ? 1 : 0);
