// "Use it": where an agent or a script calls this connection through Tether, with snippets
// to copy (MCP client configuration, curl). The gateway adds the connection's credentials;
// the snippets hold none (a client key, when required, is a placeholder).

import { useId, useState } from 'react';
import { Time } from '../components';
import type { ConnectionDetail } from '../types';
import './detail.css';

/** The data plane's URL as Tether reports it (with admin.listen the portal is on another
 * listener than the gateway); the portal's own origin only when Tether does not say. */
function gatewayUrl(detail: ConnectionDetail): string {
  return detail.gateway_url || `${window.location.origin}${detail.gateway_path ?? ''}`;
}

export function snippetsFor(detail: ConnectionDetail): { url: string; config: string | null; curl: string } {
  const url = gatewayUrl(detail);
  const auth = detail.client_key_required ? ` \\\n  -H "Authorization: Bearer $TETHER_CLIENT_KEY"` : '';
  if (detail.kind === 'mcp') {
    const server: Record<string, unknown> = { type: 'http', url };
    if (detail.client_key_required) server.headers = { Authorization: 'Bearer ${TETHER_CLIENT_KEY}' };
    const config = JSON.stringify({ mcpServers: { [detail.name]: server } }, null, 2);
    const curl =
      `curl -s ${url}${auth} \\\n  -H 'Content-Type: application/json' \\\n` +
      `  -H 'Accept: application/json, text/event-stream' \\\n` +
      `  -d '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}'`;
    return { url, config, curl };
  }
  return { url, config: null, curl: `curl -s ${url}${auth}` };
}

function Snippet({ label, text, name }: { label: string; text: string; name: string }) {
  const id = useId();
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      window.setTimeout(() => setCopied(false), 2000);
    } catch {
      setCopied(false); // no clipboard (plain http on a non-loopback host): select by hand
    }
  };
  return (
    <div className="snippet">
      <div className="snippet-head">
        <span id={id} className="snippet-label">
          {label}
        </span>
        <button type="button" className="button button-quiet" aria-describedby={id} onClick={() => void copy()}>
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
      <pre className="mono" tabIndex={0} aria-labelledby={id} data-snippet={name}>
        {text}
      </pre>
    </div>
  );
}

export function UseIt({ detail, now }: { detail: ConnectionDetail; now: number }) {
  if (!detail.gateway_path) return null;
  const s = snippetsFor(detail);
  return (
    <section className="card use-it" aria-labelledby="use-it-title">
      <h2 id="use-it-title" className="card-title">
        Use it
      </h2>
      <p>
        Point {detail.kind === 'mcp' ? 'an MCP client' : 'an HTTP client'} at{' '}
        <code data-gateway-url="">{s.url}</code>
        {detail.kind === 'api' && ' followed by the upstream path'}. Tether adds the connection’s credentials; the
        caller never sees them.
        {detail.client_key_required && ' Callers must present a client key (clients.keys).'}
      </p>
      <p className="muted" data-fact="last-used">
        Last used through Tether: <Time value={detail.last_used_at ?? null} now={now} empty="not yet" />
      </p>
      {s.config && <Snippet label="MCP client configuration" text={s.config} name="mcp-config" />}
      <Snippet label="curl" text={s.curl} name="curl" />
    </section>
  );
}
