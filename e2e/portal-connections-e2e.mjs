#!/usr/bin/env node
// Connections as data in the operator portal (issue 14), in a real browser.
//
//   node e2e/portal-connections-e2e.mjs [--build-dir build] [--artifacts DIR]
//        [--chromium /usr/bin/chromium] [--timeout-ms 180000] [--verbose] [--mock-api]
//
// Real mode (default): build/tether-mock-idp (consent page), an MCP upstream that accepts the
// IdP's JWTs (e2e/mcp-upstream.mjs --issuer) and build/tether serve with one declared
// connection (api/status, bearer). In headless chromium (Debian's, driven by playwright-core):
//  - the declared connection is marked "managed by the config file" and has no edit/delete;
//  - "New connection" creates mcp/crm (OAuth against the mock IdP, issuer, client id and
//    secret), a bad field is named next to the field first; Connect goes through the IdP's
//    consent; a tool is called through /mcp/crm (MCP SDK client);
//  - the client secret is rotated at the IdP: a refresh makes mcp/crm needs_client_fix (red
//    "fix client credentials", the grant kept); its "Edit client secret" action opens the
//    form on the secret ("leave empty to keep"); saving the new secret makes it connected
//    again without a new consent, and a tool call works;
//  - "Delete connection" names the consequences; confirmed, /mcp/crm answers 404;
//  - no secret in the DOM or in web storage on any page; no script error, no CSP violation.
// No restart anywhere. (A secret is in the form's own field while the operator types it;
// every page after a save is checked.) Needs the admin API's connection routes (POST/PUT/DELETE
// /api/v1/admin/connections...).
//
// --mock-api runs the browser half against e2e/portal-mock-api.mjs (portal/dist built):
// forms, field errors next to the field, the config-file marker, the client-fix action and
// its heal, edit keeping a secret left empty, delete with its confirmation.
// Prints PASS or FAIL (exit 0 / 1; usage errors exit 2).

import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { newPortalContext, pageWatcher, signInWithAdminKey, withChromium } from './chromium.mjs';
import { adminRequest, builtBinary, check, parseCommandLine, processGroup, repo, runLog, runScript, startMockIdp, tetherListening, waitFor } from './harness.mjs';
import { mcpClient } from './tether-driver.mjs';

const { opts, timeoutMs, buildDir } = parseCommandLine(
  'portal-connections-e2e',
  'usage: node e2e/portal-connections-e2e.mjs [--build-dir DIR] [--artifacts DIR]\n' +
    '         [--chromium PATH] [--timeout-ms N] [--verbose] [--mock-api]',
  { timeoutMs: 180000, options: { artifacts: { type: 'string' }, 'mock-api': { type: 'boolean', default: false } } },
);
const mock = opts['mock-api'];
const artifacts = path.resolve(opts.artifacts ?? path.join(buildDir, 'test-artifacts', 'portal-connections'));
const { started, log } = runLog('portal-connections-e2e');
const verbose = (msg) => opts.verbose && log(msg);
const group = processGroup({ verbose: opts.verbose });
const { startProcess } = group;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-portal-conn-e2e-'));

const adminKey = mock ? 'mock-admin-key-0123456789' : `e2e-admin-${crypto.randomBytes(12).toString('hex')}`;
const firstSecret = `e2e-first-secret-${crypto.randomBytes(10).toString('hex')}`;
const rotatedSecret = `e2e-rotated-secret-${crypto.randomBytes(10).toString('hex')}`;
const statusToken = `e2e-status-token-${crypto.randomBytes(10).toString('hex')}`;
const secrets = new Map([
  [adminKey, 'the admin key'],
  [firstSecret, 'the first client secret'],
  [rotatedSecret, 'the rotated client secret'],
  [statusToken, 'the bearer token of api/status'],
]);

let base;
let issuer = null;
let upstream = null;

const api = (method, route, body, headers) => adminRequest(base, adminKey, method, route, body, headers);

async function idpControl(method, route, body) {
  const res = await fetch(`${issuer}/control/${route}`, {
    method,
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  check(res.ok, `mock IdP ${method} /control/${route} answered ${res.status}: ${await res.text()}`);
}

// ---------------------------------------------------------------------------------------
// Processes

async function startMockApi() {
  check(fs.existsSync(path.join(repo, 'portal', 'dist', 'index.html')), 'portal/dist is missing: npm run build:portal');
  const p = startProcess('portal-mock-api', process.execPath, [path.join(repo, 'e2e', 'portal-mock-api.mjs'), '--port', '0', '--key', adminKey]);
  base = (await waitFor('the mock API to listen', () => /listening on (\S+)/.exec(p.out), 15_000, p))[1];
}

async function startReal() {
  const tetherBin = builtBinary(buildDir, 'tether');
  issuer = await startMockIdp(group, buildDir, ['--consent', '--client', `tether-client:${firstSecret}`]);
  const up = startProcess('mcp-upstream', process.execPath, [path.join(repo, 'e2e', 'mcp-upstream.mjs'), '--port', '0', '--issuer', issuer]);
  upstream = (await waitFor('the MCP upstream to listen', () => /listening on (\S+)/.exec(up.err + up.out), 20_000, up))[1];
  const config =
    'listen: 127.0.0.1:0\n' +
    'log: { level: info, format: json }\n' +
    `storage: { driver: sqlite, path: "${path.join(tmp, 'tether.db')}" }\n` +
    'encryption: { key: "${TETHER_ENCRYPTION_KEY}" }\n' +
    'admin: { keys: [ "${TETHER_ADMIN_KEY}" ] }\n' +
    'connections:\n' +
    '  - kind: api\n    name: status\n    url: https://status.example.test/\n' +
    '    auth: { mode: bearer, token: "${E2E_STATUS_TOKEN}" }\n';
  const configPath = path.join(tmp, 'tether.yaml');
  fs.writeFileSync(configPath, config);
  const tether = startProcess('tether', tetherBin, ['serve', '--config', configPath], {
    TETHER_ADMIN_KEY: adminKey,
    TETHER_ENCRYPTION_KEY: crypto.randomBytes(32).toString('hex'),
    E2E_STATUS_TOKEN: statusToken,
  });
  base = await tetherListening(tether);
  log(`tether at ${base}, mock IdP at ${issuer}, MCP upstream at ${upstream}`);
}

// ---------------------------------------------------------------------------------------
// Browser helpers

const { pageErrors, watch, screenshot } = pageWatcher({ artifacts, verbose });
async function assertClean(page, where) {
  const { html, storage } = await page.evaluate(() => {
    const dump = (s) => Array.from({ length: s.length }, (_, i) => `${s.key(i)}=${s.getItem(s.key(i))}`).join('\n');
    const values = Array.from(document.querySelectorAll('input')).map((i) => i.value).join('\n');
    return { html: `${document.documentElement.outerHTML}\n${values}`, storage: `${dump(localStorage)}\n${dump(sessionStorage)}` };
  });
  for (const [text, what] of [[html, 'the DOM'], [storage, 'web storage']]) {
    for (const [value, name] of secrets) check(!text.includes(value), `${where}: ${what} contains ${name}`);
  }
}
const row = (page, key) => page.locator(`tr[data-connection="${key}"]`);
const field = (page, f) => page.locator(`[data-field="${f}"]`);
const fieldError = (page, f) => page.locator(`[data-error-for="${f}"]`);

async function signIn(page) {
  await signInWithAdminKey(page, base, adminKey);
  await page.getByRole('heading', { name: 'Connections', level: 1 }).waitFor({ timeout: 15_000 });
}

/** Fills the new-connection form for an OAuth MCP connection. */
async function fillOAuth(page, { name, url, issuerUrl, clientId, secret, lifetime = '' }) {
  await field(page, 'kind').selectOption('mcp');
  await field(page, 'name').fill(name);
  await field(page, 'url').fill(url);
  await field(page, 'auth.mode').selectOption('oauth');
  await field(page, 'auth.issuer').fill(issuerUrl);
  await field(page, 'auth.client_id').fill(clientId);
  await field(page, 'auth.client_secret').fill(secret);
  await field(page, 'auth.scopes').fill('openid offline_access');
  await field(page, 'auth.refresh_max_lifetime').fill(lifetime);
}

async function expectFieldError(page, f, what) {
  await fieldError(page, f).waitFor({ timeout: 10_000 });
  const text = await fieldError(page, f).innerText();
  const focused = await page.evaluate((ff) => document.activeElement?.getAttribute('data-field') === ff, f);
  check(focused, `after the ${what} error the focus is not on ${f}`);
  const invalid = await field(page, f).getAttribute('aria-invalid');
  check(invalid === 'true', `${f} is not marked aria-invalid after the ${what} error`);
  return text;
}

// ---------------------------------------------------------------------------------------
// The scenarios

async function configMarker(page, key) {
  await page.goto(`${base}/portal/connections/${key}`);
  await page.locator('[data-managed-by-config]').waitFor();
  check((await page.locator('[data-action="edit-connection"], [data-action="delete-connection"]').count()) === 0, `${key} (config file) offers edit or delete`);
  await page.goto(`${base}/portal/connections/${key}/edit`);
  await page.locator('[data-managed-by-config]').waitFor();
  check((await page.locator('form[data-form]').count()) === 0, `the edit page of ${key} (config file) shows a form`);
  log(`${key}: managed by the config file, no edit or delete`);
}

async function createWithFieldErrors(page, name, url, issuerUrl) {
  await page.goto(`${base}/portal/`);
  await page.locator('[data-action="new-connection"]').click();
  await page.locator('form[data-form="new"]').waitFor();
  await fillOAuth(page, { name: 'Bad Name', url, issuerUrl, clientId: 'tether-client', secret: firstSecret });
  await page.getByRole('button', { name: 'Create connection' }).click();
  let text = await expectFieldError(page, 'name', 'name');
  check(/name/i.test(text), `the name error does not name the field: "${text}"`);
  await field(page, 'name').fill(name);
  await field(page, 'auth.refresh_max_lifetime').fill('ninety days');
  await page.getByRole('button', { name: 'Create connection' }).click();
  text = await expectFieldError(page, 'auth.refresh_max_lifetime', 'refresh_max_lifetime');
  check(/refresh_max_lifetime/.test(text), `the refresh_max_lifetime error does not name the field: "${text}"`);
  check((await fieldError(page, 'name').count()) === 0, 'the fixed name still shows its error');
  await screenshot(page, 'field-error');
  await field(page, 'auth.refresh_max_lifetime').fill('90d');
  await page.getByRole('button', { name: 'Create connection' }).click();
  await page.waitForURL((u) => u.pathname === `/portal/connections/mcp/${name}`, { timeout: 15_000 });
  await page.locator('[data-action="edit-connection"]').waitFor();
  const made = await api('GET', `/connections/mcp/${name}`);
  check(made.status === 200 && made.json?.source === 'api', `GET mcp/${name} after the create: ${made.status} ${made.text.slice(0, 300)}`);
  check(!made.text.includes(firstSecret), 'the API answer shows the client secret');
  await assertClean(page, `mcp/${name} page`);
  log(`created mcp/${name} in the portal; the bad name and the bad refresh_max_lifetime were named next to their fields`);
}

async function editKeepsSecret(page, key, newUrl) {
  await page.goto(`${base}/portal/connections/${key}`);
  await page.locator('[data-action="edit-connection"]').click();
  await page.locator('form[data-form="edit"]').waitFor();
  const hint = await page.locator('[data-field-wrap="auth.client_secret"] .field-hint').innerText();
  check(/leave empty to keep/i.test(hint), `the secret field does not say "leave empty to keep": "${hint}"`);
  check((await field(page, 'auth.client_secret').inputValue()) === '', 'the edit form shows a secret value');
  await field(page, 'url').fill(newUrl);
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.waitForURL((u) => u.pathname === `/portal/connections/${key}`, { timeout: 15_000 });
  const after = await api('GET', `/connections/${key}`);
  check(after.json?.definition?.url === newUrl, `the edit did not change the URL: ${JSON.stringify(after.json?.definition)}`);
  check(after.json?.definition?.auth?.client_secret === 'set', `the secret left empty was not kept: ${JSON.stringify(after.json?.definition?.auth)}`);
  log(`${key}: edited its URL; the secret left empty was kept ("set")`);
}

async function fixClientSecret(page, key, secret) {
  await page.goto(`${base}/portal/`);
  const r = row(page, key);
  await r.locator('[data-badge="client-fix"]').waitFor({ timeout: 15_000 });
  const label = (await r.locator('.badge').innerText()).trim().toLowerCase();
  check(label === 'fix client credentials', `the client-fix badge reads "${label}"`);
  await screenshot(page, 'client-fix-badge');
  await r.locator('[data-action="edit-client-secret"]').click();
  await page.locator('form[data-form="edit"]').waitFor();
  await page.waitForFunction(() => document.activeElement?.getAttribute('data-field') === 'auth.client_secret', null, { timeout: 5_000 });
  await field(page, 'auth.client_secret').fill(secret);
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.waitForURL((u) => u.pathname === `/portal/connections/${key}`, { timeout: 15_000 });
  await page.locator('[data-status="connected"]').waitFor({ timeout: 15_000 });
  check((await page.locator('[data-badge]').count()) === 0, `${key} still shows a badge after the fix`);
  await assertClean(page, `${key} after the secret fix`);
  log(`${key}: "Edit client secret" from the badge; saved; connected again`);
}

async function deleteConnection(page, key) {
  await page.goto(`${base}/portal/connections/${key}`);
  await page.locator('[data-action="delete-connection"]').click();
  const dialog = page.locator('[role="alertdialog"]');
  await dialog.waitFor();
  const text = await dialog.innerText();
  for (const [re, what] of [
    [/tokens are deleted/i, 'the tokens are deleted'],
    [/revoked at the identity provider/i, 'the refresh token is revoked at the IdP'],
    [/history is kept/i, 'the history is kept'],
    [/404/, 'calls answer 404'],
  ]) {
    check(re.test(text), `the delete confirmation does not say ${what}: "${text}"`);
  }
  await screenshot(page, 'delete-confirmation');
  await page.locator('[data-action="confirm-delete-connection"]').click();
  await page.waitForURL((u) => u.pathname === '/portal/', { timeout: 15_000 });
  const gone = await api('GET', `/connections/${key}`);
  check(gone.status === 404, `GET ${key} after the delete answered ${gone.status}`);
  log(`${key}: deleted after a confirmation naming tokens, IdP revocation, 404 and the kept history`);
}

async function callTool(name) {
  const { client } = await mcpClient(base, name);
  try {
    const r = await client.callTool({ name: 'echo', arguments: { text: 'hello' } });
    check(JSON.stringify(r.content ?? []).includes('hello'), `echo through /mcp/${name} answered ${JSON.stringify(r).slice(0, 300)}`);
  } finally {
    await client.close().catch(() => {});
  }
}

async function runMock(page) {
  await configMarker(page, 'mcp/wiki');
  await fixClientSecret(page, 'mcp/crm', rotatedSecret);
  await createWithFieldErrors(page, 'weather', 'https://weather.example.com/mcp', 'https://idp.example.com');
  await editKeepsSecret(page, 'mcp/weather', 'https://weather2.example.com/mcp');
  await deleteConnection(page, 'mcp/weather');
}

async function runReal(context, page) {
  await configMarker(page, 'api/status');
  await createWithFieldErrors(page, 'crm', upstream, issuer);
  // Connect through the IdP's consent page.
  await page.getByRole('button', { name: /^(Connect|Reconnect)$/ }).click();
  await page.getByRole('button', { name: 'Approve' }).click({ timeout: 20_000 });
  await page.waitForURL((u) => u.pathname === '/portal/connections/mcp/crm', { timeout: 20_000 });
  await page.locator('[data-status="connected"]').waitFor({ timeout: 15_000 });
  await callTool('crm');
  log('mcp/crm connected through the consent page; a tool call through /mcp/crm worked');

  // The secret is rotated at the IdP: the next refresh finds the client rejected.
  await idpControl('POST', 'clients', { client_id: 'tether-client', client_secret: rotatedSecret });
  const refresh = await api('POST', '/connections/mcp/crm/oauth/refresh');
  check(refresh.status !== 200, `refresh now under a rotated secret answered 200: ${refresh.text}`);
  const detail = await api('GET', '/connections/mcp/crm');
  check(detail.json?.oauth?.state === 'needs_client_fix', `mcp/crm is ${detail.json?.oauth?.state}, expected needs_client_fix`);
  check(detail.json?.oauth?.has_refresh_token, 'the refresh token was not kept');
  const events = await api('GET', '/connections/mcp/crm/auth-events?limit=50');
  const types = (events.json?.events ?? []).map((e) => e.type);
  check(!types.includes('token_deleted_revoked') && types.includes('refresh_failed_client_rejected'), `history: ${types.join(', ')}`);
  const consents = (await api('GET', '/connections/mcp/crm/auth-events?limit=50')).json.events.filter((e) => e.type === 'connect_completed').length;

  await fixClientSecret(page, 'mcp/crm', rotatedSecret);
  await callTool('crm');
  const after = (await api('GET', '/connections/mcp/crm/auth-events?limit=50')).json.events;
  check(after.filter((e) => e.type === 'connect_completed').length === consents, 'the fix went through a new connect');
  log('mcp/crm healed by the new secret without a new consent; a tool call works again');

  await deleteConnection(page, 'mcp/crm');
  const gone = await fetch(`${base}/mcp/crm`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
  check(gone.status === 404, `/mcp/crm after the delete answered ${gone.status}`);
  void context;
}

async function main() {
  fs.rmSync(artifacts, { recursive: true, force: true });
  fs.mkdirSync(artifacts, { recursive: true });
  if (mock) await startMockApi();
  else await startReal();
  await withChromium(opts.chromium, async (browser) => {
    let page = null;
    try {
      const context = await newPortalContext(browser, { height: 900, defaultTimeoutMs: 15_000 });
      page = await context.newPage();
      watch(page, 'portal');
      await signIn(page);
      if (mock) await runMock(page);
      else await runReal(context, page);
      check(pageErrors.length === 0, `the page reported errors:\n  ${pageErrors.join('\n  ')}`);
    } catch (e) {
      if (page) await screenshot(page, 'failure').catch(() => {});
      throw e;
    }
  });
}

await runScript('portal-connections-e2e', { timeoutMs, started, group, tmp, keptNote: `; screenshots in ${artifacts}` }, main);
