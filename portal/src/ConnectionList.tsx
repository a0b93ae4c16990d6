import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, listConnections, oauthHealth } from './api';
import { EmptyState, HealthBadge, Link, Notice, Spinner } from './components';
import { authModeLabel, formatClock, kindLabel } from './format';
import { useNow, usePolling } from './hooks';
import { connectionPath } from './router';
import type { ConnectionHealth, ConnectionState, ConnectionSummary } from './types';

/** How often the list asks for OAuth health. */
export const HEALTH_POLL_MS = 10_000;

const keyOf = (c: { kind: string; name: string }) => `${c.kind}/${c.name}`;

function StatusText({ state }: { state: ConnectionState }) {
  switch (state) {
    case 'connected':
      return (
        <span className="status-text status-ok">
          <span className="dot dot-ok" aria-hidden="true" />
          Connected
        </span>
      );
    case 'not_connected':
      return (
        <span className="status-text">
          <span className="dot dot-idle" aria-hidden="true" />
          Not connected
        </span>
      );
    case 'not_applicable':
      return <span className="status-text muted">Static credentials</span>;
    default:
      return null;
  }
}

export function ConnectionList() {
  const [connections, setConnections] = useState<ConnectionSummary[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [health, setHealth] = useState<Map<string, ConnectionHealth>>(new Map());
  const [checkedAt, setCheckedAt] = useState<Date | null>(null);
  const [pollError, setPollError] = useState<string | null>(null);
  const knownKeys = useRef<string>('');
  useNow(5_000);

  useEffect(() => {
    document.title = 'Connections · Tether';
  }, []);

  const loadList = useCallback(async (signal?: AbortSignal) => {
    try {
      const list = await listConnections(signal);
      knownKeys.current = list.map(keyOf).sort().join('\n');
      setConnections(list);
      setLoadError(null);
    } catch (e) {
      if (signal?.aborted) return;
      setLoadError(e instanceof ApiError ? e.message : 'The connections could not be loaded.');
    }
  }, []);

  const poll = usePolling(
    async (signal) => {
      try {
        const rows = await oauthHealth(signal);
        const next = new Map(rows.map((h) => [keyOf(h), h]));
        setHealth(next);
        setCheckedAt(new Date());
        setPollError(null);
        // A configuration reload can add or remove connections: reload the list then.
        const oauthKeys = rows.map(keyOf).sort();
        const listed = knownKeys.current.split('\n');
        if (knownKeys.current && oauthKeys.some((k) => !listed.includes(k))) await loadList(signal);
      } catch (e) {
        if (signal.aborted) return;
        setPollError(e instanceof ApiError ? e.message : 'Health could not be checked.');
      }
    },
    HEALTH_POLL_MS,
    [],
  );

  useEffect(() => {
    const controller = new AbortController();
    void loadList(controller.signal);
    return () => controller.abort();
  }, [loadList]);

  const rows = (connections ?? []).map((c) => {
    const h = health.get(keyOf(c));
    return { ...c, state: (h?.state ?? c.state) as ConnectionState, idpErrorCode: h?.idp_error_code ?? '' };
  });
  const red = rows.filter((r) => r.state === 'needs_reauth').length;
  const amber = rows.filter((r) => r.state === 'refresh_failing').length;

  return (
    <>
      <div className="page-head">
        <div>
          <h1 tabIndex={-1} id="page-title">
            Connections
          </h1>
          <p className="muted page-sub">
            {connections === null
              ? 'Loading…'
              : `${rows.length} ${rows.length === 1 ? 'connection' : 'connections'}` +
                (red + amber === 0
                  ? rows.length > 0
                    ? ' · nothing needs attention'
                    : ''
                  : ` · ${red + amber} ${red + amber === 1 ? 'needs' : 'need'} attention`)}
          </p>
        </div>
        <div className="poll-state" aria-live="polite">
          {checkedAt && (
            <span className="muted">
              Health checked at {formatClock(checkedAt)} · every {HEALTH_POLL_MS / 1000} s
            </span>
          )}
          <button type="button" className="button button-quiet" onClick={() => poll()}>
            Check now
          </button>
        </div>
      </div>

      {pollError && connections !== null && (
        <Notice tone="warn" title="Health could not be checked">
          {pollError} The portal tries again every {HEALTH_POLL_MS / 1000} seconds; the statuses below may be out
          of date.
        </Notice>
      )}

      {red > 0 && (
        <Notice tone="error" title={`${red} ${red === 1 ? 'connection needs' : 'connections need'} re-authorization`}>
          Calls through Tether to {red === 1 ? 'it' : 'them'} fail until someone reconnects. Point at or focus a red badge to see
          why.
        </Notice>
      )}

      <section className="card card-flush" aria-labelledby="page-title">
        {connections === null && !loadError && (
          <div className="loading-block">
            <Spinner label="Loading connections" /> Loading connections…
          </div>
        )}
        {loadError && connections === null && (
          <EmptyState
            title="The connections could not be loaded"
            action={
              <button type="button" className="button" onClick={() => void loadList()}>
                Try again
              </button>
            }
          >
            {loadError}
          </EmptyState>
        )}
        {connections !== null && rows.length === 0 && (
          <EmptyState title="No connections yet">
            Connections are declared in Tether’s configuration file under <code>connections:</code>. Add one, restart
            or reload Tether, and it appears here.
          </EmptyState>
        )}
        {rows.length > 0 && (
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Connection</th>
                <th scope="col">Upstream host</th>
                <th scope="col">Auth</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => {
                const href = connectionPath(r.kind, r.name);
                return (
                  <tr key={keyOf(r)} data-connection={keyOf(r)} data-state={r.state}>
                    <td>
                      <Link href={href} className="conn-name">
                        {r.name}
                      </Link>
                      <span className="kind">{kindLabel(r.kind)}</span>
                    </td>
                    <td>
                      <span className="mono">{r.url_host || '—'}</span>
                    </td>
                    <td>{authModeLabel(r.auth_mode)}</td>
                    <td className="status-cell">
                      <HealthBadge state={r.state} idpErrorCode={r.idpErrorCode} href={href} />
                      <StatusText state={r.state} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}
