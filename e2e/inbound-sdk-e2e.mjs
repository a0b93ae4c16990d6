#!/usr/bin/env node
// ctest `inbound_sdk_e2e_test`: Tether as an OAuth resource server for its MCP callers, with
// real peers only.
//   - oidc-provider.mjs as the organisation's IdP (JWT access tokens bound to the RFC 8707
//     resource, login and consent pages);
//   - an MCP SDK upstream (mcp-upstream.mjs) that accepts only Tether's static upstream token
//     and reports the tokens it saw (--control);
//   - the real `tether serve` with `inbound:` naming the IdP and requiring mcp:tools;
//   - the official MCP TypeScript SDK client with its own OAuth support
//     (StreamableHTTPClientTransport + an OAuthClientProvider).
// What a user would notice: the SDK's first call gets Tether's 401, discovers the protected-
// resource metadata and the IdP from it, signs the user in (the login and consent forms are
// submitted here the way a browser would), and then calls a tool through /mcp/{name}; the
// upstream only ever sees Tether's token; Tether's access log names the caller.
//
//   node e2e/inbound-sdk-e2e.mjs --build-dir build [--verbose]

import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { check, Failure, parseCommandLine, processGroup, repo, runLog, waitFor } from './harness.mjs';
import { connectionYaml, freePort, startTether } from './tether-driver.mjs';

const { opts, timeoutMs, buildDir } = parseCommandLine('inbound-sdk-e2e', 'usage: inbound-sdk-e2e.mjs [--build-dir DIR] [--verbose]', {
  timeoutMs: 60000,
});
const { log } = runLog('inbound-sdk-e2e');
const group = processGroup({ verbose: opts.verbose });

const CLIENT_ID = 'mcp-sdk-e2e';
const UPSTREAM_TOKEN = 'tether-upstream-token-0123456789';

function listeningUrl(proc, pattern) {
  const m = (proc.out + proc.err).match(pattern);
  return m ? m[1] : null;
}

// The SDK's OAuth client: a pre-registered public client (the IdP has no registration), its
// state kept in memory; the authorization URL is handed to the test instead of a browser.
class Provider {
  constructor(redirectUrl) {
    this.redirect = redirectUrl;
    this.saved = undefined;
    this.verifier = undefined;
    this.authorizationUrl = undefined;
  }
  get redirectUrl() {
    return this.redirect;
  }
  get clientMetadata() {
    return {
      client_name: 'inbound e2e',
      redirect_uris: [this.redirect],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  clientInformation() {
    return { client_id: CLIENT_ID };
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(v) {
    this.verifier = v;
  }
  codeVerifier() {
    return this.verifier;
  }
}

// Follows the authorization request through oidc-provider's login and consent pages the way
// a browser does (cookies kept, forms posted), until the redirect to the client's
// redirect URI; returns the authorization code.
async function signIn(authorizationUrl, redirectUrl, login) {
  const cookies = new Map();
  const cookieHeader = () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const keep = (r) => {
    for (const c of r.headers.getSetCookie?.() ?? []) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      cookies.set(pair.slice(0, i), pair.slice(i + 1));
    }
  };
  let url = authorizationUrl.toString();
  let method = 'GET';
  let body;
  for (let hop = 0; hop < 15; ++hop) {
    if (url.startsWith(redirectUrl)) {
      const u = new URL(url);
      check(!u.searchParams.get('error'), `the IdP answered ${u.searchParams.get('error')}: ${u.searchParams.get('error_description')}`);
      return u.searchParams.get('code');
    }
    const headers = { Cookie: cookieHeader() };
    if (body) headers['Content-Type'] = 'application/x-www-form-urlencoded';
    const r = await fetch(url, { method, body, headers, redirect: 'manual', signal: AbortSignal.timeout(10000) });
    keep(r);
    const text = await r.text();
    const location = r.headers.get('location');
    if (r.status >= 300 && r.status < 400 && location) {
      url = new URL(location, url).toString();
      method = 'GET';
      body = undefined;
      continue;
    }
    check(r.status === 200, `${method} ${url} answered ${r.status}: ${text.slice(0, 300)}`);
    // A login or consent page: post its first form (login / approve).
    const action = text.match(/<form id="(login|approve)" method="post" action="([^"]+)"/);
    check(action, `no login or consent form at ${url}: ${text.slice(0, 300)}`);
    url = new URL(action[2].replace(/&amp;/g, '&'), url).toString();
    method = 'POST';
    body = action[1] === 'login' ? new URLSearchParams({ login, password: 'x' }).toString() : '';
    log(`IdP ${action[1]} page`);
  }
  throw new Failure('more than 15 hops in the sign-in');
}

async function main() {
  const redirectUrl = `http://127.0.0.1:${await freePort()}/callback`;
  const idp = group.startProcess('oidc-provider', process.execPath, [
    path.join(repo, 'e2e', 'oidc-provider.mjs'), '--port', '0', '--client-id', CLIENT_ID,
    '--redirect-uri', redirectUrl, '--scope', 'mcp:tools', '--access-token-format', 'jwt',
  ]);
  const issuer = await waitFor('the IdP', () => listeningUrl(idp, /listening on (http:\/\/\S+)/), timeoutMs, idp);
  const upstream = group.startProcess('upstream', process.execPath, [
    path.join(repo, 'e2e', 'mcp-upstream.mjs'), '--port', '0', '--token', UPSTREAM_TOKEN, '--control',
  ]);
  const upstreamUrl = await waitFor('the upstream', () => listeningUrl(upstream, /mcp-upstream listening on (\S+)/), timeoutMs, upstream);
  log(`issuer ${issuer}, upstream ${upstreamUrl}`);
  const tether = await startTether({
    buildDir,
    startProcess: group.startProcess,
    log,
    extraYaml: [`inbound:`, `  issuer: ${JSON.stringify(issuer)}`, `  required_scopes: [mcp:tools]`].join('\n'),
    connections: [connectionYaml({ name: 'docs', url: upstreamUrl, auth: { mode: 'bearer', token: UPSTREAM_TOKEN } })],
  });
  try {
    const server = new URL(`${tether.base}/mcp/docs`);
    // Without a token: Tether's own challenge, pointing at its protected-resource metadata.
    const bare = await fetch(server, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    check(bare.status === 401, `an unauthenticated call answered ${bare.status}`);
    const challenge = bare.headers.get('www-authenticate') ?? '';
    check(challenge.includes(`resource_metadata="${tether.base}/.well-known/oauth-protected-resource/mcp/docs"`), `challenge: ${challenge}`);

    const provider = new Provider(redirectUrl);
    const client = new Client({ name: 'inbound-e2e', version: '1.0.0' }, { capabilities: {} });
    let transport = new StreamableHTTPClientTransport(server, { authProvider: provider });
    let refused;
    try {
      await client.connect(transport);
    } catch (e) {
      refused = e;
    }
    check(refused instanceof UnauthorizedError, `the first connect did not ask for sign-in: ${refused?.stack ?? 'it connected'}`);
    check(provider.authorizationUrl, 'the SDK did not produce an authorization URL');
    const authUrl = new URL(provider.authorizationUrl);
    check(authUrl.origin === new URL(issuer).origin, `the SDK went to ${authUrl.origin}, not the IdP named by the metadata`);
    check(authUrl.searchParams.get('resource') === server.toString(), `resource ${authUrl.searchParams.get('resource')}`);
    log(`authorization request: ${authUrl}`);

    const code = await signIn(authUrl, redirectUrl, 'alice');
    await transport.finishAuth(code);
    check(provider.saved?.access_token, 'no access token after the sign-in');
    const callerToken = provider.saved.access_token;
    check(callerToken.split('.').length === 3, 'the IdP did not issue a JWT access token');

    transport = new StreamableHTTPClientTransport(server, { authProvider: provider });
    await client.connect(transport);
    const echo = await client.callTool({ name: 'echo', arguments: { text: 'hi' } });
    check(echo.content?.[0]?.text === 'echo: hi', `echo answered ${JSON.stringify(echo)}`);
    log('echo through /mcp/docs with the signed-in token');

    const stats = await (await fetch(new URL('/control/stats', upstreamUrl))).json();
    const seen = JSON.stringify(stats);
    check(stats.tokens_seen.length > 0 && stats.tokens_seen.every((t) => t === UPSTREAM_TOKEN),
      `the upstream saw other tokens than Tether's: ${seen.length} bytes of stats`);
    check(!seen.includes(callerToken), 'the upstream saw the caller\'s token');
    check((stats.unauthorized ?? 0) === 0, `the upstream refused ${stats.unauthorized} calls`);
    await waitFor('the access log naming the caller', () => /"subject":"alice"|subject=alice/.test(tether.proc.err + tether.proc.out), 5000);
    check(!(tether.proc.err + tether.proc.out).includes(callerToken), 'Tether logged the caller\'s token');
    await client.close();
    console.log('PASS inbound-sdk-e2e');
  } finally {
    await group.stopAll();
    tether.stop();
  }
}

main().then(
  () => process.exit(0),
  async (e) => {
    await group.stopAll();
    console.error(`FAIL inbound-sdk-e2e: ${e instanceof Failure ? e.message : e.stack}`);
    for (const p of group.children) console.error(`--- ${p.name} stderr tail ---\n${p.err.slice(-2000)}`);
    process.exit(1);
  },
);
