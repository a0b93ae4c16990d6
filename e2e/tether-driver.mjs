// Drives a real `tether serve` the way an operator and an MCP client do, for the end-to-end
// scripts that treat Tether as an MCP authorization client (conformance-client.mjs,
// stepup-e2e.mjs): a configuration file with the given connections on a free loopback port,
// the process started and waited for, the connect flow started over the admin API and
// followed through the authorization server's redirects the way a browser would (for
// servers that approve without a login page), and an MCP SDK client on /mcp/{name}.
// With a test certificate (testCertificate()) Tether serves HTTPS (`server.tls`) and its
// public_url is https, as in production; the Node process that talks to it must trust the
// certificate (NODE_EXTRA_CA_CERTS=<cert>, read by Node only at start).

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

export const ADMIN_KEY = 'conformance-admin-key-0123456789abcdef';
const ENCRYPTION_KEY = 'b'.repeat(64);

/// A free TCP port on 127.0.0.1 (bound, then released).
export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/// A self-signed certificate for 127.0.0.1 and localhost (EC P-256, valid 2 days), made
/// with the openssl CLI in `dir`: resolves to { cert, key } (PEM file paths). The
/// certificate is its own CA: hand `cert` to NODE_EXTRA_CA_CERTS to trust it.
export function testCertificate(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const cert = path.join(dir, 'tether-test.crt');
  const key = path.join(dir, 'tether-test.key');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-keyout', key, '-out', cert],
    { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30000 },
  );
  return { cert, key };
}

/// YAML for one connection: { name, url, auth } where auth is an object of auth keys
/// (mode, client_id, client_secret, scopes, grant, issuer). Values are quoted.
export function connectionYaml({ kind = 'mcp', name, url, auth }) {
  const lines = [`  - kind: ${kind}`, `    name: ${name}`, `    url: ${JSON.stringify(url)}`, '    auth:'];
  for (const [k, v] of Object.entries(auth)) lines.push(`      ${k}: ${JSON.stringify(v)}`);
  return lines.join('\n') + '\n';
}

/// Starts `tether serve` from `buildDir` with `connections` (connectionYaml strings) in a
/// fresh directory; resolves to { base, proc, dir, stop() } once /readyz answers 200.
/// `tls` ({ cert, key } PEM paths, e.g. from testCertificate()): Tether serves HTTPS and its
/// public_url is https://127.0.0.1:<port> (this process must trust the certificate).
/// `clientMetadataUrl`: Tether's `client_metadata_url` (where its client metadata document is
/// published, its client_id at CIMD servers); default none (`<public_url>/oauth/client-metadata.json`).
/// `log(msg)` receives progress lines; Tether's own stderr is kept in proc.err.
/// `extraYaml`: more top-level settings (e.g. an `inbound:` section), inserted as given.
export async function startTether({ buildDir, connections, startProcess, tls, clientMetadataUrl, timeoutMs = 15000, log = () => {}, extraYaml = '' }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-driver-'));
  const port = await freePort();
  const base = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const config = [
    `listen: 127.0.0.1:${port}`,
    `public_url: ${base}`,
    ...(clientMetadataUrl ? [`client_metadata_url: ${JSON.stringify(clientMetadataUrl)}`] : []),
    ...(tls ? [`server: { tls: { cert: ${JSON.stringify(tls.cert)}, key: ${JSON.stringify(tls.key)} } }`] : []),
    'log: { level: info }',
    `storage: { driver: sqlite, path: ${JSON.stringify(path.join(dir, 't.db'))} }`,
    'encryption: { key: "${TETHER_ENCRYPTION_KEY}" }',
    'admin: { keys: [ "${TETHER_ADMIN_KEY}" ] }',
    ...(extraYaml ? [extraYaml] : []),
    'connections:',
    ...connections.map((c) => c.replace(/\n$/, '')),
    '',
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'tether.yaml'), config);
  const proc = startProcess('tether', path.join(buildDir, 'tether'), ['serve', '--config', path.join(dir, 'tether.yaml')], {
    TETHER_ENCRYPTION_KEY: ENCRYPTION_KEY,
    TETHER_ADMIN_KEY: ADMIN_KEY,
  });
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  for (;;) {
    if (proc.exited) throw new Error(`tether exited (${JSON.stringify(proc.exited)}):\n${proc.err.slice(-3000)}`);
    try {
      const r = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(5000) });
      if (r.status === 200) break;
      lastError = `HTTP ${r.status}`;
    } catch (e) {
      lastError = `${e.message}${e.cause ? `: ${e.cause.code ?? e.cause.message}` : ''}`; // not listening yet, or TLS
    }
    if (Date.now() > deadline) {
      throw new Error(`tether not ready within ${timeoutMs} ms (${base}/readyz: ${lastError}):\n${proc.err.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  log(`tether ready at ${base}`);
  return { base, proc, dir, stop: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/// Runs one connect flow of `kind/name`: the admin API's start, then the authorization URL
/// followed hop by hop (at most 10, each within 10 s) until Tether's callback answers.
/// Resolves to { authorizationUrl, callbackStatus, page }; throws with what went wrong
/// (the start's error message, a hop that answered neither a redirect nor the callback).
export async function connect(base, key, log = () => {}) {
  const start = await fetch(`${base}/api/v1/admin/connections/${key}/oauth/start`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${ADMIN_KEY}`, 'Content-Type': 'application/json' },
    body: '{}',
    signal: AbortSignal.timeout(30000),
  });
  const started = await start.json().catch(() => ({}));
  if (start.status !== 200 && start.status !== 201) {
    throw new Error(`connect start for ${key} answered ${start.status}: ${started?.error?.message ?? JSON.stringify(started)}`);
  }
  const authorizationUrl = started.authorization_url;
  log(`authorization request: ${authorizationUrl}`);
  let url = authorizationUrl;
  for (let hop = 0; hop < 10; ++hop) {
    const r = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(10000) });
    const body = await r.text();
    if (url.startsWith(`${base}/oauth/callback`)) {
      if (r.status >= 400) throw new Error(`Tether's callback answered ${r.status}: ${body.replace(/<[^>]+>/g, ' ').slice(0, 400)}`);
      return { authorizationUrl, callbackStatus: r.status, page: body };
    }
    const location = r.headers.get('location');
    if (r.status < 300 || r.status >= 400 || !location) {
      throw new Error(`hop ${hop} ${url} answered ${r.status} without a redirect: ${body.slice(0, 300)}`);
    }
    url = new URL(location, url).toString();
  }
  throw new Error('more than 10 redirects before the callback');
}

/// An MCP SDK client connected to Tether's /mcp/{name}.
export async function mcpClient(base, name) {
  const client = new Client({ name: 'tether-e2e', version: '1.0.0' }, { capabilities: {} });
  const transport = new StreamableHTTPClientTransport(new URL(`${base}/mcp/${name}`));
  await client.connect(transport);
  return { client, transport };
}

/// Arguments for a tool from its input schema: numbers 1, 2, ...; strings "x"; booleans.
export function argumentsFor(tool) {
  const args = {};
  let n = 1;
  for (const [k, schema] of Object.entries(tool.inputSchema?.properties ?? {})) {
    const t = Array.isArray(schema.type) ? schema.type[0] : schema.type;
    args[k] = t === 'number' || t === 'integer' ? n++ : t === 'boolean' ? true : t === 'object' ? {} : t === 'array' ? [] : 'x';
  }
  return args;
}

/// True when an SDK error is Tether's needs_reauth answer (HTTP 424 or the JSON-RPC code).
export function needsReauth(error) {
  const text = `${error?.message ?? ''} ${JSON.stringify(error?.data ?? '')}`;
  return /needs_reauth|HTTP 424|-32012/.test(text) || error?.code === -32012;
}
