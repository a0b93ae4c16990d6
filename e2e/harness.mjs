// What the end-to-end scripts (edge-e2e.mjs, portal-e2e.mjs) share: the command-line options
// they all take, a log with elapsed seconds, a failed precondition that ends the run, child
// processes with captured output that stop together, and a bounded wait on a condition.

import { spawn } from 'node:child_process';
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
