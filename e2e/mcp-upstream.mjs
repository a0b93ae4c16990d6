#!/usr/bin/env node
// Demo MCP upstream for Tether: the official MCP TypeScript SDK server over Streamable HTTP
// that requires a bearer token. Used by `make run` (behind the mock IdP) and by the
// gateway's end-to-end tests (static tokens, no IdP).
//
//   node e2e/mcp-upstream.mjs [--host 127.0.0.1] [--port 9100] [--path /mcp]
//        (--issuer URL [--audience AUD] | --token T [--token T2 ...] | --no-auth)
//        [--stateless] [--json-response] [--control] [--tool-scope TOOL=SCOPE ...]
//
// Auth: --issuer validates RS256 JWTs from the mock IdP (or any issuer) against its JWKS at
// <issuer>/jwks (refetched when an unknown kid shows up): signature, iss, exp/nbf and,
// with --audience, aud. --token accepts the given static tokens. Anything else is 401 with
// a WWW-Authenticate challenge.
// Modes: stateful sessions (Mcp-Session-Id, DELETE ends one) by default; --stateless
// serves every request with a fresh server and no session (the sessionless era);
// --json-response answers POSTs with application/json instead of SSE.
// --control adds GET /control/stats (requests seen, tokens seen, sessions) for tests.
// --tool-scope TOOL=SCOPE: a tools/call of TOOL with a token whose `scope` lacks SCOPE is
// answered 403 with `WWW-Authenticate: Bearer error="insufficient_scope", scope="SCOPE"`
// (the MCP step-up authorization flow).
// Prints "mcp-upstream listening on <url>" on stderr once ready.
//
// Tools: echo, add, whoami, countdown (progress notifications at an interval), lockstep
// (progress notifications that wait for an `ack` call each: proves the stream is relayed
// as produced), ack. Resource: demo://greeting. Prompt: summarize.

import http from 'node:http';
import crypto from 'node:crypto';
import { parseArgs } from 'node:util';
import * as z from 'zod';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';

const { values: opts } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '9100' },
    path: { type: 'string', default: '/mcp' },
    issuer: { type: 'string' },
    audience: { type: 'string' },
    token: { type: 'string', multiple: true, default: [] },
    'no-auth': { type: 'boolean', default: false },
    stateless: { type: 'boolean', default: false },
    'json-response': { type: 'boolean', default: false },
    control: { type: 'boolean', default: false },
    'tool-scope': { type: 'string', multiple: true, default: [] },
  },
});
const toolScopes = new Map(opts['tool-scope'].map((s) => s.split('=', 2)));

if (!opts.issuer && opts.token.length === 0 && !opts['no-auth']) {
  console.error('mcp-upstream: choose --issuer URL, --token T or --no-auth');
  process.exit(2);
}

const MAX_BODY = 4 * 1024 * 1024;
const stats = {
  requests: 0,
  by_method: {},
  tokens_seen: [],
  unauthorized: 0,
  sessions_opened: 0,
  sessions_closed: 0,
  deletes: 0,
};

// ---- bearer token validation ------------------------------------------------------------

const jwksCache = new Map(); // kid -> KeyObject

async function refreshJwks() {
  const res = await fetch(`${opts.issuer.replace(/\/$/, '')}/jwks`);
  if (!res.ok) throw new Error(`JWKS fetch failed: HTTP ${res.status}`);
  const doc = await res.json();
  jwksCache.clear();
  for (const jwk of doc.keys ?? []) {
    if (jwk.kty !== 'RSA') continue;
    jwksCache.set(jwk.kid ?? '', crypto.createPublicKey({ key: jwk, format: 'jwk' }));
  }
}

function b64urlJson(part) {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

async function verifyJwt(token) {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, why: 'not a JWT' };
  let header, claims;
  try {
    header = b64urlJson(parts[0]);
    claims = b64urlJson(parts[1]);
  } catch {
    return { ok: false, why: 'malformed JWT' };
  }
  if (header.alg !== 'RS256') return { ok: false, why: 'alg must be RS256' };
  let key = jwksCache.get(header.kid ?? '');
  if (!key) {
    await refreshJwks();
    key = jwksCache.get(header.kid ?? '');
  }
  if (!key) return { ok: false, why: 'unknown signing key' };
  const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
  if (!crypto.verify('RSA-SHA256', signed, key, Buffer.from(parts[2], 'base64url'))) {
    return { ok: false, why: 'bad signature' };
  }
  const now = Math.floor(Date.now() / 1000);
  if (claims.iss !== opts.issuer.replace(/\/$/, '')) return { ok: false, why: 'wrong issuer' };
  if (typeof claims.exp !== 'number' || claims.exp <= now) return { ok: false, why: 'expired' };
  if (typeof claims.nbf === 'number' && claims.nbf > now + 60) return { ok: false, why: 'not yet valid' };
  if (opts.audience) {
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!aud.includes(opts.audience)) return { ok: false, why: 'wrong audience' };
  }
  return { ok: true, subject: claims.sub ?? '', clientId: claims.client_id ?? claims.azp ?? '', scopes: (claims.scope ?? '').split(' ').filter(Boolean), exp: claims.exp };
}

async function authenticate(req) {
  if (opts['no-auth']) return { ok: true, subject: 'anonymous', clientId: '', scopes: [] };
  const header = req.headers.authorization ?? '';
  const m = /^Bearer\s+(.+)$/i.exec(header);
  if (!m) return { ok: false, why: 'missing bearer token' };
  const token = m[1].trim();
  if (opts.token.length > 0) {
    return opts.token.includes(token)
      ? { ok: true, subject: 'static', clientId: '', scopes: [], token }
      : { ok: false, why: 'unknown token' };
  }
  try {
    const r = await verifyJwt(token);
    return r.ok ? { ...r, token } : r;
  } catch (e) {
    return { ok: false, why: `cannot validate: ${e.message}` };
  }
}

// ---- the MCP server -----------------------------------------------------------------------

const acks = new Map(); // `${run}:${step}` -> resolve

function waitForAck(run, step, ms) {
  return new Promise((resolve, reject) => {
    const key = `${run}:${step}`;
    const timer = setTimeout(() => {
      acks.delete(key);
      reject(new Error(`no ack for step ${step} within ${ms} ms (is the stream buffered?)`));
    }, ms);
    acks.set(key, () => {
      clearTimeout(timer);
      acks.delete(key);
      resolve();
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function progress(extra, progressValue, total, message) {
  const token = extra._meta?.progressToken;
  if (token === undefined) return;
  await extra.sendNotification({
    method: 'notifications/progress',
    params: { progressToken: token, progress: progressValue, total, message },
  });
}

function buildServer() {
  const server = new McpServer({ name: 'tether-demo-upstream', version: '1.0.0' });

  server.registerTool('echo', {
    title: 'Echo',
    description: 'Returns its text',
    inputSchema: { text: z.string() },
  }, async ({ text }) => ({ content: [{ type: 'text', text: `echo: ${text}` }] }));

  server.registerTool('add', {
    title: 'Add',
    description: 'Adds two numbers',
    inputSchema: { a: z.number(), b: z.number() },
  }, async ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }] }));

  server.registerTool('whoami', {
    title: 'Who am I',
    description: 'The subject of the bearer token this upstream received',
  }, async (extra) => ({
    content: [{ type: 'text', text: extra.authInfo?.extra?.subject ?? 'unknown' }],
  }));

  server.registerTool('countdown', {
    title: 'Countdown',
    description: 'Counts down, sending a progress notification per step',
    inputSchema: { from: z.number().int().min(1).max(100).default(5), interval_ms: z.number().int().min(0).max(10000).default(500) },
  }, async ({ from, interval_ms }, extra) => {
    for (let i = 1; i <= from; i++) {
      await progress(extra, i, from, `${from - i} to go`);
      if (i < from) await sleep(interval_ms);
    }
    return { content: [{ type: 'text', text: 'liftoff' }] };
  });

  server.registerTool('lockstep', {
    title: 'Lockstep',
    description: 'Sends progress step by step; each next step waits for an ack call',
    inputSchema: { steps: z.number().int().min(1).max(50), run: z.string(), timeout_ms: z.number().int().default(10000) },
  }, async ({ steps, run, timeout_ms }, extra) => {
    for (let i = 1; i <= steps; i++) {
      const acked = waitForAck(run, i, timeout_ms);
      await progress(extra, i, steps, `step ${i}`);
      await acked;
    }
    return { content: [{ type: 'text', text: `done after ${steps} acknowledged steps` }] };
  });

  server.registerTool('ack', {
    title: 'Ack',
    description: 'Acknowledges a lockstep step',
    inputSchema: { run: z.string(), step: z.number().int() },
  }, async ({ run, step }) => {
    const resolve = acks.get(`${run}:${step}`);
    if (resolve) resolve();
    return { content: [{ type: 'text', text: resolve ? 'acked' : 'unknown step' }] };
  });

  server.registerResource('greeting', 'demo://greeting', {
    title: 'Greeting',
    description: 'A static greeting',
    mimeType: 'text/plain',
  }, async (uri) => ({ contents: [{ uri: uri.href, text: 'Hello from the Tether demo upstream' }] }));

  server.registerPrompt('summarize', {
    title: 'Summarize',
    description: 'Asks for a one-sentence summary',
    argsSchema: { topic: z.string() },
  }, ({ topic }) => ({
    messages: [{ role: 'user', content: { type: 'text', text: `Summarize ${topic} in one sentence.` } }],
  }));

  return server;
}

// ---- HTTP -----------------------------------------------------------------------------------

const sessions = new Map(); // session id -> transport

function sendJson(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function jsonRpcError(res, status, code, message) {
  sendJson(res, status, { jsonrpc: '2.0', id: null, error: { code, message } });
}

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const c of req) {
    size += c.length;
    if (size > MAX_BODY) throw new Error('body too large');
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function handleMcp(req, res) {
  let body;
  if (req.method === 'POST') {
    const text = await readBody(req);
    try {
      body = JSON.parse(text);
    } catch {
      return jsonRpcError(res, 400, -32700, 'Parse error');
    }
    const needed = body?.method === 'tools/call' ? toolScopes.get(body.params?.name) : undefined;
    if (needed && !req.auth.scopes.includes(needed)) {
      stats.insufficient_scope = (stats.insufficient_scope ?? 0) + 1;
      return sendJson(res, 403, { error: 'insufficient_scope' }, {
        'WWW-Authenticate': `Bearer error="insufficient_scope", scope="${needed}"`,
      });
    }
  }
  const transportOptions = { enableJsonResponse: opts['json-response'] };
  if (opts.stateless) {
    const transport = new StreamableHTTPServerTransport({ ...transportOptions, sessionIdGenerator: undefined });
    const server = buildServer();
    res.on('close', () => {
      transport.close();
      server.close();
    });
    await server.connect(transport);
    return transport.handleRequest(req, res, body);
  }
  const sid = req.headers['mcp-session-id'];
  let transport = sid ? sessions.get(sid) : undefined;
  if (sid && !transport) return jsonRpcError(res, 404, -32001, 'Session not found');
  if (!transport) {
    if (req.method !== 'POST' || !isInitializeRequest(body)) {
      return jsonRpcError(res, 400, -32000, 'Bad Request: no session; send initialize first');
    }
    transport = new StreamableHTTPServerTransport({
      ...transportOptions,
      sessionIdGenerator: () => crypto.randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, transport);
        stats.sessions_opened++;
      },
      onsessionclosed: (id) => {
        sessions.delete(id);
        stats.sessions_closed++;
      },
    });
    transport.onclose = () => {
      if (transport.sessionId && sessions.delete(transport.sessionId)) stats.sessions_closed++;
    };
    await buildServer().connect(transport);
  }
  if (req.method === 'DELETE') stats.deletes++;
  return transport.handleRequest(req, res, body);
}

const httpServer = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, 'http://upstream');
    if (opts.control && url.pathname === '/control/stats' && req.method === 'GET') {
      return sendJson(res, 200, { ...stats, sessions_open: sessions.size });
    }
    if (url.pathname !== opts.path) return sendJson(res, 404, { error: 'not found' });
    stats.requests++;
    stats.by_method[req.method] = (stats.by_method[req.method] ?? 0) + 1;
    const auth = await authenticate(req);
    if (!auth.ok) {
      stats.unauthorized++;
      return sendJson(res, 401, { error: 'invalid_token', error_description: auth.why }, {
        'WWW-Authenticate': `Bearer error="invalid_token", error_description="${auth.why}"`,
      });
    }
    if (auth.token) stats.tokens_seen.push(auth.token);
    req.auth = {
      token: auth.token ?? '',
      clientId: auth.clientId ?? '',
      scopes: auth.scopes ?? [],
      expiresAt: auth.exp,
      extra: { subject: auth.subject },
    };
    await handleMcp(req, res);
  } catch (e) {
    console.error('mcp-upstream: request failed:', e);
    if (!res.headersSent) jsonRpcError(res, 500, -32603, 'Internal error');
    else res.end();
  }
});

httpServer.listen(Number(opts.port), opts.host, () => {
  const { port } = httpServer.address();
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  console.error(`mcp-upstream listening on http://${host}:${port}${opts.path}`);
});

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    httpServer.close();
    process.exit(0);
  });
}
