#!/usr/bin/env node
// Plays the user in a browser for Tether's connect-flow end-to-end test: Debian's chromium,
// headless, driven by playwright-core (no Playwright-downloaded browser).
//
//   node e2e/browser-login.mjs --url AUTHORIZATION_URL --until URL_PREFIX [--login alice]
//        [--password secret] [--screenshots DIR] [--timeout-ms 30000] [--chromium /usr/bin/chromium]
//        [--accept-unreachable]
//
// Opens --url in a fresh profile, then on every page that is not yet under --until:
// - a page with a visible password field: fills the text/e-mail field of that form with
//   --login, the password field with --password, and submits (the login step);
// - a page with only a user-name field (identifier-first login): fills it and submits;
// - otherwise a page with submit buttons (the consent step, or any one-button "Approve" page):
//   clicks the approving one (Approve/Allow/Accept/Authorize/Continue/Yes/...), never one
//   labelled Deny/Cancel/Reject/Decline; with a single candidate, clicks it.
// Redirects are followed by the browser. Once the page URL starts with --until and that page
// has loaded, prints one JSON line on stdout and exits 0:
//   {"final_url": ..., "status": <HTTP status of that page>, "title": ..., "text": <body
//    innerText, trimmed, at most 2000 chars>}
// --accept-unreachable: a redirect to an --until URL that cannot be loaded (nothing listening;
// note chromium refuses "unsafe" ports such as 9 outright) also counts as reached: the JSON
// line then has "status": null and "error": "net::ERR_...".
// On failure (timeout, a page with nothing to do, an HTTP error page, the same page coming
// back, a navigation error such as a refused connection) it names the step and the page URL
// on stderr, saves a screenshot when --screenshots is given, and exits 1. Usage errors exit 2.
// With --screenshots DIR every step is saved there as NN-<step>.png.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

import { CHROMIUM_ARGS } from './chromium.mjs';

const MAX_STEPS = 12;
const MAX_SAME_PAGE = 3;
const IDLE_PAGE_MS = 5000;
const TEXT_LIMIT = 2000;

function usage(message) {
  if (message) console.error(`browser-login: ${message}`);
  console.error(
    'usage: node e2e/browser-login.mjs --url URL --until URL_PREFIX [--login alice] [--password P]\n' +
      '         [--screenshots DIR] [--timeout-ms 30000] [--chromium /usr/bin/chromium]\n' +
      '         [--accept-unreachable]',
  );
  process.exit(2);
}

let opts;
try {
  ({ values: opts } = parseArgs({
    options: {
      url: { type: 'string' },
      until: { type: 'string' },
      login: { type: 'string', default: 'alice' },
      password: { type: 'string', default: 'e2e-password' },
      screenshots: { type: 'string' },
      'timeout-ms': { type: 'string', default: '30000' },
      chromium: { type: 'string', default: process.env.TETHER_CHROMIUM || '/usr/bin/chromium' },
      'accept-unreachable': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  }));
} catch (e) {
  usage(e.message);
}
if (opts.help) usage();
if (!opts.url) usage('--url is required');
if (!opts.until) usage('--until is required');
for (const name of ['url', 'until']) {
  if (!URL.canParse(opts[name])) usage(`--${name} must be an absolute URL`);
}
const timeoutMs = Number(opts['timeout-ms']);
if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) usage('--timeout-ms must be a positive integer');

// From process start: loading playwright-core alone takes a second on a busy machine.
const started = Math.round(Date.now() - performance.now());
const deadline = started + timeoutMs;
const remaining = () => Math.max(1, deadline - Date.now());
const log = (msg) => console.error(`browser-login: [${Date.now() - started}ms] ${msg}`);

class StepError extends Error {}

const stripHash = (u) => u.split('#')[0];
const reached = (u) => u.startsWith(opts.until);

if (opts.screenshots) fs.mkdirSync(opts.screenshots, { recursive: true });
const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-browser-login-'));
let context;
let page;
let shot = 0;
let stepName = 'launch';

async function screenshot(name) {
  if (!opts.screenshots || !page) return;
  shot += 1;
  const file = path.join(opts.screenshots, `${String(shot).padStart(2, '0')}-${name}.png`);
  try {
    await page.screenshot({ path: file, fullPage: true, timeout: 5000 });
  } catch (e) {
    log(`screenshot ${file} failed: ${e.message.split('\n')[0]}`);
  }
}

// Marks what to fill and click with data-e2e-role attributes; Playwright then acts on them
// like a user would (focus, typing events, a real click).
function classifyInPage() {
  const visible = (el) => {
    const style = getComputedStyle(el);
    return el.getClientRects().length > 0 && style.visibility !== 'hidden' && style.display !== 'none' && !el.disabled;
  };
  for (const el of document.querySelectorAll('[data-e2e-role]')) el.removeAttribute('data-e2e-role');

  const label = (el) => (el.innerText || el.value || el.getAttribute('aria-label') || el.title || '').trim();
  const submitsIn = (root) =>
    [...root.querySelectorAll('button, input[type=submit], input[type=image]')].filter((b) => {
      if (!visible(b)) return false;
      if (b.tagName === 'BUTTON') {
        const t = (b.getAttribute('type') || 'submit').toLowerCase();
        if (t !== 'submit') return false;
        return Boolean(b.form);
      }
      return Boolean(b.form);
    });
  const APPROVE = /approve|allow|accept|authori[sz]e|consent|grant|confirm|continue|yes|\bok\b|sign.?in|log.?in|next|submit/i;
  const DENY = /deny|cancel|reject|decline|abort|\bno\b|back/i;
  const pick = (buttons) => {
    const usable = buttons.filter((b) => !DENY.test(label(b)));
    return usable.find((b) => APPROVE.test(label(b))) ?? (usable.length === 1 ? usable[0] : undefined);
  };
  const TEXTLIKE = ['text', 'email', 'tel', ''];
  const textInputs = (root) =>
    [...root.querySelectorAll('input')].filter(
      (i) => TEXTLIKE.includes((i.getAttribute('type') || '').toLowerCase()) && visible(i) && !i.readOnly,
    );

  const password = [...document.querySelectorAll('input[type=password]')].find(visible);
  if (password) {
    const root = password.form || document;
    const user = textInputs(root)[0];
    if (user) user.setAttribute('data-e2e-role', 'user');
    password.setAttribute('data-e2e-role', 'password');
    const submit = pick(submitsIn(root));
    if (submit) submit.setAttribute('data-e2e-role', 'submit');
    return { kind: 'login', user: Boolean(user), submit: submit ? label(submit) : null };
  }

  const USERISH = /user|login|email|mail|name|identifier|account/i;
  const user = textInputs(document).find((i) =>
    USERISH.test(`${i.name} ${i.id} ${i.getAttribute('autocomplete') || ''} ${i.type}`));
  if (user && user.form) {
    const submit = pick(submitsIn(user.form));
    user.setAttribute('data-e2e-role', 'user');
    if (submit) submit.setAttribute('data-e2e-role', 'submit');
    return { kind: 'login-identifier', user: true, submit: submit ? label(submit) : null };
  }

  const submit = pick(submitsIn(document));
  if (submit) {
    submit.setAttribute('data-e2e-role', 'submit');
    return { kind: 'consent', submit: label(submit) };
  }
  return { kind: 'none', buttons: submitsIn(document).map(label) };
}

async function pageSummary() {
  try {
    const text = await page.evaluate(() => (document.body?.innerText ?? '').trim().slice(0, 300));
    return `title "${await page.title()}", text "${text.replace(/\s+/g, ' ')}"`;
  } catch {
    return 'no page content';
  }
}

async function main() {
  log(`launching ${opts.chromium}`);
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: opts.chromium,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: remaining(),
    viewport: { width: 1000, height: 800 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(timeoutMs);
  page.on('dialog', (d) => d.accept().catch(() => {}));

  // Status of each main-frame document, and why a main-frame navigation failed.
  const statusByUrl = new Map();
  let navFailure = null;
  page.on('response', (r) => {
    const req = r.request();
    if (req.isNavigationRequest() && req.frame() === page.mainFrame()) {
      statusByUrl.set(stripHash(r.url()), r.status());
    }
  });
  page.on('requestfailed', (req) => {
    if (req.isNavigationRequest() && req.frame() === page.mainFrame()) {
      navFailure = { url: req.url(), error: req.failure()?.errorText ?? 'failed' };
    }
  });
  let navigations = 0;
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) navigations += 1;
  });

  async function waitForNavigationAfter(countBefore, ms) {
    const until = Date.now() + ms;
    while (navigations === countBefore) {
      if (Date.now() >= until) return false;
      await new Promise((r) => setTimeout(r, 25));
    }
    await page.waitForLoadState('domcontentloaded', { timeout: remaining() }).catch(() => {});
    return true;
  }

  stepName = 'open';
  log(`opening ${opts.url}`);
  try {
    await page.goto(opts.url, { waitUntil: 'domcontentloaded', timeout: remaining() });
  } catch (e) {
    if (!navFailure) throw new StepError(`navigation failed: ${e.message.split('\n')[0]}`);
  }

  let lastSignature = '';
  let samePage = 0;
  for (let step = 1; ; step += 1) {
    const url = page.url();
    if (navFailure && (url.startsWith('chrome-error:') || url === 'about:blank')) {
      if (reached(navFailure.url) && opts['accept-unreachable']) {
        const out = { final_url: navFailure.url, status: null, title: '', text: '', error: navFailure.error };
        process.stdout.write(`${JSON.stringify(out)}\n`);
        log(`reached ${navFailure.url} but it did not load (${navFailure.error}); accepted`);
        return;
      }
      const where = reached(navFailure.url) ? ' (the --until page itself)' : '';
      throw new StepError(`navigation to ${navFailure.url}${where} failed: ${navFailure.error}`);
    }
    if (reached(url)) {
      stepName = 'final';
      await page.waitForLoadState('load', { timeout: remaining() });
      break;
    }
    if (step > MAX_STEPS) throw new StepError(`still not at ${opts.until} after ${MAX_STEPS} pages`);

    stepName = `page ${step}`;
    const found = await page.evaluate(classifyInPage);
    stepName = `${found.kind} (page ${step})`;
    const signature = `${stripHash(url).split('?')[0]} ${found.kind}`;
    samePage = signature === lastSignature ? samePage + 1 : 1;
    lastSignature = signature;
    if (samePage >= MAX_SAME_PAGE) {
      throw new StepError(`the same ${found.kind} page came back ${samePage} times (rejected?): ${await pageSummary()}`);
    }
    log(`${found.kind} at ${url} (HTTP ${statusByUrl.get(stripHash(url)) ?? '?'})` +
      (found.submit ? `, button "${found.submit}"` : ''));
    await screenshot(found.kind);

    const before = navigations;
    navFailure = null;
    const httpStatus = statusByUrl.get(stripHash(url));
    if (found.kind === 'none' && httpStatus >= 400) {
      throw new StepError(`HTTP ${httpStatus} page with nothing to submit; ${await pageSummary()}`);
    }
    if (found.kind === 'none') {
      // Nothing to fill or click: maybe a page that moves on by itself (script, refresh).
      if (!(await waitForNavigationAfter(before, Math.min(IDLE_PAGE_MS, remaining())))) {
        const buttons = found.buttons.length ? `, buttons ${JSON.stringify(found.buttons)}` : '';
        throw new StepError(`unexpected page: no login form or approve button${buttons}; ${await pageSummary()}`);
      }
      continue;
    }
    if (found.user) await page.fill('[data-e2e-role=user]', opts.login, { timeout: remaining() });
    if (found.kind === 'login') {
      await page.fill('[data-e2e-role=password]', opts.password, { timeout: remaining() });
    }
    if (found.submit !== null) {
      await page.click('[data-e2e-role=submit]', { timeout: remaining() });
    } else {
      const field = found.kind === 'login' ? 'password' : 'user';
      await page.press(`[data-e2e-role=${field}]`, 'Enter', { timeout: remaining() });
    }
    stepName = `after ${found.kind} (page ${step})`;
    if (!(await waitForNavigationAfter(before, remaining()))) {
      throw new StepError('timed out waiting for the next page after submitting');
    }
  }

  const finalUrl = page.url();
  await screenshot('final');
  const title = await page.title();
  const text = (await page.evaluate(() => document.body?.innerText ?? '')).trim().slice(0, TEXT_LIMIT);
  const status = statusByUrl.get(stripHash(finalUrl)) ?? null;
  process.stdout.write(`${JSON.stringify({ final_url: finalUrl, status, title, text })}\n`);
  log(`reached ${finalUrl} (HTTP ${status})`);
}

async function cleanup() {
  if (context) {
    const t = Date.now();
    await Promise.race([context.close().catch(() => {}), new Promise((r) => setTimeout(r, 5000))]);
    log(`browser closed in ${Date.now() - t}ms`);
  }
  try {
    // A browser killed mid-launch may still be writing its profile for a moment.
    fs.rmSync(profileDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  } catch (e) {
    log(`could not remove ${profileDir}: ${e.message}`);
  }
}

// The overall deadline also covers a hung launch or a hung page script.
const watchdog = setTimeout(() => {
  console.error(`browser-login: FAILED at step "${stepName}": timed out after ${timeoutMs}ms; page ${page?.url() ?? '(none)'}`);
  screenshot('failure').finally(() => cleanup().finally(() => process.exit(1)));
}, timeoutMs + 2000);

let code = 0;
try {
  await main();
} catch (e) {
  code = 1;
  const timedOut = e.name === 'TimeoutError' || Date.now() >= deadline;
  const reason = e instanceof StepError ? e.message : `${timedOut ? 'timed out: ' : ''}${e.message.split('\n')[0]}`;
  console.error(`browser-login: FAILED at step "${stepName}": ${reason}; page ${page?.url() ?? '(none)'}`);
  await screenshot('failure');
}
clearTimeout(watchdog);
await cleanup();
process.exit(code);
