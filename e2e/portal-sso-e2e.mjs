#!/usr/bin/env node
// Portal single sign-on in a real browser (issue 15, point 4): oidc-provider as the
// organisation's IdP with two accounts (alice in the admin group, bob in none), two
// `tether serve` replicas on one PostgreSQL, headless Debian chromium through playwright-core.
//
//   ./scripts/with-postgres.sh node e2e/portal-sso-e2e.mjs [--build-dir DIR] [--artifacts DIR]
//        [--chromium PATH] [--timeout-ms N] [--verbose]
//
// What a user would notice, checked in order:
// 1. The portal offers "Sign in with E2E IdP"; alice signs in through the IdP's login and
//    consent pages and lands on the Connections page, her name and the role admin in the
//    header; replica B accepts the same session cookie.
// 2. alice signs out on replica A: A refuses the old cookie at once, B within its revocation
//    recheck bound (the store-backed revocation list), never after.
// 3. bob signs in: role user, only "My connections" (an honest placeholder), no connection
//    name anywhere on the page, and 403 from every admin route he tries.
// 4. A forged callback shows a "Sign-in failed" page that names the problem and echoes none
//    of the values it was sent; no replica logs a code, an ID token or the admin key.
// Screenshots: <build>/test-artifacts/portal-sso/.

import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { newPortalContext, withChromium } from './chromium.mjs';
import { builtBinary, check, createTestDatabase, parseCommandLine, processGroup, repo, runLog, runScript, tetherListening, tetherReady, waitFor } from './harness.mjs';

const { opts, timeoutMs, buildDir } = parseCommandLine(
  'portal-sso-e2e',
  'usage: ./scripts/with-postgres.sh node e2e/portal-sso-e2e.mjs [--build-dir DIR] [--artifacts DIR]\n' +
    '         [--chromium PATH] [--timeout-ms N] [--verbose]',
  { timeoutMs: 180000, options: { artifacts: { type: 'string' } } },
);
const artifacts = path.resolve(opts.artifacts ?? path.join(buildDir, 'test-artifacts', 'portal-sso'));
const { started, log } = runLog('portal-sso-e2e');
const group = processGroup({ verbose: opts.verbose });
const { startProcess } = group;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-portal-sso-e2e-'));

const adminKey = `e2e-admin-${crypto.randomBytes(12).toString('hex')}`;
const statusToken = `e2e-status-token-${crypto.randomBytes(12).toString('hex')}`;
const encryptionKey = crypto.randomBytes(32).toString('hex');
const CONNECTION = 'billing-ledger'; // a name that appears nowhere else on a page
const REVOCATION_BOUND_MS = 5000 + 3000; // admin::kRevocationRecheck plus slack

async function startIdp() {
  const idp = startProcess('oidc-provider', process.execPath, [
    path.join(repo, 'e2e', 'oidc-provider.mjs'),
    '--port', '0',
    '--client-id', 'tether-portal',
    '--redirect-uri', 'http://127.0.0.1/portal/sso/callback',
    '--any-loopback-port',
    '--account-groups', 'alice=staff,tether-admins',
    '--account-groups', 'bob=staff',
  ]);
  return (await waitFor('oidc-provider to listen', () => /listening on (\S+)/.exec(idp.out), 30_000, idp))[1];
}

// The replicas share one database of their own on the test cluster.
let pgDsn = '';

async function startTether(name, configPath) {
  const p = startProcess(name, path.join(buildDir, 'tether'), ['serve', '--config', configPath], {
    TETHER_ADMIN_KEY: adminKey,
    TETHER_ENCRYPTION_KEY: encryptionKey,
    E2E_STATUS_TOKEN: statusToken,
    E2E_PG_DSN: pgDsn,
  });
  const base = await tetherListening(p);
  await tetherReady(base, p);
  return { proc: p, base };
}

/// GET an admin route with only the session cookie (as a browser would send it).
async function withCookie(base, route, cookie) {
  const res = await fetch(`${base}/api/v1/admin${route}`, { headers: { Cookie: `tether_session=${cookie}` } });
  return { status: res.status, json: await res.json().catch(() => null) };
}

async function signIn(browser, base, login) {
  const context = await newPortalContext(browser, { timezoneId: null });
  const page = await context.newPage();
  await page.goto(`${base}/portal/`);
  await page.getByRole('link', { name: 'Sign in with E2E IdP' }).click({ timeout: 15_000 });
  await page.waitForURL(/\/interaction\//, { timeout: 15_000 }); // the IdP's login page
  await page.locator('input[name=login]').fill(login);
  await page.locator('input[name=password]').fill('anything');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('button', { name: 'Approve', exact: true }).click({ timeout: 15_000 });
  await page.waitForURL(`${base}/portal/`, { timeout: 15_000 });
  await page.locator('.whoami').getByText(login).waitFor({ timeout: 15_000 });
  const cookie = (await context.cookies(base)).find((c) => c.name === 'tether_session');
  check(cookie, `${login}: no tether_session cookie after the sign-in`);
  check(cookie.httpOnly && cookie.sameSite === 'Strict', `${login}: the session cookie is not HttpOnly/SameSite=Strict`);
  log(`${login} signed in through the IdP`);
  return { context, page, cookie: cookie.value };
}

async function runBrowser(browser, a, b) {
  // 1. alice, an admin by her group.
  const alice = await signIn(browser, a.base, 'alice');
  await alice.page.getByRole('heading', { name: 'Connections', level: 1 }).waitFor({ timeout: 15_000 });
  await alice.page.getByText(CONNECTION).first().waitFor({ timeout: 15_000 });
  const role = await alice.page.locator('.role-badge').textContent();
  check(role.trim() === 'admin', `alice's header shows the role "${role}", expected admin`);
  await alice.page.screenshot({ path: path.join(artifacts, 'admin-signed-in.png') });
  const onB = await withCookie(b.base, '/session', alice.cookie);
  check(onB.status === 200 && onB.json.role === 'admin' && onB.json.subject === 'alice',
    `replica B does not accept alice's session: ${JSON.stringify(onB)}`);
  check((await withCookie(b.base, '/connections', alice.cookie)).status === 200, 'replica B refuses alice the list');

  // 2. Sign-out on A is honoured by A at once and by B within the bound.
  await alice.page.getByRole('button', { name: 'Sign out' }).click();
  await alice.page.getByRole('link', { name: 'Sign in with E2E IdP' }).waitFor({ timeout: 15_000 });
  const signedOut = Date.now();
  check((await withCookie(a.base, '/connections', alice.cookie)).status === 401, 'replica A still accepts a signed-out session');
  await waitFor('replica B to refuse the signed-out session',
    async () => (await withCookie(b.base, '/connections', alice.cookie)).status === 401, REVOCATION_BOUND_MS);
  log(`sign-out on A honoured by B after ${Date.now() - signedOut} ms`);
  await alice.context.close();

  // 3. bob, in no configured group: a plain user.
  const bob = await signIn(browser, b.base, 'bob');
  await bob.page.getByRole('heading', { name: 'My connections', level: 1 }).waitFor({ timeout: 15_000 });
  await bob.page.getByText('No personal connections yet').waitFor({ timeout: 15_000 });
  check((await bob.page.locator('.role-badge').textContent()).trim() === 'user', "bob's header does not say user");
  check(await bob.page.getByRole('link', { name: 'Webhooks' }).count() === 0, 'bob sees the Webhooks link');
  await bob.page.goto(`${b.base}/portal/connections/api/${CONNECTION}`);
  await bob.page.getByText('No personal connections yet').waitFor({ timeout: 15_000 });
  const text = await bob.page.locator('body').innerText();
  check(!text.includes(CONNECTION), "bob's page names a connection");
  await bob.page.screenshot({ path: path.join(artifacts, 'user-my-connections.png') });
  const statuses = await bob.page.evaluate(async (name) => {
    const out = {};
    for (const route of ['/connections', `/connections/api/${name}`, '/connections/oauth-health',
      `/connections/api/${name}/auth-events`, '/webhooks']) {
      out[route] = (await fetch(`/api/v1/admin${route}`)).status;
    }
    return out;
  }, CONNECTION);
  for (const [route, status] of Object.entries(statuses)) {
    check(status === 403, `bob got HTTP ${status} from ${route}, expected 403`);
  }
  log(`bob (user) gets 403 from ${Object.keys(statuses).length} admin routes`);
  await bob.context.close();

  // 4. A forged callback: a clear page, nothing echoed.
  const forgedCode = `forged-code-${crypto.randomBytes(8).toString('hex')}`;
  const forgedState = `forged-state-${crypto.randomBytes(8).toString('hex')}`;
  const context = await browser.newContext();
  const page = await context.newPage();
  const res = await page.goto(`${a.base}/portal/sso/callback?code=${forgedCode}&state=${forgedState}`);
  check(res.status() === 401, `a forged callback answered ${res.status()}, expected 401`);
  const body = await page.locator('body').innerText();
  check(body.includes('Sign-in failed') && body.includes('not started in this browser'),
    `the forged callback's page does not say what failed: ${body}`);
  check(!body.includes(forgedCode) && !body.includes(forgedState), 'the error page echoes the code or state');
  await page.screenshot({ path: path.join(artifacts, 'callback-error.png') });
  await context.close();
  return [forgedCode, forgedState];
}

async function main() {
  builtBinary(buildDir, 'tether');
  pgDsn = createTestDatabase('tether_sso');
  fs.mkdirSync(artifacts, { recursive: true });
  const issuer = await startIdp();
  log(`oidc-provider at ${issuer}`);
  const config =
    'listen: 127.0.0.1:0\n' +
    'log: { level: info, format: json }\n' +
    'storage: { driver: postgres, dsn: "${E2E_PG_DSN}" }\n' +
    'encryption: { key: "${TETHER_ENCRYPTION_KEY}" }\n' +
    'admin:\n' +
    '  keys: [ "${TETHER_ADMIN_KEY}" ]\n' +
    `  sso: { issuer: "${issuer}", client_id: tether-portal, display_name: E2E IdP, admin_groups: [tether-admins] }\n` +
    'connections:\n' +
    `  - kind: api\n    name: ${CONNECTION}\n    url: https://billing.example.test/\n` +
    '    auth: { mode: bearer, token: "${E2E_STATUS_TOKEN}" }\n';
  const configPath = path.join(tmp, 'tether.yaml');
  fs.writeFileSync(configPath, config);
  const a = await startTether('tether-a', configPath);
  const b = await startTether('tether-b', configPath);
  log(`replicas at ${a.base} and ${b.base}`);

  const echoed = await withChromium(opts.chromium, (browser) => runBrowser(browser, a, b));
  // Admin keys keep working next to single sign-on (automation, break-glass).
  const byKey = await fetch(`${a.base}/api/v1/admin/connections`, { headers: { Authorization: `Bearer ${adminKey}` } });
  check(byKey.status === 200, `the admin key got HTTP ${byKey.status}`);
  for (const p of [a.proc, b.proc]) {
    for (const [value, what] of [[adminKey, 'the admin key'], [encryptionKey, 'the encryption key'], ...echoed.map((v) => [v, 'a callback value'])]) {
      check(!p.err.includes(value) && !p.out.includes(value), `${p.name} logged ${what}`);
    }
    check(!/eyJ[A-Za-z0-9_-]{8,}/.test(p.err), `${p.name} logged a JWT (an ID token?)`);
  }
  check(/"msg":"admin: portal single sign-on refused"/.test(a.proc.err), 'replica A did not log the refused callback');
  check(/"actor":"user:alice".*"role":"admin"/.test(a.proc.err), 'replica A did not log alice\'s sign-in as user:alice, admin');
}

await runScript('portal-sso-e2e', { timeoutMs, started, group, tmp, keptNote: `; screenshots in ${artifacts}` }, main);
