#!/usr/bin/env node
// ctest `stepup_e2e_test`: MCP step-up authorization end to end, with real peers only.
//   - the mock IdP (tether-mock-idp, auto-approving, RS256 JWT access tokens with `scope`);
//   - an MCP SDK upstream (mcp-upstream.mjs) that answers 403 insufficient_scope,
//     scope="mcp:write" to a tools/call of `add` by a token without mcp:write;
//   - the real `tether serve` with one connection asking for "openid".
// It checks what a user would notice: `echo` works; `add` gets needs_reauth naming the
// connection, the missing scope and its reconnect link; the connection shows needs_reauth
// with reason insufficient_scope and a step_up_required event; the reconnect's
// authorization request asks for the union "openid mcp:write"; after it, `add` works.
//
//   node e2e/stepup-e2e.mjs --build-dir build [--verbose]

import path from 'node:path';
import { check, Failure, parseCommandLine, processGroup, repo, runLog, waitFor } from './harness.mjs';
import { ADMIN_KEY, connect, connectionYaml, mcpClient, needsReauth, startTether } from './tether-driver.mjs';

const { opts, timeoutMs, buildDir } = parseCommandLine('stepup-e2e', 'usage: stepup-e2e.mjs [--build-dir DIR] [--verbose]', {
  timeoutMs: 60000,
});
const { log } = runLog('stepup-e2e');
const group = processGroup({ verbose: opts.verbose });

function listeningUrl(proc, pattern) {
  const m = (proc.out + proc.err).match(pattern);
  return m ? m[1] : null;
}

function scopeOf(authorizationUrl) {
  return new URL(authorizationUrl).searchParams.get('scope');
}

async function admin(base, pathname) {
  const r = await fetch(`${base}/api/v1/admin${pathname}`, { headers: { Authorization: `Bearer ${ADMIN_KEY}` } });
  check(r.status === 200, `GET ${pathname} answered ${r.status}`);
  return r.json();
}

async function main() {
  const idp = group.startProcess('mock-idp', path.join(buildDir, 'tether-mock-idp'), [
    '--port', '0', '--client', 'stepup-client:stepup-secret',
  ]);
  const issuer = await waitFor('the mock IdP', () => listeningUrl(idp, /listening on (http:\/\/\S+)/), timeoutMs, idp);
  const upstream = group.startProcess('upstream', process.execPath, [
    path.join(repo, 'e2e', 'mcp-upstream.mjs'), '--port', '0', '--issuer', issuer, '--tool-scope', 'add=mcp:write',
  ]);
  const upstreamUrl = await waitFor('the upstream', () => listeningUrl(upstream, /mcp-upstream listening on (\S+)/), timeoutMs, upstream);
  log(`issuer ${issuer}, upstream ${upstreamUrl}`);
  const tether = await startTether({
    buildDir,
    startProcess: group.startProcess,
    log,
    connections: [
      connectionYaml({
        name: 'demo',
        url: upstreamUrl,
        auth: { mode: 'oauth', issuer, client_id: 'stepup-client', client_secret: 'stepup-secret', scopes: 'openid' },
      }),
    ],
  });
  try {
    const first = await connect(tether.base, 'mcp/demo', log);
    check(scopeOf(first.authorizationUrl) === 'openid', `the first connect asked for ${scopeOf(first.authorizationUrl)}, not the configured "openid"`);

    const { client } = await mcpClient(tether.base, 'demo');
    const echo = await client.callTool({ name: 'echo', arguments: { text: 'hi' } });
    check(echo.content?.[0]?.text === 'echo: hi', `echo answered ${JSON.stringify(echo)}`);

    let refused;
    try {
      await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } });
    } catch (e) {
      refused = e;
    }
    check(refused && needsReauth(refused), `add without mcp:write did not give needs_reauth: ${refused?.message ?? 'it worked'}`);
    const message = refused.message;
    for (const part of ['mcp/demo', 'mcp:write', `${tether.base}/portal/connections/mcp/demo`, 'openid mcp:write']) {
      check(message.includes(part), `the error does not name ${part}: ${message}`);
    }
    log('add: needs_reauth with the reconnect link');

    // The 403's answer is sent at once; the state row is written off the I/O thread a moment
    // later (SourceRunner::stepUp posts the write), so the portal may show it a few ms after.
    let detail;
    await waitFor('the needs_reauth state', async () => {
      detail = await admin(tether.base, '/connections/mcp/demo');
      return detail.oauth?.state === 'needs_reauth';
    }, 10000).catch(() => {
      throw new Failure(`the connection shows ${detail?.oauth?.state}, not needs_reauth, 10 s after the 403`);
    });
    check(detail.oauth?.reason === 'insufficient_scope', `reason ${detail.oauth?.reason}, not insufficient_scope`);
    await waitFor('the step_up_required event', async () => {
      const events = await admin(tether.base, '/connections/mcp/demo/auth-events');
      return JSON.stringify(events).includes('step_up_required');
    }, 10000);

    const second = await connect(tether.base, 'mcp/demo', log);
    check(scopeOf(second.authorizationUrl) === 'openid mcp:write', `the reconnect asked for "${scopeOf(second.authorizationUrl)}", not the union "openid mcp:write"`);
    const sum = await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } });
    check(sum.content?.[0]?.text === '5', `add after the reconnect answered ${JSON.stringify(sum)}`);
    log('add works after the step-up reconnect');
    await client.close();
    console.log('PASS stepup-e2e');
  } finally {
    await group.stopAll();
    tether.stop();
  }
}

main().then(
  () => process.exit(0),
  async (e) => {
    await group.stopAll();
    console.error(`FAIL stepup-e2e: ${e instanceof Failure ? e.message : e.stack}`);
    for (const p of group.children) console.error(`--- ${p.name} stderr tail ---\n${p.err.slice(-2000)}`);
    process.exit(1);
  },
);
