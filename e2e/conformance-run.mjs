#!/usr/bin/env node
// The MCP client conformance run (ctest `conformance_client_test`): every `auth/*` scenario
// of `conformance list --client` plus initialize, tools_call and sse-retry, each driven by
// e2e/conformance-client.mjs (Tether as the client), judged by the suite itself.
//
//   node e2e/conformance-run.mjs [--build-dir build] [--baseline e2e/conformance-baseline.yaml]
//        [--scenario NAME ...] [--jobs 2] [--verbose]
//
// The baseline lists the scenarios that cannot pass yet, each with its reason in a comment
// (`  - auth/basic-cimd  # why`). The run fails when a scenario outside the baseline fails,
// and also when a baseline scenario passes (the entry is stale: remove it), so the baseline
// stays honest. A failure outside the baseline is run once more before it counts (timing
// checks can miss on a loaded machine). Prints one line per scenario and
// "conformance: passed P/T"; exit 0 or 1.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { repo } from './harness.mjs';

const { values: opts } = parseArgs({
  options: {
    'build-dir': { type: 'string', default: process.env.TETHER_BINARY_DIR || path.join(repo, 'build') },
    baseline: { type: 'string', default: path.join(repo, 'e2e', 'conformance-baseline.yaml') },
    scenario: { type: 'string', multiple: true, default: [] },
    jobs: { type: 'string', default: '2' },
    'timeout-ms': { type: 'string', default: '60000' },
    verbose: { type: 'boolean', default: false },
  },
});
const suite = path.join(repo, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js');
const clientScript = path.join(repo, 'e2e', 'conformance-client.mjs');
const buildDir = path.resolve(opts['build-dir']);
const EXTRA = ['initialize', 'tools_call', 'sse-retry'];

/// Runs `node suite args`; resolves { code, out } (stdout + stderr), killed after `ms`.
function runSuite(args, ms) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [suite, ...args], { cwd: buildDir, stdio: ['ignore', 'pipe', 'pipe'] });
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

/// { name: reason } from the baseline: entries under `client:`, each `- name  # reason`.
function readBaseline(file) {
  const entries = {};
  let inClient = false;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (/^\S/.test(line)) inClient = /^client:\s*(#.*)?$/.test(line);
    const m = inClient && line.match(/^\s+-\s+(\S+)\s*(?:#\s*(.*))?$/);
    if (!m) continue;
    if (!m[2]) throw new Error(`baseline entry ${m[1]} has no reason (write it after a #)`);
    entries[m[1]] = m[2];
  }
  return entries;
}

async function main() {
  const baseline = readBaseline(opts.baseline);
  let scenarios = opts.scenario;
  if (scenarios.length === 0) {
    const listed = await runSuite(['list', '--client'], 30000);
    const names = [...listed.out.matchAll(/^\s+-\s+(\S+)\s*$/gm)].map((m) => m[1]);
    scenarios = [...names.filter((n) => n.startsWith('auth/')), ...EXTRA.filter((n) => names.includes(n))];
    if (scenarios.length === 0) throw new Error(`the suite listed no scenarios:\n${listed.out}`);
  }
  for (const name of Object.keys(baseline)) {
    if (!scenarios.includes(name) && opts.scenario.length === 0) console.log(`note: baseline entry ${name} is not a scenario of this suite version`);
  }
  const command = `${process.execPath} ${clientScript} --build-dir ${buildDir}`;
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
      const verdict = passed ? (expected ? 'STALE (passes: remove it from the baseline)' : 'pass') : expected ? `expected failure (${baseline[name]})` : 'FAIL';
      console.log(`${name}: ${verdict} [${((Date.now() - t0) / 1000).toFixed(1)}s]`);
      if ((!passed && !expected) || opts.verbose) {
        const tail = r.out.split('\n').filter((l) => /FAIL|WARN|Error|error|conformance-client|Passed:/.test(l));
        console.log(tail.slice(-40).map((l) => `    ${l}`).join('\n'));
      }
      results.push({ name, passed, expected });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Number(opts.jobs)) }, worker));
  const passed = results.filter((r) => r.passed).length;
  const unexpected = results.filter((r) => !r.passed && !r.expected).map((r) => r.name);
  const stale = results.filter((r) => r.passed && r.expected).map((r) => r.name);
  console.log(`conformance: passed ${passed}/${results.length}`);
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
