// What the end-to-end scripts (edge-e2e.mjs, the portal tests, ...) share: the command-line
// options they all take, a log with elapsed seconds, a failed precondition that ends the run,
// child processes with captured output that stop together, a bounded wait on a condition, the
// run of a script's main under a deadline, and a PostgreSQL database of its own.

import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/// The repository's root directory.
export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/// Parses the command line of the script `name` (e.g. 'edge-e2e'): the options every script
/// takes (--build-dir, --chromium, --timeout-ms, default `timeoutMs`, --verbose, --help) and
/// its own `options` (node:util parseArgs form). --help or a bad option prints `usageText`
/// and exits 2. Returns { opts, timeoutMs, buildDir } (buildDir absolute).
export function parseCommandLine(name, usageText, { timeoutMs: defaultTimeoutMs, options = {} }) {
  const usage = (message) => {
    if (message) console.error(`${name}: ${message}`);
    console.error(usageText);
    process.exit(2);
  };
  let opts;
  try {
    ({ values: opts } = parseArgs({
      options: {
        'build-dir': { type: 'string', default: process.env.TETHER_BINARY_DIR || path.join(repo, 'build') },
        chromium: { type: 'string', default: process.env.TETHER_CHROMIUM || '/usr/bin/chromium' },
        'timeout-ms': { type: 'string', default: String(defaultTimeoutMs) },
        verbose: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
        ...options,
      },
    }));
  } catch (e) {
    usage(e.message);
  }
  if (opts.help) usage();
  const timeoutMs = Number(opts['timeout-ms']);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) usage('--timeout-ms must be a positive integer');
  return { opts, timeoutMs, buildDir: path.resolve(opts['build-dir']) };
}

/// A log to stderr whose lines start with `name` and the seconds since `started` (now).
export function runLog(name) {
  const started = Date.now();
  const log = (msg) => console.error(`${name}: [${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);
  return { started, log };
}

/// A precondition that failed: the run stops and reports `message` (no stack trace).
export class Failure extends Error {}

/// Throws a Failure with `message` unless `condition` holds.
export function check(condition, message) {
  if (!condition) throw new Failure(message);
}

/// The child processes of one run. startProcess(name, cmd, args, env) spawns one with its
/// stdout and stderr collected in proc.out and proc.err (and echoed when `verbose`);
/// proc.exited is set when it ends. stopAll() runs the stop hooks, then ends every child that
/// is still running: SIGTERM, then SIGKILL after 5 s.
export function processGroup({ verbose = false } = {}) {
  const children = [];
  const stopHooks = [];

  function startProcess(name, cmd, args, env = {}) {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const proc = { name, child, out: '', err: '', exited: null };
    child.stdout.on('data', (d) => {
      proc.out += d;
      if (verbose) process.stderr.write(`[${name}] ${d}`);
    });
    child.stderr.on('data', (d) => {
      proc.err += d;
      if (verbose) process.stderr.write(`[${name}] ${d}`);
    });
    child.on('exit', (code, signal) => (proc.exited = { code, signal }));
    children.push(proc);
    return proc;
  }

  async function stopAll() {
    for (const hook of stopHooks.splice(0)) hook();
    await Promise.all(
      children.map(async (p) => {
        if (p.exited) return;
        p.child.kill('SIGTERM');
        const deadline = Date.now() + 5000;
        while (!p.exited && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        if (!p.exited) p.child.kill('SIGKILL');
      }),
    );
  }

  return { children, stopHooks, startProcess, stopAll };
}

/// Polls `predicate` (may be async) every 50 ms until it returns a truthy value, which it
/// returns. Throws a Failure after `ms`, or as soon as `proc` (optional, from startProcess)
/// exits; both messages name `what` and end with the tail of proc's stderr.
export async function waitFor(what, predicate, ms, proc) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await predicate();
    if (v) return v;
    if (proc?.exited) {
      throw new Failure(`${proc.name} exited (${JSON.stringify(proc.exited)}) before ${what}:\n${proc.err.slice(-3000)}`);
    }
    if (Date.now() > deadline) {
      throw new Failure(`timed out waiting for ${what}${proc ? `:\n${proc.err.slice(-3000)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/// Runs a script's `main` under a deadline and ends the process: prints `<name>: <message>`
/// for a Failure (with the stack for anything else), stops every child of `group` (from
/// processGroup), and on success deletes `tmp`; on failure writes each child's stdout and
/// stderr into `tmp` and says so (`keptNote` adds e.g. where the screenshots are). Prints
/// PASS/FAIL with the run's seconds (`passNote` after them) and exits 0/1. Never returns.
export async function runScript(name, { timeoutMs, started, group, tmp, keptNote = '', passNote = '' }, main) {
  const timer = setTimeout(() => {
    console.error(`${name}: FAIL: timed out after ${timeoutMs} ms`);
    group.stopAll().finally(() => process.exit(1));
  }, timeoutMs);
  let ok = false;
  try {
    await main();
    ok = true;
  } catch (e) {
    console.error(`${name}: ${e instanceof Failure ? e.message : `unexpected error: ${e.stack}`}`);
  } finally {
    clearTimeout(timer);
    await group.stopAll();
  }
  if (ok) {
    fs.rmSync(tmp, { recursive: true, force: true });
  } else {
    for (const p of group.children) {
      if (p.err) fs.writeFileSync(path.join(tmp, `${p.name}.stderr.log`), p.err);
      if (p.out) fs.writeFileSync(path.join(tmp, `${p.name}.stdout.log`), p.out);
    }
    console.error(`${name}: logs kept in ${tmp}${keptNote}`);
  }
  console.log(ok ? `PASS ${name} (${((Date.now() - started) / 1000).toFixed(1)} s${passNote})` : `FAIL ${name}`);
  process.exit(ok ? 0 : 1);
}

/// A PostgreSQL database of the script's own on the test cluster (./scripts/with-postgres.sh
/// sets TETHER_TEST_PG_DSN and TETHER_TEST_PG_BIN; other tests use the cluster at the same
/// time): creates `<prefix>_<random>` with psql and returns its DSN. Throws a Failure when
/// the cluster is not there.
export function createTestDatabase(prefix) {
  const dsn = process.env.TETHER_TEST_PG_DSN;
  check(dsn, 'TETHER_TEST_PG_DSN is not set: run under ./scripts/with-postgres.sh');
  const db = `${prefix}_${crypto.randomBytes(5).toString('hex')}`;
  const port = /port=(\d+)/.exec(dsn)?.[1];
  check(port, 'TETHER_TEST_PG_DSN names no port');
  const psql = process.env.TETHER_TEST_PG_BIN ? path.join(process.env.TETHER_TEST_PG_BIN, 'psql') : 'psql';
  execFileSync(psql, ['-h', '127.0.0.1', '-p', port, '-U', 'tether', '-d', 'postgres', '-qc', `CREATE DATABASE ${db}`], { stdio: 'pipe', timeout: 30_000 });
  return `${dsn} dbname=${db}`;
}

/// One admin API request to Tether at `base` with `adminKey` as the bearer: `method` on
/// `/api/v1/admin<route>`, `body` (optional) sent as JSON, extra `headers`. Resolves to
/// { status, json (null when the answer is not JSON), text }.
export async function adminRequest(base, adminKey, method, route, body, headers = {}) {
  const res = await fetch(`${base}/api/v1/admin${route}`, {
    method,
    headers: { Authorization: `Bearer ${adminKey}`, ...(body ? { 'Content-Type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  return { status: res.status, json, text };
}

/// The base URL (`http://127.0.0.1:<port>`) of a `tether serve` child (from startProcess)
/// once its JSON log says "listening"; a Failure after `ms` or when it exits first.
export async function tetherListening(proc, ms = 30_000) {
  const addr = await waitFor(`${proc.name} to log "listening"`, () => /"msg":"listening".*?"address":"(127\.0\.0\.1:\d+)"/.exec(proc.err), ms, proc);
  return `http://${addr[1]}`;
}

/// Resolves once `<base>/readyz` answers 200; a Failure after `ms` or when `proc` exits.
export async function tetherReady(base, proc, ms = 30_000) {
  await waitFor(`${proc.name} to be ready`, async () => (await fetch(`${base}/readyz`).catch(() => null))?.status === 200, ms, proc);
}

/// The path of `<buildDir>/<name>`; a Failure saying to build it when it is missing.
export function builtBinary(buildDir, name) {
  const file = path.join(buildDir, name);
  check(fs.existsSync(file), `${file} is missing: build it first`);
  return file;
}

/// Starts `<buildDir>/tether-mock-idp --port 0 <args>` in `group` (from processGroup) and
/// resolves to its issuer URL once it listens (a Failure after 20 s or if it exits).
export async function startMockIdp(group, buildDir, args) {
  const idp = group.startProcess('tether-mock-idp', builtBinary(buildDir, 'tether-mock-idp'), ['--port', '0', ...args]);
  return (await waitFor('the mock IdP to listen', () => /listening on (\S+)/.exec(idp.out), 20_000, idp))[1];
}
