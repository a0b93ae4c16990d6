// Debian's chromium in the end-to-end tests, driven by playwright-core: its launch flags
// (headless, as root, on a machine without outside network; shared by browser-login.mjs and
// the portal tests), one launch-and-close, an operator-like browser context, the portal's
// admin-key sign-in, and what a test watches on its pages (script errors, screenshots).

import path from 'node:path';

import { chromium } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  // Without these chromium phones home at start-up; on a closed network that ends in refused
  // connections and noise.
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Small /dev/shm in containers crashes renderers; /tmp has room.
  '--disable-dev-shm-usage',
];

/// Launches headless chromium (`executablePath`, e.g. --chromium), returns `await fn(browser)`
/// and closes the browser however `fn` ends. launch() (not launchPersistentContext): tests
/// open several independent contexts, and playwright-core gives the browser a fresh
/// temporary profile that it deletes on close.
export async function withChromium(executablePath, fn) {
  const browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
  try {
    return await fn(browser);
  } finally {
    await browser.close().catch(() => {});
  }
}

/// A new context as an operator's browser would be: a `width` x `height` window, en-US,
/// `timezoneId` (UTC unless null: the machine's), and `defaultTimeoutMs` for every action
/// (unless null: playwright's default).
export async function newPortalContext(browser, { width = 1280, height = 800, timezoneId = 'UTC', defaultTimeoutMs = null } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, locale: 'en-US', ...(timezoneId ? { timezoneId } : {}) });
  if (defaultTimeoutMs) context.setDefaultTimeout(defaultTimeoutMs);
  return context;
}

/// Signs in to the portal with an admin key through its sign-in form: opens `<base>/portal/`
/// first unless `base` is null (the page already shows the form), fills the key, submits.
/// The caller waits for what it expects next (the list, an error).
export async function signInWithAdminKey(page, base, adminKey) {
  if (base) await page.goto(`${base}/portal/`);
  await page.locator('#admin-key').fill(adminKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/// What a test watches on its portal pages: `watch(page, label)` records uncaught script
/// errors and Content-Security-Policy refusals in `pageErrors` (other console errors go to
/// `verbose`, except those `quietConsole` matches) and keeps the page in `openPages` while it
/// is open; `screenshot(page, name)` writes `<artifacts>/NN-<name>.png` (NN counts up; full
/// page) and remembers it in `shots` by name.
export function pageWatcher({ artifacts, verbose = () => {}, quietConsole = null }) {
  const pageErrors = [];
  const shots = new Map();
  const openPages = new Set();
  let shot = 0;
  function watch(page, label) {
    openPages.add(page);
    page.on('close', () => openPages.delete(page));
    page.on('pageerror', (e) => pageErrors.push(`${label}: uncaught ${e.message}`));
    page.on('console', (m) => {
      const text = m.text();
      if (/Content.Security.Policy|Refused to/i.test(text)) pageErrors.push(`${label}: ${text}`);
      else if (m.type() === 'error' && !quietConsole?.test(text)) verbose(`${label} console: ${text}`);
    });
  }
  async function screenshot(page, name) {
    shot += 1;
    const file = path.join(artifacts, `${String(shot).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path: file, fullPage: true, timeout: 10_000 });
    shots.set(name, file);
    verbose(`screenshot ${file}`);
  }
  return { pageErrors, shots, openPages, watch, screenshot };
}
