#!/usr/bin/env node
// Drives an MCP server (through Tether) with the official MCP TypeScript SDK client and
// prints what happened as one JSON object on stdout; the gateway's integration test asserts
// on it. Exit code 0 unless the script itself could not run.
//
//   node e2e/mcp-sdk-check.mjs --url http://127.0.0.1:8080/mcp/demo [--key CLIENT_KEY]
//        [--scenario full|basic|expect-error]
//
// full: initialize, tools/list, tools/call, lockstep progress (each progress notification
//   must arrive before the final answer: the next one is only produced after the client
//   acknowledged the previous one with a separate call), countdown, resources/read,
//   prompts/get, session DELETE, and a call on the deleted session.
// basic: the same minus the streaming tools and the session (JSON answers, stateless).
// expect-error: connect and report the error the client gets.

import crypto from 'node:crypto';
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const { values: opts } = parseArgs({
  options: {
    url: { type: 'string' },
    key: { type: 'string' },
    scenario: { type: 'string', default: 'full' },
  },
});

const out = { scenario: opts.scenario, steps: [] };

function describe(e) {
  return { message: String(e?.message ?? e), code: e?.code ?? null };
}

async function step(name, fn) {
  try {
    const value = await fn();
    out[name] = value;
    out.steps.push(name);
    return value;
  } catch (e) {
    out[name] = { error: describe(e) };
    throw e;
  }
}

function newClient() {
  const headers = opts.key ? { Authorization: `Bearer ${opts.key}` } : {};
  const transport = new StreamableHTTPClientTransport(new URL(opts.url), { requestInit: { headers } });
  const client = new Client({ name: 'tether-e2e-client', version: '1.0.0' });
  return { client, transport };
}

async function main() {
  const { client, transport } = newClient();
  if (opts.scenario === 'expect-error') {
    try {
      await client.connect(transport);
      out.connected = true;
      out.tools = (await client.listTools()).tools.map((t) => t.name);
    } catch (e) {
      out.error = describe(e);
    }
    return;
  }

  await step('initialize', async () => {
    await client.connect(transport);
    return {
      server: client.getServerVersion(),
      protocol_version: transport.protocolVersion ?? null,
      session_id: transport.sessionId ?? null,
    };
  });
  await step('tools', async () => (await client.listTools()).tools.map((t) => t.name).sort());
  await step('echo', async () => (await client.callTool({ name: 'echo', arguments: { text: 'through tether' } })).content[0].text);
  await step('add', async () => (await client.callTool({ name: 'add', arguments: { a: 2, b: 40 } })).content[0].text);

  if (opts.scenario === 'full') {
    await step('lockstep', async () => {
      const events = [];
      const run = crypto.randomUUID();
      const acks = [];
      const result = await client.callTool(
        { name: 'lockstep', arguments: { steps: 3, run, timeout_ms: 15000 } },
        undefined,
        {
          timeout: 30000,
          onprogress: (p) => {
            events.push(`progress:${p.progress}`);
            acks.push(client.callTool({ name: 'ack', arguments: { run, step: p.progress } })
              .catch((e) => events.push(`ack-error:${e.message}`)));
          },
        },
      );
      events.push(`result:${result.content[0].text}`);
      await Promise.all(acks);
      return events;
    });
    await step('countdown', async () => {
      const events = [];
      const result = await client.callTool(
        { name: 'countdown', arguments: { from: 3, interval_ms: 50 } },
        undefined,
        { onprogress: (p) => events.push(`progress:${p.progress}`) },
      );
      events.push(`result:${result.content[0].text}`);
      return events;
    });
  }

  await step('resource', async () => (await client.readResource({ uri: 'demo://greeting' })).contents[0].text);
  await step('prompt', async () => (await client.getPrompt({ name: 'summarize', arguments: { topic: 'token refresh' } })).messages[0].content.text);

  if (opts.scenario === 'full') {
    await step('delete', async () => {
      const sid = transport.sessionId;
      await transport.terminateSession();
      return { had_session: Boolean(sid), cleared: transport.sessionId === undefined, sid };
    });
    await step('after_delete', async () => {
      // A raw call on the ended session: the upstream no longer knows it (404 relayed).
      const headers = {
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
        'Mcp-Session-Id': out.delete.sid,
        'MCP-Protocol-Version': out.initialize.protocol_version ?? '2025-11-25',
      };
      if (opts.key) headers.Authorization = `Bearer ${opts.key}`;
      const res = await fetch(opts.url, {
        method: 'POST',
        headers,
        body: JSON.stringify({ jsonrpc: '2.0', id: 99, method: 'tools/list', params: {} }),
      });
      await res.text();
      return { status: res.status };
    });
  }
  await client.close();
}

try {
  await main();
} catch (e) {
  out.failed = describe(e);
}
process.stdout.write(JSON.stringify(out) + '\n');
process.exit(0);
