#!/usr/bin/env node
// End-to-end test of the operator portal (/portal/): real processes, a real browser.
//
//   node e2e/portal-e2e.mjs [--build-dir build] [--artifacts DIR] [--docs-images]
//        [--chromium /usr/bin/chromium] [--timeout-ms 240000] [--verbose] [--mock-api]
//
// Starts build/tether-mock-idp (consent page on) and build/tether serve with five connections:
// mcp/wiki, api/billing and mcp/tickets (OAuth against the mock IdP), mcp/notes (OAuth, never
// connected) and api/status (bearer). It connects the three through the admin API and the
// IdP's consent page, then breaks two of them at the IdP: mcp/tickets gets invalid_grant on
// its refresh (red: needs re-auth; a rejected client, invalid_client, is needs_client_fix:
// e2e/portal-connections-e2e.mjs), api/billing gets 503 on every refresh (amber). Then, in
// headless chromium (Debian's, driven by playwright-core):
//  - the portal is closed without a key: sign-in page, API 401, a wrong key refused;
//  - sign in; the session cookie is HttpOnly and SameSite=Strict; a mutation without the
//    CSRF header is refused (403);
//  - the list: wiki has no badge, billing an amber "refresh failing" one, tickets a red
//    "reauth" one whose tooltip (keyboard focus and hover) names invalid_grant and says to
//    Reconnect;
//  - in a second tab, Reconnect on tickets' page goes through the IdP's consent ("Approve")
//    and back; the first tab, never reloaded, loses the red badge within one poll (12 s);
//  - History (collapsed until opened) lists the events newest first: connect_completed,
//    connect_started, refresh_failed_revoked (invalid_grant), connect_completed,
//    connect_started;
//  - sign out: the sign-in page again, the API closed, the old cookie dead;
//  - on every page: no JWT (eyJ...), refresh token, admin key, client secret, session cookie
//    or CSRF token in the DOM or in web storage; no script error, no CSP violation.
// Screenshots go to --artifacts (default <build-dir>/test-artifacts/portal); --docs-images
// also copies the ones the README shows to docs/images/. Prints PASS or FAIL (exit 0 / 1;
// usage errors exit 2).
//
// --mock-api runs the browser half against e2e/portal-mock-api.mjs instead (developing the
// portal without the C++ backend); its data match the names above.

import http from 'node:http';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { newPortalContext, pageWatcher, signInWithAdminKey, withChromium } from './chromium.mjs';
import { adminRequest, builtBinary, check, parseCommandLine, processGroup, repo, runLog, runScript, startMockIdp, tetherListening, waitFor } from './harness.mjs';

const POLL_BUDGET_MS = 12_000; // the portal polls health every 10 s
const { opts, timeoutMs, buildDir } = parseCommandLine(
  'portal-e2e',
  'usage: node e2e/portal-e2e.mjs [--build-dir DIR] [--artifacts DIR] [--docs-images]\n' +
    '         [--chromium PATH] [--timeout-ms N] [--verbose] [--mock-api]',
  {
    timeoutMs: 240000,
    options: {
      artifacts: { type: 'string' },
      'docs-images': { type: 'boolean', default: false },
      'mock-api': { type: 'boolean', default: false },
      'portal-dist': { type: 'boolean', default: false },
    },
  },
);
const artifacts = path.resolve(opts.artifacts ?? path.join(buildDir, 'test-artifacts', 'portal'));

const { started, log } = runLog('portal-e2e');
const verbose = (msg) => opts.verbose && log(msg);

// ---------------------------------------------------------------------------------------
// Processes

const group = processGroup({ verbose: opts.verbose });
const { stopHooks, startProcess } = group;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-portal-e2e-'));

// ---------------------------------------------------------------------------------------
// Secrets the page must never show

const adminKey = opts['mock-api'] ? 'mock-admin-key-0123456789' : `e2e-admin-${crypto.randomBytes(12).toString('hex')}`;
const clientSecret = `e2e-client-secret-${crypto.randomBytes(12).toString('hex')}`;
const statusToken = `e2e-status-token-${crypto.randomBytes(12).toString('hex')}`;
const encryptionKey = crypto.randomBytes(32).toString('hex');
const SECRET_PATTERNS = [
  [/eyJ[A-Za-z0-9_-]{8,}/, 'a JWT (eyJ...)'],
  [/\brt_[A-Za-z0-9_-]{8,}/, 'a refresh token (rt_...)'],
];
const secretValues = new Map([
  [adminKey, 'the admin key'],
  [clientSecret, 'the client secret'],
  [statusToken, 'the bearer token of api/status'],
]);

// ---------------------------------------------------------------------------------------
// Tether and the mock IdP (or the mock API)

let base; // Tether's (or the mock API's) URL
let issuer = null; // the mock IdP's URL

const api = (method, route, body) => adminRequest(base, adminKey, method, route, body);

async function idpControl(method, route, body) {
  const res = await fetch(`${issuer}/control/${route}`, {
    method,
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  check(res.ok, `mock IdP ${method} /control/${route} answered ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

async function startMockApi() {
  const p = startProcess('portal-mock-api', process.execPath, [path.join(repo, 'e2e', 'portal-mock-api.mjs'), '--port', '0', '--key', adminKey]);
  const m = await waitFor('the mock API to listen', () => /listening on (\S+)/.exec(p.out), 15_000, p);
  base = m[1];
}

// --portal-dist: a proxy in front of tether serves /portal/ from portal/dist and forwards the
// rest; tether's public_url is the proxy, so the OAuth callback and return URL go through it.
// For a binary whose portal route is missing or stale; the test proper uses the binary alone.
async function startPortalProxy() {
  const dist = path.join(repo, 'portal', 'dist');
  check(fs.existsSync(path.join(dist, 'index.html')), 'portal/dist is missing: npm run build:portal');
  const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' };
  const proxy = { target: null };
  proxy.server = http.createServer((req, res) => {
    const p = new URL(req.url, 'http://x').pathname;
    if (p === '/portal' || p.startsWith('/portal/')) {
      let file = path.join(dist, p.slice('/portal/'.length));
      if (!file.startsWith(dist) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) file = path.join(dist, 'index.html');
      res.writeHead(200, { 'Content-Type': types[path.extname(file)] ?? 'application/octet-stream', 'Content-Security-Policy': "default-src 'self'; frame-ancestors 'none'" });
      return res.end(fs.readFileSync(file));
    }
    const up = http.request(proxy.target + req.url, { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  await new Promise((r) => proxy.server.listen(0, '127.0.0.1', r));
  proxy.url = `http://127.0.0.1:${proxy.server.address().port}`;
  return proxy;
}

async function startTether() {
  const tetherBin = builtBinary(buildDir, 'tether');
  issuer = await startMockIdp(group, buildDir, ['--consent', '--client', `tether-client:${clientSecret}`]);
  log(`mock IdP at ${issuer}`);

  const oauth = (name, url) =>
    `  - kind: ${name.split('/')[0]}\n    name: ${name.split('/')[1]}\n    url: ${url}\n` +
    `    auth: { mode: oauth, issuer: "${issuer}", client_id: tether-client, client_secret: "\${E2E_CLIENT_SECRET}", scopes: "openid offline_access" }\n`;
  const proxy = opts['portal-dist'] ? await startPortalProxy() : null;
  const config =
    'listen: 127.0.0.1:0\n' +
    (proxy ? `public_url: ${proxy.url}\n` : '') +
    'log: { level: info, format: json }\n' +
    `storage: { driver: sqlite, path: "${path.join(tmp, 'tether.db')}" }\n` +
    'encryption: { key: "${TETHER_ENCRYPTION_KEY}" }\n' +
    'admin: { keys: [ "${TETHER_ADMIN_KEY}" ] }\n' +
    'connections:\n' +
    oauth('mcp/wiki', 'https://wiki.example.test/mcp') +
    oauth('api/billing', 'https://billing.example.test/v2') +
    oauth('mcp/tickets', 'https://tickets.example.test/mcp') +
    oauth('mcp/notes', 'https://notes.example.test/mcp') +
    '  - kind: api\n    name: status\n    url: https://status.example.test/\n' +
    '    auth: { mode: bearer, token: "${E2E_STATUS_TOKEN}" }\n';
  const configPath = path.join(tmp, 'tether.yaml');
  fs.writeFileSync(configPath, config);

  const tether = startProcess('tether', tetherBin, ['serve', '--config', configPath], {
    TETHER_ADMIN_KEY: adminKey,
    TETHER_ENCRYPTION_KEY: encryptionKey,
    E2E_CLIENT_SECRET: clientSecret,
    E2E_STATUS_TOKEN: statusToken,
  });
  base = await tetherListening(tether);
  if (proxy) {
    proxy.target = base;
    stopHooks.push(() => {
      proxy.server.closeAllConnections();
      proxy.server.close();
    });
  }
  await waitFor(
    'tether to be ready',
    () => readyOnce(),
    20_000,
    tether,
  );
  if (proxy) base = proxy.url;
  const portal = await fetch(`${base}/portal/`);
  const portalHtml = await portal.text();
  check(
    portal.status === 200 && portalHtml.includes('<div id="root">'),
    `GET /portal/ answered ${portal.status}${portal.status === 200 ? ' without the portal page' : ''}: this tether does not serve the portal (--portal-dist serves portal/dist in front of it)`,
  );
  log(`tether at ${base}${proxy ? ` (portal from portal/dist through ${proxy.url})` : ''}`);
}

let readyState = false;
let readyProbe = null;
function readyOnce() {
  if (readyState) return true;
  if (!readyProbe) {
    readyProbe = fetch(`${base}/readyz`)
      .then((r) => (readyState = r.status === 200))
      .catch(() => {})
      .finally(() => (readyProbe = null));
  }
  return false;
}

// Connects one connection: start through the API, approve at the IdP's consent page.
async function connectThroughIdp(context, kind, name) {
  const started = await api('POST', `/connections/${kind}/${name}/oauth/start`, {});
  check(started.status === 200 && started.json?.authorization_url, `oauth/start ${kind}/${name} answered ${started.status}: ${started.text}`);
  check(started.json.authorization_url.startsWith(issuer), `the authorization URL is not at the mock IdP: ${started.json.authorization_url}`);
  const page = await context.newPage();
  try {
    await page.goto(started.json.authorization_url);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL((u) => u.href.startsWith(`${base}/oauth/callback`), { timeout: 20_000 });
    await page.waitForLoadState('load');
    const text = await page.locator('body').innerText();
    check(/connected/i.test(text), `the callback page for ${kind}/${name} does not say Connected: ${text.slice(0, 300)}`);
  } finally {
    await page.close();
  }
  const health = await healthOf(kind, name);
  check(health?.state === 'connected', `${kind}/${name} is ${health?.state} after connecting, expected connected`);
}

async function healthOf(kind, name) {
  const r = await api('GET', '/connections/oauth-health');
  check(r.status === 200, `GET /connections/oauth-health answered ${r.status}: ${r.text}`);
  return r.json?.connections?.find((c) => c.kind === kind && c.name === name) ?? null;
}

async function setUpConnections(context) {
  for (const [kind, name] of [['mcp', 'wiki'], ['api', 'billing'], ['mcp', 'tickets']]) {
    await connectThroughIdp(context, kind, name);
  }
  log('connected mcp/wiki, api/billing and mcp/tickets through the consent page');

  // Red first: the one rule is consumed by tickets' refresh.
  await idpControl('POST', 'faults?replace=true', {
    endpoint: 'token',
    grant: 'refresh_token',
    times: 1,
    kind: 'oauth_error',
    error: 'invalid_grant',
    status: 400,
  });
  const red = await api('POST', '/connections/mcp/tickets/oauth/refresh');
  check(red.status === 409, `refreshing mcp/tickets under invalid_grant answered ${red.status}, expected 409: ${red.text}`);
  const redHealth = await healthOf('mcp', 'tickets');
  check(redHealth?.state === 'needs_reauth' && redHealth.needs_reauth, `mcp/tickets is ${JSON.stringify(redHealth)}, expected needs_reauth`);
  check(redHealth.idp_error_code === 'invalid_grant', `mcp/tickets idp_error_code is "${redHealth.idp_error_code}", expected invalid_grant`);

  // Amber: every refresh from now on gets 503 (the keeper's retries too, so it stays amber).
  await idpControl('POST', 'faults', { endpoint: 'token', grant: 'refresh_token', times: -1, kind: 'status', status: 503 });
  const amber = await api('POST', '/connections/api/billing/oauth/refresh');
  // 503 per the contract; a backend may also answer 200 with the still-valid token. What
  // counts is the state the operator sees.
  check(amber.status === 503 || amber.status === 200, `refreshing api/billing under 503 answered ${amber.status}: ${amber.text}`);
  if (amber.status === 200) log('note: refresh now under an IdP 503 answered 200 (the still-valid token), not 503');
  const amberHealth = await healthOf('api', 'billing');
  check(amberHealth?.state === 'refresh_failing', `api/billing is ${JSON.stringify(amberHealth)}, expected refresh_failing`);
  const wikiHealth = await healthOf('mcp', 'wiki');
  check(wikiHealth?.state === 'connected', `mcp/wiki is ${JSON.stringify(wikiHealth)}, expected connected`);
  log('mcp/tickets needs re-auth (invalid_grant), api/billing refresh failing (503), mcp/wiki healthy');
}

// The faults that broke tickets are gone before it is reconnected (only the 503 on refresh
// grants stays, which keeps billing amber and does not touch a code exchange).
async function clearRedFault() {
  const pending = await idpControl('GET', 'faults');
  const rules = pending?.faults ?? [];
  check(!rules.some((r) => r.error === 'invalid_grant' || r.kind === 'oauth_error'), `an invalid_grant fault is still pending: ${JSON.stringify(rules)}`);
}

// ---------------------------------------------------------------------------------------
// Browser checks

const { pageErrors, shots, openPages, watch, screenshot } = pageWatcher({ artifacts, verbose, quietConsole: /status of 401/ });

let csrfSeen = null;
let cookieSeen = null;

// No token, key or secret in the DOM or in web storage.
async function assertClean(page, where) {
  const { html, storage } = await page.evaluate(() => {
    const dump = (s) => {
      const out = [];
      for (let i = 0; i < s.length; i++) out.push(`${s.key(i)}=${s.getItem(s.key(i))}`);
      return out.join('\n');
    };
    return { html: document.documentElement.outerHTML, storage: `${dump(localStorage)}\n${dump(sessionStorage)}` };
  });
  for (const [text, what] of [[html, 'the DOM'], [storage, 'web storage']]) {
    for (const [re, name] of SECRET_PATTERNS) {
      const m = re.exec(text);
      check(!m, `${where}: ${what} contains ${name}: ${m?.[0].slice(0, 12)}...`);
    }
    for (const [value, name] of secretValues) check(!text.includes(value), `${where}: ${what} contains ${name}`);
    if (csrfSeen) check(!text.includes(csrfSeen), `${where}: ${what} contains the CSRF token`);
    if (cookieSeen) check(!text.includes(cookieSeen), `${where}: ${what} contains the session cookie`);
  }
}

// fetch() from the page (same origin, with its cookies): {status, body}.
const pageFetch = (page, route, init = {}) =>
  page.evaluate(
    async ([url, init]) => {
      const r = await fetch(url, { credentials: 'same-origin', ...init });
      return { status: r.status, body: await r.text() };
    },
    [`/api/v1/admin${route}`, init],
  );

const row = (page, key) => page.locator(`tr[data-connection="${key}"]`);

async function signIn(page) {
  await signInWithAdminKey(page, null, adminKey);
  await page.getByRole('heading', { name: 'Connections', level: 1 }).waitFor({ timeout: 15_000 });
  await row(page, 'mcp/tickets').waitFor({ timeout: 15_000 });
}

async function runBrowser(browser) {
  const context = await newPortalContext(browser, { defaultTimeoutMs: 15_000 });

  if (!opts['mock-api']) await setUpConnections(context);

  // 1. Closed without a key.
  const page = await context.newPage();
  watch(page, 'tab 1');
  await page.goto(`${base}/portal/`);
  await page.locator('#admin-key').waitFor();
  check(!(await page.content()).includes('tickets'), 'the signed-out portal shows connection names');
  const anonymous = await pageFetch(page, '/connections');
  check(anonymous.status === 401, `GET /connections without a session answered ${anonymous.status}, expected 401`);
  const deep = await context.newPage();
  watch(deep, 'deep link');
  await deep.goto(`${base}/portal/connections/mcp/tickets`);
  await deep.locator('#admin-key').waitFor();
  await deep.close();
  await screenshot(page, 'sign-in');
  await signInWithAdminKey(page, null, 'not-the-admin-key-at-all');
  await page.getByText('That admin key was not accepted').waitFor();
  check((await context.cookies()).every((c) => c.name !== 'tether_session'), 'a wrong key got a session cookie');
  await assertClean(page, 'sign-in page');
  log('closed without a key: sign-in page, API 401, wrong key refused');

  // 2. Sign in.
  await signIn(page);
  const cookie = (await context.cookies()).find((c) => c.name === 'tether_session');
  check(cookie, 'no tether_session cookie after signing in');
  check(cookie.httpOnly, 'the session cookie is not HttpOnly');
  check(cookie.sameSite === 'Strict', `the session cookie is SameSite=${cookie.sameSite}, expected Strict`);
  check(cookie.path === '/', `the session cookie's path is ${cookie.path}, expected /`);
  cookieSeen = cookie.value;
  const session = await pageFetch(page, '/session');
  check(session.status === 200, `GET /session answered ${session.status}`);
  csrfSeen = JSON.parse(session.body).csrf_token;
  check(typeof csrfSeen === 'string' && csrfSeen.length >= 16, 'GET /session has no usable csrf_token');
  const noCsrf = await pageFetch(page, '/connections/mcp/wiki/oauth/refresh', { method: 'POST' });
  check(noCsrf.status === 403, `a POST with the cookie and without X-CSRF-Token answered ${noCsrf.status}, expected 403`);
  const wrongCsrf = await pageFetch(page, '/connections/mcp/wiki/oauth/refresh', { method: 'POST', headers: { 'X-CSRF-Token': 'x' + csrfSeen.slice(1) } });
  check(wrongCsrf.status === 403, `a POST with a wrong X-CSRF-Token answered ${wrongCsrf.status}, expected 403`);
  log('signed in: HttpOnly SameSite=Strict cookie; mutations without the CSRF token refused');

  // 3. The list and its badges.
  const wiki = row(page, 'mcp/wiki');
  const billing = row(page, 'api/billing');
  const tickets = row(page, 'mcp/tickets');
  await billing.locator('[data-badge="refresh-failing"]').waitFor({ timeout: POLL_BUDGET_MS });
  await tickets.locator('[data-badge="reauth"]').waitFor({ timeout: POLL_BUDGET_MS });
  check((await wiki.locator('[data-badge]').count()) === 0, 'mcp/wiki (healthy) has a badge');
  check((await billing.locator('.badge').innerText()).trim().toLowerCase() === 'refresh failing', 'the amber badge does not read "refresh failing"');
  check((await tickets.locator('.badge').innerText()).trim().toLowerCase() === 'reauth', 'the red badge does not read "reauth"');
  for (const [r, key] of [[wiki, 'mcp/wiki'], [billing, 'api/billing'], [tickets, 'mcp/tickets']]) {
    const text = await r.innerText();
    check(text.includes('OAuth'), `${key}: the auth mode is not shown`);
    check(/example\.test|127\.0\.0\.1|example\.com|example/.test(text), `${key}: the upstream host is not shown`);
  }
  check((await row(page, 'api/status').innerText()).includes('Bearer'), 'api/status: the bearer auth mode is not shown');
  const colors = await page.evaluate(() => ({
    red: getComputedStyle(document.querySelector('[data-badge="reauth"] .badge')).color,
    amber: getComputedStyle(document.querySelector('[data-badge="refresh-failing"] .badge')).color,
  }));
  const rgb = (s) => s.match(/\d+/g).map(Number);
  const [rr, rg] = rgb(colors.red);
  const [ar, ag, ab] = rgb(colors.amber);
  check(rr > 120 && rg < 80, `the reauth badge is not red: ${colors.red}`);
  check(ar > 120 && ag > 50 && ab < 60 && ag < ar, `the refresh-failing badge is not amber: ${colors.amber}`);
  await screenshot(page, 'connections');

  // The red tooltip, reached with the keyboard like an operator without a mouse would.
  const redTip = tickets.locator('[role="tooltip"]');
  let focused = false;
  await page.locator('body').focus();
  for (let i = 0; i < 40 && !focused; i++) {
    await page.keyboard.press('Tab');
    focused = await page.evaluate(() => Boolean(document.activeElement?.closest('tr[data-connection="mcp/tickets"] [data-badge]')));
  }
  check(focused, 'the red badge cannot be reached with Tab');
  await redTip.waitFor({ state: 'visible' });
  let tipText = await redTip.innerText();
  check(tipText.includes('invalid_grant'), `the red tooltip does not name invalid_grant: "${tipText}"`);
  check(/what to do: reconnect/i.test(tipText), `the red tooltip does not say what to do: "${tipText}"`);
  await page.evaluate(() => document.activeElement?.blur());
  await tickets.locator('.badge').hover();
  await redTip.waitFor({ state: 'visible' });
  tipText = await redTip.innerText();
  check(tipText.includes('invalid_grant'), `the red tooltip (hover) does not name invalid_grant: "${tipText}"`);
  await screenshot(page, 'tooltip-reauth');
  await billing.locator('.badge').hover();
  const amberTip = await billing.locator('[role="tooltip"]').innerText();
  check(/retr/i.test(amberTip), `the amber tooltip does not say Tether retries: "${amberTip}"`);
  await page.mouse.move(5, 5);
  await assertClean(page, 'connection list');
  log('list: wiki no badge, billing amber, tickets red; the red tooltip names invalid_grant (keyboard and hover)');

  // 4. The amber connection's page.
  await billing.locator('a.conn-name').click();
  await page.locator('[data-status="refresh_failing"]').waitFor();
  const amberCard = await page.locator('.status').innerText();
  check(/refresh failing/i.test(amberCard), 'the amber status card does not say Refresh failing');
  check(/failed attempts/i.test(amberCard) && /next attempt/i.test(amberCard), `the amber status card lacks failures / next attempt: ${amberCard}`);
  await screenshot(page, 'connection-refresh-failing');
  await assertClean(page, 'api/billing page');
  await page.goBack();
  await tickets.waitFor();

  // 5. Reconnect mcp/tickets in a second tab; the first (the list) is never reloaded.
  await page.evaluate(() => {
    window.__e2eNotReloaded = true;
  });
  if (!opts['mock-api']) await clearRedFault();
  const tab2 = await context.newPage();
  watch(tab2, 'tab 2');
  await tab2.goto(`${base}/portal/connections/mcp/tickets`);
  await tab2.locator('[data-status="needs_reauth"]').waitFor();
  const redCard = await tab2.locator('.status').innerText();
  check(redCard.includes('invalid_grant'), `the red status card does not name invalid_grant: ${redCard}`);
  check((await tab2.locator('[data-badge="reauth"]').count()) === 1, 'the red connection page has no reauth badge');
  await screenshot(tab2, 'connection-needs-reauth');
  await assertClean(tab2, 'mcp/tickets page');
  await tab2.getByRole('button', { name: 'Reconnect' }).click();
  await tab2.getByRole('button', { name: 'Approve' }).waitFor({ timeout: 20_000 });
  check(!tab2.url().startsWith(base) || opts['mock-api'], `Reconnect did not go to the IdP: ${tab2.url()}`);
  await screenshot(tab2, 'idp-consent');
  await tab2.getByRole('button', { name: 'Approve' }).click();
  await tab2.waitForURL((u) => u.href.startsWith(`${base}/portal/connections/mcp/tickets`), { timeout: 20_000 });
  await tab2.locator('[data-status="connected"]').waitFor({ timeout: 15_000 });
  const reconnectedAt = Date.now();
  check((await tab2.locator('[data-badge]').count()) === 0, 'the reconnected page still shows a badge');
  await tab2.getByText('Tether received new tokens').waitFor({ timeout: 5_000 });
  await screenshot(tab2, 'connection-reconnected');
  log('Reconnect went through the IdP consent page and came back connected');

  // The list in tab 1 drops the red badge on its next poll.
  const visibility = await page.evaluate(() => document.visibilityState);
  log(`tab 1 (the list) is ${visibility} while tab 2 is in front`);
  await tickets.locator('[data-badge]').waitFor({ state: 'detached', timeout: POLL_BUDGET_MS });
  const cleared = Date.now() - reconnectedAt;
  check(await page.evaluate(() => window.__e2eNotReloaded === true), 'the list tab was reloaded');
  check((await billing.locator('[data-badge="refresh-failing"]').count()) === 1, 'the amber badge went away too');
  await screenshot(page, 'connections-recovered');
  await assertClean(page, 'connection list after recovery');
  log(`the red badge cleared without a reload ${(cleared / 1000).toFixed(1)} s after the reconnect`);

  // 6. History: collapsed until opened, then the events newest first.
  const historyToggle = tab2.getByRole('button', { name: /History/ });
  check((await historyToggle.getAttribute('aria-expanded')) === 'false', 'History is not collapsed by default');
  check((await tab2.locator('.timeline').count()) === 0, 'History shows events before it is opened');
  await historyToggle.click();
  await tab2.locator('.timeline li.event').first().waitFor();
  const events = await tab2.locator('.timeline li.event').evaluateAll((els) =>
    els.map((el) => ({
      type: el.getAttribute('data-event-type'),
      at: el.querySelector('time')?.getAttribute('datetime') ?? '',
      text: el.innerText,
    })),
  );
  verbose(`history: ${events.map((e) => e.type).join(', ')}`);
  const expected = ['connect_completed', 'connect_started', 'refresh_failed_revoked', 'connect_completed', 'connect_started'];
  let at = 0;
  for (const e of events) if (at < expected.length && e.type === expected[at]) at += 1;
  check(at === expected.length, `History is not in order: expected ${expected.join(' > ')} within ${events.map((e) => e.type).join(' > ')}`);
  check(events[0].type === 'connect_completed', `the newest event is ${events[0].type}, expected connect_completed`);
  for (let i = 1; i < events.length; i++) {
    check(events[i - 1].at >= events[i].at, `History is not newest first at ${i}: ${events[i - 1].at} < ${events[i].at}`);
  }
  const revoked = events.find((e) => e.type === 'refresh_failed_revoked');
  check(revoked.text.includes('invalid_grant'), `the refresh_failed_revoked event does not show invalid_grant: ${revoked.text}`);
  check(/Refresh rejected/.test(revoked.text) && events[0].text.startsWith('Connected'), 'History does not use readable labels');
  check(!events.some((e) => /[{}"]/.test(e.text)), 'History shows raw JSON');
  await screenshot(tab2, 'history');
  await assertClean(tab2, 'History');
  log(`History: ${events.length} events, newest first, ${expected.join(' > ')} in order`);
  await tab2.close();

  // 7. Sign out.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByText('You have signed out.').waitFor();
  await page.locator('#admin-key').waitFor();
  check(!(await page.content()).includes('tickets'), 'the signed-out page still shows connections');
  const after = await pageFetch(page, '/connections');
  check(after.status === 401, `GET /connections after signing out answered ${after.status}, expected 401`);
  await page.goto(`${base}/portal/`);
  await page.locator('#admin-key').waitFor();
  await screenshot(page, 'signed-out');
  await assertClean(page, 'signed-out page');
  // The old cookie is dead, not just forgotten by this browser.
  const replay = await browser.newContext();
  await replay.addCookies([{ name: 'tether_session', value: cookieSeen, url: base }]);
  const replayPage = await replay.newPage();
  await replayPage.goto(`${base}/portal/`);
  await replayPage.locator('#admin-key').waitFor();
  const replayed = await pageFetch(replayPage, '/session');
  check(replayed.status === 401, `the session cookie still works after signing out (GET /session: ${replayed.status})`);
  await replay.close();
  log('signed out: sign-in page, API closed, the old cookie refused');

  check(pageErrors.length === 0, `the page reported errors:\n  ${pageErrors.join('\n  ')}`);
  await context.close();
}

// ---------------------------------------------------------------------------------------

const DOCS_IMAGES = {
  connections: 'portal-connections.png',
  'tooltip-reauth': 'portal-tooltip-reauth.png',
  'connection-needs-reauth': 'portal-connection-needs-reauth.png',
  'connection-refresh-failing': 'portal-connection-refresh-failing.png',
  history: 'portal-history.png',
  'sign-in': 'portal-sign-in.png',
};

async function main() {
  fs.rmSync(artifacts, { recursive: true, force: true });
  fs.mkdirSync(artifacts, { recursive: true });
  if (opts['mock-api']) await startMockApi();
  else await startTether();

  await withChromium(opts.chromium, async (browser) => {
    try {
      await runBrowser(browser);
    } catch (e) {
      for (const page of openPages) await screenshot(page, 'failure').catch(() => {});
      throw e;
    }
  });
  if (opts['docs-images']) {
    const dir = path.join(repo, 'docs', 'images');
    fs.mkdirSync(dir, { recursive: true });
    for (const [name, file] of Object.entries(DOCS_IMAGES)) {
      if (shots.has(name)) fs.copyFileSync(shots.get(name), path.join(dir, file));
    }
    log(`copied ${Object.keys(DOCS_IMAGES).length} screenshots to docs/images/`);
  }
}

await runScript('portal-e2e', { timeoutMs, started, group, tmp, keptNote: ` (and the database); screenshots in ${artifacts}`, passNote: `; screenshots in ${artifacts}` }, main);
