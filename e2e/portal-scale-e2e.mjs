#!/usr/bin/env node
// End-to-end test of the operator portal at scale, in headless Debian chromium
// (playwright-core) against the real tether binary and the mock IdP:
//
//   node e2e/portal-scale-e2e.mjs [--build-dir build] [--artifacts DIR] [--docs-images]
//        [--chromium /usr/bin/chromium] [--timeout-ms 400000] [--verbose] [--count 10000]
//
// Tether is configured with --count connections (the list is built from configuration;
// mcp and api, OAuth and bearer, upstreams with ports and paths). The store is seeded
// before the second start: tether starts once to create its SQLite database, stops, and
// sqlite3 writes lifecycle state rows (RED connections needing re-authorization, AMBER with
// failing refreshes). Then:
//  - the list's first page renders within a generous bound after load (time printed);
//  - a search narrows it to one connection within a generous bound (time printed);
//  - the order is by severity: the red ones first, then the amber ones;
//  - the banner's link shows exactly the connections it counts;
//  - a connect with a wrong client secret leaves the card showing the failed attempt, the
//    IdP's invalid_client and what to fix;
//  - the list then sorts that connection with the red ones, its badge saying "connect failed";
//  - a connected connection (against the SDK demo upstream) shows its refresh deadline and
//    source, its next planned refresh, the upstream account that consented (the mock IdP's
//    ID token) and a "Use it" curl snippet that works when run; the call shows as "Last
//    used" in the detail and the list once Tether has flushed it.
// Screenshots go to --artifacts (default <build-dir>/test-artifacts/portal-scale);
// --docs-images copies the list, detail and empty-state ones to docs/images/.

import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { newPortalContext, signInWithAdminKey, withChromium } from './chromium.mjs';
import { adminRequest, check, parseCommandLine, processGroup, repo, runLog, runScript, startMockIdp, tetherListening, tetherReady, waitFor } from './harness.mjs';

const { opts, timeoutMs, buildDir } = parseCommandLine(
  'portal-scale-e2e',
  'usage: node e2e/portal-scale-e2e.mjs [--build-dir DIR] [--artifacts DIR] [--docs-images]\n' +
    '         [--chromium PATH] [--timeout-ms N] [--verbose] [--count N]',
  {
    timeoutMs: 400000,
    options: {
      artifacts: { type: 'string' },
      'docs-images': { type: 'boolean', default: false },
      count: { type: 'string', default: '10000' },
    },
  },
);
const COUNT = Number.parseInt(opts.count, 10);
const RED = 25;
const AMBER = 40; // seeded; tether itself may settle some (no token, nothing to retry)
let amberShown = 0;
// Generous bounds (a loaded 2-core machine); the figures are printed.
const FIRST_PAGE_BOUND_MS = 5000;
const SEARCH_BOUND_MS = 3000;
const artifacts = path.resolve(opts.artifacts ?? path.join(buildDir, 'test-artifacts', 'portal-scale'));
const { started, log } = runLog('portal-scale-e2e');
const group = processGroup({ verbose: opts.verbose });
const { startProcess } = group;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-portal-scale-'));

const adminKey = `e2e-admin-${crypto.randomBytes(12).toString('hex')}`;
const clientSecret = `e2e-client-secret-${crypto.randomBytes(12).toString('hex')}`;
const encryptionKey = crypto.randomBytes(32).toString('hex');
const dbPath = path.join(tmp, 'tether.db');
const svc = (i) => `svc-${String(i).padStart(5, '0')}`;

let base;
let issuer;
let upstream;

const api = (method, route, body) => adminRequest(base, adminKey, method, route, body);

function writeConfig(count, name) {
  const oauth = (secret, extra = '') =>
    `    auth: { mode: oauth, issuer: "${issuer}", client_id: tether-client, client_secret: "${secret}", scopes: "openid offline_access"${extra} }\n`;
  const lines = [
    'listen: 127.0.0.1:0\n',
    'log: { level: info, format: json }\n',
    `storage: { driver: sqlite, path: "${dbPath}" }\n`,
    'encryption: { key: "${TETHER_ENCRYPTION_KEY}" }\n',
    'admin: { keys: [ "${TETHER_ADMIN_KEY}" ] }\n',
    'connections:\n',
    `  - kind: mcp\n    name: demo\n    url: ${upstream}\n` + oauth('${E2E_CLIENT_SECRET}', ', refresh_max_lifetime: 30d'),
    `  - kind: mcp\n    name: wrong-secret\n    url: ${upstream}\n` + oauth('not-the-client-secret'),
  ];
  for (let i = 0; i < count - 2; i++) {
    const kind = i % 3 === 2 ? 'api' : 'mcp';
    const url = `https://host-${i % 250}.example.test:${8000 + (i % 7)}/${kind === 'mcp' ? 'mcp' : `v${i % 4}`}/${svc(i)}`;
    const auth =
      i % 10 === 9 ? '    auth: { mode: bearer, token: "${E2E_CLIENT_SECRET}" }\n' : oauth('${E2E_CLIENT_SECRET}');
    lines.push(`  - kind: ${kind}\n    name: ${svc(i)}\n    url: ${url}\n${auth}`);
  }
  const file = path.join(tmp, name);
  fs.writeFileSync(file, lines.join(''));
  return file;
}

async function startTether(configPath) {
  const tether = startProcess('tether', path.join(buildDir, 'tether'), ['serve', '--config', configPath], {
    TETHER_ADMIN_KEY: adminKey,
    TETHER_ENCRYPTION_KEY: encryptionKey,
    E2E_CLIENT_SECRET: clientSecret,
  });
  base = await tetherListening(tether, 60_000);
  await tetherReady(base, tether, 60_000);
  // The store opens and syncs the 10,000 connections after the listener is up.
  await waitFor('tether to open its store (keeper started)', () => /"msg":"keeper started"/.test(tether.err), 120_000, tether);
  return tether;
}

async function stopProcess(p) {
  p.child.kill('SIGTERM');
  await waitFor(`${p.name} to exit`, () => p.exited, 60_000);
}

// The lifecycle's state rows, written as the lifecycle would after failed refreshes.
function seedStore() {
  const now = Date.now();
  const rows = [];
  let red = 0;
  let amber = 0;
  for (let i = 0; red + amber < RED + AMBER; i += 37) {
    if (i % 10 === 9) continue; // bearer
    const kind = i % 3 === 2 ? 'api' : 'mcp';
    const [state, code] = red < RED ? ['needs_reauth', 'invalid_grant'] : ['refresh_failing', 'temporarily_unavailable'];
    if (state === 'needs_reauth') red++;
    else amber++;
    rows.push(`('${kind}','${svc(i)}','${state}','${code}','${code}',1,${now},${now})`);
  }
  const sql =
    'INSERT OR REPLACE INTO connection_state (kind, name, state, reason, last_error_code, consecutive_failures, first_failure_at, updated_at) VALUES\n' +
    rows.join(',\n') +
    ';\n';
  execFileSync('sqlite3', [dbPath], { input: sql });
}

async function connectThroughIdp(context, name) {
  const startedFlow = await api('POST', `/connections/mcp/${name}/oauth/start`, {});
  check(startedFlow.status === 200, `oauth/start mcp/${name} answered ${startedFlow.status}: ${startedFlow.text}`);
  const page = await context.newPage();
  try {
    await page.goto(startedFlow.json.authorization_url);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL((u) => u.href.startsWith(`${base}/oauth/callback`), { timeout: 20_000 });
    await page.waitForLoadState('load');
    return await page.locator('body').innerText();
  } finally {
    await page.close();
  }
}

const shots = new Map();
async function screenshot(page, name) {
  const file = path.join(artifacts, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false, timeout: 10_000 });
  shots.set(name, file);
}

const rowsOf = (page) => page.locator('tbody tr[data-connection]');

async function runBrowser(browser) {
  const context = await newPortalContext(browser, { width: 1360, height: 900, defaultTimeoutMs: 20_000 });
  const errors = [];
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(e.message));

  // Sign in, then load the list afresh and time its first page.
  await signInWithAdminKey(page, base, adminKey);
  await rowsOf(page).first().waitFor();
  const t0 = Date.now();
  await page.goto(`${base}/portal/`);
  await rowsOf(page).first().waitFor();
  const firstPageMs = Date.now() - t0;
  log(`first page of ${COUNT} connections rendered ${firstPageMs} ms after load`);
  check(firstPageMs < FIRST_PAGE_BOUND_MS, `the first page took ${firstPageMs} ms (bound ${FIRST_PAGE_BOUND_MS} ms)`);
  check((await rowsOf(page).count()) === 100, `the first page has ${await rowsOf(page).count()} rows, expected 100`);

  // Severity order: the red ones first, then the amber ones.
  // Read with the counts of the same answer: tether settles some seeded amber rows itself.
  const { states, amber } = await page.evaluate(() => ({
    states: [...document.querySelectorAll('tbody tr[data-connection]')].map((tr) => tr.dataset.state),
    amber: Number(document.querySelector('[data-state-filter="refresh_failing"] strong')?.textContent),
  }));
  amberShown = amber;
  check(amberShown > 0, 'no connection shows refresh_failing');
  const expected = [...Array(RED).fill('needs_reauth'), ...Array(amberShown).fill('refresh_failing')];
  check(
    JSON.stringify(states.slice(0, RED + amberShown)) === JSON.stringify(expected),
    `the first rows are not ${RED} red then ${amberShown} amber: ${states.slice(0, RED + amberShown + 2).join(',')}`,
  );
  check(states[RED + amberShown] === 'not_connected', `after the amber rows comes ${states[RED + amberShown]}, expected not_connected`);
  const subtitle = await page.locator('.page-sub').innerText();
  check(subtitle.includes(`${COUNT} connections`), `the subtitle does not count ${COUNT}: "${subtitle}"`);
  check(/need attention/.test(subtitle), `never-connected connections do not count as needing attention: "${subtitle}"`);
  const firstRow = await rowsOf(page).first().innerText();
  check(/example\.test:80\d\d\//.test(firstRow), `the upstream column lacks port and path: "${firstRow}"`);
  await screenshot(page, 'list');
  log(`order: ${RED} red, ${amberShown} amber, then never connected`);

  // A search narrows the list (server-side).
  const target = svc(Math.floor((COUNT - 2) * 0.4242));
  const search = page.getByLabel('Search');
  const t1 = Date.now();
  await search.fill(target);
  await page.waitForFunction(
    (name) => {
      const trs = document.querySelectorAll('tbody tr[data-connection]');
      return trs.length === 1 && trs[0].dataset.connection.endsWith(`/${name}`);
    },
    target,
    { timeout: 10_000, polling: 'raf' },
  );
  const searchMs = Date.now() - t1;
  log(`search for ${target} narrowed the list to it in ${searchMs} ms (150 ms of it the typing debounce)`);
  check(searchMs < SEARCH_BOUND_MS, `the search took ${searchMs} ms (bound ${SEARCH_BOUND_MS} ms)`);
  await search.fill('no-such-connection-anywhere');
  await page.getByText('No connection matches').waitFor();
  await screenshot(page, 'empty');
  await search.fill('');
  await page.waitForFunction(() => document.querySelectorAll('tbody tr[data-connection]').length === 100, null, { timeout: 10_000 });

  // The banner's link shows exactly the connections it counts.
  const banner = page.locator('.notice', { hasText: 're-authorization' }).first();
  const bannerText = await banner.innerText();
  check(bannerText.includes(`${RED} connections need re-authorization`), `the banner does not count ${RED}: "${bannerText}"`);
  await banner.locator('[data-banner-link]').click();
  await page.waitForFunction((n) => document.querySelectorAll('tbody tr[data-connection]').length === n, RED, { timeout: 10_000 });
  const shown = await rowsOf(page).evaluateAll((trs) => trs.map((tr) => tr.dataset.state));
  check(shown.length === RED && shown.every((s) => s === 'needs_reauth'), `the banner's link shows ${shown.join(',')}`);
  check(new URL(page.url()).searchParams.get('state') === 'needs_reauth', `the filtered list's address is ${page.url()}`);
  log(`banner link: exactly the ${RED} connections it counts`);

  // A connect with a wrong client secret: the card shows the failed attempt and its fix.
  const failedText = await connectThroughIdp(context, 'wrong-secret');
  check(/invalid_client/.test(failedText), `the callback page does not name invalid_client: ${failedText.slice(0, 300)}`);
  await page.goto(`${base}/portal/connections/mcp/wrong-secret`);
  const failure = page.locator('[data-connect-failure]');
  await failure.waitFor();
  const failureText = await failure.innerText();
  check((await failure.getAttribute('data-connect-failure')) === 'invalid_client', 'the failed attempt does not name invalid_client');
  check(/client_secret/.test(failureText), `the failed attempt does not say to check the client secret: "${failureText}"`);
  const cardTitle = await page.locator('#status-title').innerText();
  check(!/never connected/i.test(cardTitle), `after a failed connect the card still says "${cardTitle}"`);
  log('wrong client secret: the card shows the failed attempt, invalid_client and the fix');
  // ... and the list sorts it with the red ones (a client to fix), not with the never-connected.
  await page.goto(`${base}/portal/`);
  await rowsOf(page).first().waitFor();
  const listed = await rowsOf(page).evaluateAll((trs) => trs.map((tr) => [tr.dataset.connection, tr.dataset.connectFailed ?? '']));
  const at = listed.findIndex(([key]) => key === 'mcp/wrong-secret');
  check(at >= 0 && at < RED + 1, `mcp/wrong-secret is row ${at} of the list, expected among the first ${RED + 1} (the red ones)`);
  check(listed[at][1] === 'invalid_client', `its row does not name the failed connect: "${listed[at][1]}"`);
  const badge = await page.locator('tr[data-connection="mcp/wrong-secret"] [data-badge="connect-failed"]').textContent(); // with its tooltip
  check(/connect failed/.test(badge) && /client_secret/.test(badge), `the list's badge does not show the failed connect and its fix: "${badge}"`);
  log(`wrong client secret: the list shows it as row ${at + 1}, with the red ones, badge "connect failed"`);

  // A connected connection: deadline, next refresh and a "Use it" snippet that works.
  const okText = await connectThroughIdp(context, 'demo');
  check(/connected/i.test(okText), `connecting mcp/demo did not succeed: ${okText.slice(0, 300)}`);
  await page.goto(`${base}/portal/connections/mcp/demo`);
  await page.locator('[data-status="connected"]').waitFor();
  const deadline = await page.locator('.fact', { hasText: 'Refresh deadline' }).innerText();
  check(/UTC/.test(deadline) && /refresh_max_lifetime|disclosed by the identity provider/.test(deadline), `the refresh deadline lacks its zone or source: "${deadline}"`);
  const next = await page.locator('[data-fact="next-refresh"]').innerText();
  check(/UTC/.test(next), `the next planned refresh is not a time: "${next}"`);
  const curl = await page.locator('[data-snippet="curl"]').innerText();
  const config = JSON.parse(await page.locator('[data-snippet="mcp-config"]').innerText());
  check(config.mcpServers?.demo?.url === `${base}/mcp/demo`, `the MCP config snippet points at ${config.mcpServers?.demo?.url}`);
  await screenshot(page, 'detail');
  const account = await page.locator('[data-fact="consenting-account"]').innerText();
  check(/mock-user@mock-idp\.test/.test(account) && /sub mock-user/.test(account), `the consenting account is not shown from the ID token: "${account}"`);
  const signedIn = await page.locator('.fact', { hasText: 'Signed in' }).innerText();
  check(/ by /.test(signedIn), `the admin who started the flow is not shown beside it: "${signedIn}"`);
  const run = spawnSync('bash', ['-c', curl], { encoding: 'utf8', timeout: 20_000 });
  check(run.status === 0, `the curl snippet failed (${run.status}): ${run.stderr}`);
  check(/"tools"/.test(run.stdout) && /whoami/.test(run.stdout), `the curl snippet's answer has no tool list: ${run.stdout.slice(0, 300)}`);
  log(`connected: deadline "${deadline.replace(/\s+/g, ' ')}", next refresh "${next}"; the curl snippet lists the tools`);
  // The call through the snippet shows as "Last used" once Tether has flushed it (every 15 s).
  const lastUsed = await waitFor(
    'the detail to report when mcp/demo was last used',
    async () => (await api('GET', '/connections/mcp/demo')).json?.last_used_at,
    40_000,
  );
  await page.reload();
  const lastUsedText = await page.locator('[data-fact="last-used"]').innerText();
  check(!/not yet/.test(lastUsedText), `the detail does not show the last use (${lastUsed}): "${lastUsedText}"`);
  const listed2 = await api('GET', '/connections?q=demo&sort=last_used');
  check(listed2.json?.connections?.[0]?.name === 'demo' && listed2.json.connections[0].last_used_at === lastUsed, `the list does not show the last use: ${listed2.text.slice(0, 300)}`);
  log(`connected: consenting account "${account.replace(/\s+/g, ' ')}"; last used ${lastUsed} ("${lastUsedText}")`);
  check(errors.length === 0, `script errors: ${errors.join('; ')}`);
}

async function main() {
  fs.rmSync(artifacts, { recursive: true, force: true });
  fs.mkdirSync(artifacts, { recursive: true });
  issuer = await startMockIdp(group, buildDir, ['--consent', '--client', `tether-client:${clientSecret}`]);
  const up = startProcess('mcp-upstream', process.execPath, [path.join(repo, 'e2e', 'mcp-upstream.mjs'), '--port', '0', '--issuer', issuer, '--stateless', '--json-response']);
  upstream = (await waitFor('the MCP upstream to listen', () => /listening on (\S+)/.exec(up.err), 20_000, up))[1];
  // The first start only creates the database (state rows need no registered connection).
  const first = await startTether(writeConfig(2, 'schema.yaml'));

  await stopProcess(first);
  seedStore();
  const t0 = Date.now();
  await startTether(writeConfig(COUNT, 'tether.yaml'));
  log(`tether started with ${COUNT} connections in ${Date.now() - t0} ms`);
  const t1 = Date.now();
  const page = await api('GET', '/connections?limit=100');
  log(`GET /connections (first page of ${COUNT}) answered in ${Date.now() - t1} ms`);
  check(page.status === 200 && page.json.total === COUNT, `GET /connections: ${page.status} total ${page.json?.total}`);
  check(page.json.counts.needs_reauth === RED, `counts.needs_reauth is ${page.json.counts.needs_reauth}, expected ${RED}`);
  // The search's server side alone (the browser figure adds the debounce and rendering).
  const searchTimes = [];
  for (const q of ['svc-04242', 'host-17.example', 'no-such-thing']) {
    const ts = Date.now();
    const found = await api('GET', `/connections?q=${encodeURIComponent(q)}&limit=100`);
    searchTimes.push(Date.now() - ts);
    check(found.status === 200, `GET /connections?q=${q}: ${found.status}`);
  }
  log(`GET /connections?q=... (server side, ${COUNT} connections) answered in ${searchTimes.join(', ')} ms`);
  const bad = await api('GET', '/connections?limit=0');
  check(bad.status === 400 && /limit/.test(bad.json?.error?.message ?? ''), `limit=0 answered ${bad.status}: ${bad.text}`);

  await withChromium(opts.chromium, runBrowser);
  if (opts['docs-images']) {
    const names = { list: 'portal-list-scale.png', detail: 'portal-detail-use-it.png', empty: 'portal-list-empty.png' };
    for (const [name, file] of Object.entries(names)) {
      if (shots.has(name)) fs.copyFileSync(shots.get(name), path.join(repo, 'docs', 'images', file));
    }
    log('copied the list, detail and empty-state screenshots to docs/images/');
  }
}

await runScript('portal-scale-e2e', { timeoutMs, started, group, tmp, keptNote: ` (and the database); screenshots in ${artifacts}` }, main);
