#!/usr/bin/env node
// Tether as the client under test of the MCP conformance suite
// (@modelcontextprotocol/conformance `client` mode). The suite starts a scenario's servers
// and runs this script with the scenario's MCP server URL as the last argument
// (MCP_CONFORMANCE_SCENARIO names the scenario, MCP_CONFORMANCE_CONTEXT may carry
// pre-registered client credentials):
//
//   node e2e/conformance-client.mjs --build-dir build [--tls-cert PEM --tls-key PEM] [--verbose] <server-url>
//
// With --tls-cert/--tls-key Tether serves HTTPS with that certificate and its public_url is
// https://127.0.0.1:<port>, as in production (then it uses a Client ID Metadata Document
// where the authorization server takes one); this process must trust the certificate
// (NODE_EXTRA_CA_CERTS, which conformance-run.mjs sets for the suite and so for us).
//
// It writes a Tether configuration with one connection to that URL (auth/* scenarios: an
// OAuth connection known only by its URL, plus the context's client when there is one;
// the others: no auth), starts the real `tether serve`, runs the connect flow through the
// admin API and follows the authorization redirects as a browser would (the suite's
// authorization server approves at once), then uses the MCP SDK client against Tether's
// /mcp/conf: initialize, list the tools, call each one. A call Tether answers with
// needs_reauth (an upstream's 403 insufficient_scope: MCP step-up) is followed by a new
// connect flow and the call again, at most 3 connects in all. Exit 0 when every call
// worked, 1 otherwise (the suite judges the scenario from what its servers saw).

import { parseArgs } from 'node:util';
import { processGroup } from './harness.mjs';
import { argumentsFor, connect, connectionYaml, mcpClient, needsReauth, startTether } from './tether-driver.mjs';

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'build-dir': { type: 'string', default: process.env.TETHER_BINARY_DIR || 'build' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    verbose: { type: 'boolean', default: false },
  },
});
const serverUrl = positionals.at(-1);
const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? '';
const context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT || '{}');
const t0 = Date.now();
const log = (msg) => console.error(`conformance-client [${scenario}] +${((Date.now() - t0) / 1000).toFixed(1)}s: ${msg}`);
const MAX_CONNECTS = 3;
const NAME = 'conf';

/// auth/basic-cimd's authorization server accepts only this client_id (its fixed
/// CIMD_CLIENT_METADATA_URL) and never fetches it: an operator who publishes Tether's
/// document there sets client_metadata_url to it, as this run does for that scenario.
const PUBLISHED_CIMD_URL = 'https://conformance-test.local/client-metadata.json';

/// Tether's side of CIMD: over https, at an authorization server that takes client metadata
/// documents (auth/basic-cimd advertises it), the client_id is the document's URL
/// (client_metadata_url when set, else Tether's own), and the document Tether serves at
/// /oauth/client-metadata.json names that URL and Tether's callback. Throws otherwise.
async function checkClientId(base, authorizationUrl, published) {
  const clientId = new URL(authorizationUrl).searchParams.get('client_id') ?? '';
  const servedAt = `${base}/oauth/client-metadata.json`;
  const documentUrl = published ?? servedAt;
  if (scenario === 'auth/basic-cimd' && base.startsWith('https:') && clientId !== documentUrl) {
    throw new Error(`over https Tether should present ${documentUrl} as its client_id here, not "${clientId}"`);
  }
  if (clientId !== documentUrl) return;
  const doc = await (await fetch(servedAt, { signal: AbortSignal.timeout(10000) })).json();
  if (doc.client_id !== documentUrl || !doc.redirect_uris?.includes(`${base}/oauth/callback`)) {
    throw new Error(`the client metadata document at ${servedAt} does not describe Tether: ${JSON.stringify(doc)}`);
  }
  log(`client_id is Tether's client metadata document ${documentUrl} (served at ${servedAt})`);
}

async function main() {
  if (!serverUrl) throw new Error('usage: conformance-client.mjs [--build-dir DIR] [--tls-cert PEM --tls-key PEM] <server-url>');
  if (!opts['tls-cert'] !== !opts['tls-key']) throw new Error('--tls-cert and --tls-key go together');
  const tls = opts['tls-cert'] ? { cert: opts['tls-cert'], key: opts['tls-key'] } : undefined;
  const oauth = scenario.startsWith('auth/');
  const auth = { mode: oauth ? 'oauth' : 'none' };
  if (oauth && context.client_id) {
    auth.client_id = context.client_id;
    if (context.client_secret) auth.client_secret = context.client_secret;
  }
  if (scenario.startsWith('auth/client-credentials')) auth.grant = 'client_credentials';
  const group = processGroup({ verbose: opts.verbose });
  const published = scenario === 'auth/basic-cimd' && tls ? PUBLISHED_CIMD_URL : undefined;
  let tether;
  try {
    tether = await startTether({
      buildDir: opts['build-dir'],
      connections: [connectionYaml({ name: NAME, url: serverUrl, auth })],
      startProcess: group.startProcess,
      tls,
      clientMetadataUrl: published,
      log,
    });
    let connects = 0;
    const reconnect = async () => {
      if (connects >= MAX_CONNECTS) throw new Error(`still needs_reauth after ${MAX_CONNECTS} connects`);
      ++connects;
      const r = await connect(tether.base, `mcp/${NAME}`, log);
      log(`connected (${connects}): callback ${r.callbackStatus}`);
      await checkClientId(tether.base, r.authorizationUrl, published);
    };
    if (oauth && auth.grant !== 'client_credentials') await reconnect();

    // Every MCP call, again after a reconnect when Tether says the grant needs one.
    const withReauth = async (what, fn) => {
      for (;;) {
        try {
          return await fn();
        } catch (e) {
          if (!oauth || !needsReauth(e)) throw e;
          log(`${what}: needs_reauth (${e.message.slice(0, 300)}); reconnecting`);
          await reconnect();
        }
      }
    };
    const { client } = await withReauth('initialize', () => mcpClient(tether.base, NAME));
    log('initialized');
    const { tools } = await withReauth('tools/list', () => client.listTools());
    log(`tools: ${tools.map((t) => t.name).join(', ') || '(none)'}`);
    for (const tool of tools) {
      const result = await withReauth(`tools/call ${tool.name}`, () =>
        client.callTool({ name: tool.name, arguments: argumentsFor(tool) }),
      );
      if (result.isError) throw new Error(`tool ${tool.name} answered an error: ${JSON.stringify(result.content).slice(0, 300)}`);
      log(`tools/call ${tool.name}: ${JSON.stringify(result.content).slice(0, 200)}`);
    }
    await client.close();
    log('done');
    return 0;
  } finally {
    await group.stopAll();
    tether?.stop();
    if (tether && opts.verbose) process.stderr.write(tether.proc.err.slice(-4000));
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    log(`FAILED: ${e.message}`);
    process.exit(1);
  },
);
