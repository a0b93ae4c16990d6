#!/usr/bin/env node
// The MCP client conformance run (ctest `conformance_client_test`): every `auth/*` scenario
// of `conformance list --client` plus initialize, tools_call and sse-retry, each driven by
// e2e/conformance-client.mjs (Tether as the client), judged by the suite itself.
//
//   node e2e/conformance-run.mjs [--build-dir build] [--baseline e2e/conformance-baseline.yaml]
//        [--suite DIR] [--scenario NAME ...] [--jobs 2] [--http] [--verbose]
//
// Tether serves HTTPS with a certificate made for the run (openssl), public_url
// https://127.0.0.1:<port>, as in production; the suite and the client script trust it
// through NODE_EXTRA_CA_CERTS. --http serves plain http instead (Tether then never uses a
// Client ID Metadata Document). --suite names another install of
// @modelcontextprotocol/conformance (its package directory; default: node_modules'), e.g.
// to try a newer version; versions that need Node 22 for `fs.globSync` are loaded through
// e2e/conformance-node20.mjs on Node 20.
//
// The baseline lists the scenarios that cannot pass yet, each with its reason in a comment
// (`  - auth/basic-cimd  # why`); a reason that starts with a version condition
// (`suite < X.Y.Z:`, `suite >= X.Y.Z:`, both) applies only to suite versions that meet it (a
// defect of those suite versions); "[only: check-id, ...]" in a reason names the only checks
// that may fail or warn (anything else failing, or the client script failing, fails the
// run). The run fails when a scenario outside the baseline fails, and also when a baseline
// scenario passes (the entry is stale: remove it), so the baseline stays honest. A failure
// outside the baseline is run once more before it counts (timing checks can miss on a
// loaded machine). Prints one line per scenario and "conformance: passed P/T (suite
// VERSION)"; exit 0 or 1.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { repo } from './harness.mjs';
import { testCertificate } from './tether-driver.mjs';

const { values: opts } = parseArgs({
  options: {
    'build-dir': { type: 'string', default: process.env.TETHER_BINARY_DIR || path.join(repo, 'build') },
    baseline: { type: 'string', default: path.join(repo, 'e2e', 'conformance-baseline.yaml') },
    suite: { type: 'string', default: process.env.TETHER_CONFORMANCE_SUITE || path.join(repo, 'node_modules', '@modelcontextprotocol', 'conformance') },
    http: { type: 'boolean', default: false },
    scenario: { type: 'string', multiple: true, default: [] },
    jobs: { type: 'string', default: '2' },
    'timeout-ms': { type: 'string', default: '60000' },
    verbose: { type: 'boolean', default: false },
  },
});
const suiteDir = path.resolve(opts.suite);
const suitePackage = JSON.parse(fs.readFileSync(path.join(suiteDir, 'package.json'), 'utf8'));
const suite = path.join(suiteDir, suitePackage.bin?.conformance ?? 'dist/index.js');
const clientScript = path.join(repo, 'e2e', 'conformance-client.mjs');
const buildDir = path.resolve(opts['build-dir']);
const EXTRA = ['initialize', 'tools_call', 'sse-retry'];
// Suite versions that import fs.globSync (Node 22+) load on older Node through a shim.
const nodeArgs =
  Number(process.versions.node.split('.')[0]) < 22 && /globSync/.test(fs.readFileSync(suite, 'utf8'))
    ? ['--import', path.join(repo, 'e2e', 'conformance-node20.mjs')]
    : [];
const suiteEnv = { ...process.env };

/// -1, 0 or 1 as version a (X.Y.Z, pre-release ignored) is below, equal to or above b.
function compareVersions(a, b) {
  const pa = a.split('-')[0].split('.').map(Number);
  const pb = b.split('-')[0].split('.').map(Number);
  for (let i = 0; i < 3; ++i) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) < (pb[i] ?? 0) ? -1 : 1;
  return 0;
}

/// Runs `node suite args`; resolves { code, out } (stdout + stderr), killed after `ms`.
function runSuite(args, ms) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...nodeArgs, suite, ...args], { cwd: buildDir, env: suiteEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, out });
    });
  });
}

/// False when `reason` starts with a suite version condition that `version` does not meet:
/// `suite < 0.1.15:`, `suite >= 0.1.15:`, `suite >= 0.1.15 < 0.2.0:` (all must hold).
function appliesTo(reason, version) {
  const head = reason.match(/^suite((?:\s*(?:<|<=|>|>=)\s*\d+\.\d+\.\d+)+)\s*:/);
  if (!head) return true;
  return [...head[1].matchAll(/(<=|>=|<|>)\s*(\d+\.\d+\.\d+)/g)].every(([, op, v]) => {
    const c = compareVersions(version, v);
    return op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0;
  });
}

/// Ids of the checks the suite's output reports as FAILURE or WARNING, plus "client-script"
/// when conformance-client.mjs itself failed.
function failingChecks(out) {
  const text = out.replace(/\x1b\[[0-9;]*m/g, '');
  const ids = [...text.matchAll(/\[([^\]\s]+)\s*\]\s+(?:FAILURE|WARNING)\b/g)].map((m) => m[1]);
  if (/conformance-client \[[^\]]*\][^\n]*FAILED:/.test(text)) ids.push('client-script');
  return [...new Set(ids)];
}

/// { name: reason } from the baseline: entries under `client:`, each `- name  # reason`;
/// an entry whose reason starts with a version condition (see appliesTo) only when
/// `version` meets it.
function readBaseline(file, version) {
  const entries = {};
  let inClient = false;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (/^\S/.test(line)) inClient = /^client:\s*(#.*)?$/.test(line);
    const m = inClient && line.match(/^\s+-\s+(\S+)\s*(?:#\s*(.*))?$/);
    if (!m) continue;
    if (!m[2]) throw new Error(`baseline entry ${m[1]} has no reason (write it after a #)`);
    if (!appliesTo(m[2], version)) continue;
    entries[m[1]] = m[2];
  }
  return entries;
}

async function main() {
  const version = suitePackage.version;
  const baseline = readBaseline(opts.baseline, version);
  console.log(`suite: @modelcontextprotocol/conformance ${version} (${suiteDir})${nodeArgs.length ? ', with the Node 20 shim' : ''}`);
  let tmp;
  let tlsArgs = '';
  if (!opts.http) {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-conformance-'));
    const { cert, key } = testCertificate(tmp);
    suiteEnv.NODE_EXTRA_CA_CERTS = cert;
    tlsArgs = ` --tls-cert ${cert} --tls-key ${key}`;
  }
  try {
    return await runAll(baseline, version, tlsArgs);
  } finally {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function runAll(baseline, version, tlsArgs) {
  let scenarios = opts.scenario;
  if (scenarios.length === 0) {
    const listed = await runSuite(['list', '--client'], 30000);
    // "  - name" (0.1.13) or "  - name [2025-06-18,2025-11-25]" (0.1.14+: spec versions).
    const names = [...listed.out.matchAll(/^\s+-\s+(\S+)(?:\s+\[[^\]]*\])?\s*$/gm)].map((m) => m[1]);
    scenarios = [...names.filter((n) => n.startsWith('auth/')), ...EXTRA.filter((n) => names.includes(n))];
    if (scenarios.length === 0) throw new Error(`the suite listed no scenarios:\n${listed.out}`);
  }
  for (const name of Object.keys(baseline)) {
    if (!scenarios.includes(name) && opts.scenario.length === 0) console.log(`note: baseline entry ${name} is not a scenario of this suite version`);
  }
  const command = `${process.execPath} ${clientScript} --build-dir ${buildDir}${tlsArgs}`;
  const results = [];
  const queue = [...scenarios];
  const worker = async () => {
    while (queue.length > 0) {
      const name = queue.shift();
      const t0 = Date.now();
      const expected = name in baseline;
      const args = ['client', '--command', command, '--scenario', name, '--timeout', opts['timeout-ms']];
      let r = await runSuite(args, Number(opts['timeout-ms']) + 30000);
      // Timing checks (sse-retry: a reconnect within 200 ms of the `retry` delay) can miss on
      // a loaded machine: a failure outside the baseline gets one more run before it counts.
      if (r.code !== 0 && !expected) {
        console.log(`${name}: failed once, running it again`);
        r = await runSuite(args, Number(opts['timeout-ms']) + 30000);
      }
      const passed = r.code === 0;
      // A baseline entry with "[only: id, ...]" expects just those checks to fail or warn;
      // any other failing check, or the client script failing, is a failure of its own.
      const only = expected && baseline[name].match(/\[only:\s*([^\]]+)\]/);
      const others = !passed && only ? failingChecks(r.out).filter((id) => !only[1].split(/[\s,]+/).includes(id)) : [];
      const alsoFailed = others.length > 0;
      const verdict = passed
        ? expected ? 'STALE (passes: remove it from the baseline)' : 'pass'
        : alsoFailed ? `FAIL (the baseline expects only ${only[1]} to fail; also: ${others.join(', ')})`
        : expected ? `expected failure (${baseline[name]})` : 'FAIL';
      console.log(`${name}: ${verdict} [${((Date.now() - t0) / 1000).toFixed(1)}s]`);
      if ((!passed && (!expected || alsoFailed)) || opts.verbose) {
        const tail = r.out.split('\n').filter((l) => /FAIL|WARN|Error|error|conformance-client|Passed:/.test(l));
        console.log(tail.slice(-40).map((l) => `    ${l}`).join('\n'));
      }
      results.push({ name, passed, expected: expected && !alsoFailed });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Number(opts.jobs)) }, worker));
  const passed = results.filter((r) => r.passed).length;
  const unexpected = results.filter((r) => !r.passed && !r.expected).map((r) => r.name);
  const stale = results.filter((r) => r.passed && r.expected).map((r) => r.name);
  console.log(`conformance: passed ${passed}/${results.length} (suite ${version})`);
  if (unexpected.length) console.log(`unexpected failures: ${unexpected.join(', ')}`);
  if (stale.length) console.log(`stale baseline entries (these pass now): ${stale.join(', ')}`);
  return unexpected.length || stale.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`conformance-run: ${e.message}`);
    process.exit(1);
  },
);
