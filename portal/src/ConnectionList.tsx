import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { ApiError, listConnections } from './api';
import { EmptyState, HealthBadge, Link, Notice, Spinner, Time } from './components';
import { authModeLabel, formatClock, kindLabel } from './format';
import { useNow, usePolling } from './hooks';
import { Filters, Pager, SearchBox, StateCounts, paramsFromLocation, searchOf } from './list/ListControls';
import { connectFailureAdvice } from './detail/Planning';
import { connectionPath, editConnectionPath, listPath, newConnectionPath } from './router';
import type { ConnectionPage, ConnectionState, ConnectionSummary, ListConnectFailure, ListParams } from './types';

/** How often the list asks Tether again (the page's health). */
export const HEALTH_POLL_MS = 10_000;
/** Rows per page. */
export const PAGE_SIZE = 100;
/** Upstreams longer than this are shortened in the table (the full value is in the title). */
const UPSTREAM_MAX = 40;

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

/** A connection without a token whose last connect attempt failed: red when the IdP rejected
 * the client (a configuration fix), amber otherwise; the tooltip says why and what to do. */
function ConnectFailedBadge({ f, href }: { f: ListConnectFailure; href: string }) {
  const tipId = useId();
  const code = f.idp_error || f.reason;
  const red = code === 'invalid_client' || code === 'unauthorized_client';
  return (
    <span className="badge-wrap" data-badge="connect-failed">
      <Link href={href} className={`badge ${red ? 'badge-red' : 'badge-amber'}`} aria-describedby={tipId}>
        <span className="badge-dot" aria-hidden="true" />
        connect failed
      </Link>
      <span role="tooltip" id={tipId} className="tooltip">
        <strong>The last connect attempt failed</strong>
        <span className="tooltip-line">
          {f.idp_error ? 'IdP error' : 'Reason'}: <code>{code}</code>
        </span>
        <span className="tooltip-line">What to do: {connectFailureAdvice({ ...f, actor: '' })}</span>
      </span>
    </span>
  );
}

function shorten(text: string): string {
  if (text.length <= UPSTREAM_MAX) return text;
  const head = Math.ceil((UPSTREAM_MAX - 1) * 0.6);
  return `${text.slice(0, head)}…${text.slice(text.length - (UPSTREAM_MAX - 1 - head))}`;
}

function Row({ r, now }: { r: ConnectionSummary; now: number }) {
  const href = connectionPath(r.kind, r.name);
  const oauth = r.auth_mode === 'oauth';
  const failed = r.state === 'not_connected' ? r.connect_failure : null;
  const deadlineTitle =
    r.refresh_deadline_source === 'idp'
      ? 'disclosed by the IdP'
      : r.refresh_deadline_source === 'refresh_max_lifetime'
        ? 'from refresh_max_lifetime'
        : undefined;
  return (
    <tr data-connection={keyOf(r)} data-state={r.state} data-connect-failed={failed ? failed.idp_error || failed.reason : undefined}>
      <td>
        <Link href={href} className="conn-name">
          {r.name}
        </Link>
        <span className="kind">{kindLabel(r.kind)}</span>
        {r.source === 'config' && (
          <span className="source-tag" data-source="config" title="Declared in Tether’s configuration file: edit it there">
            config file
          </span>
        )}
      </td>
      <td>
        <span className="mono upstream" title={r.upstream || r.url_host}>
          {shorten(r.upstream || r.url_host) || '—'}
        </span>
      </td>
      <td>{authModeLabel(r.auth_mode)}</td>
      <td className="status-cell">
        <HealthBadge
          state={r.state}
          idpErrorCode={r.idp_error_code || r.reason}
          href={href}
          fixHref={r.source === 'api' ? editConnectionPath(r.kind, r.name, 'auth.client_secret') : undefined}
        />
        {failed ? <ConnectFailedBadge f={failed} href={href} /> : <StatusText state={r.state} />}
      </td>
      <td>{oauth ? <Time value={r.expires_at} now={now} /> : <span className="muted">—</span>}</td>
      <td>{oauth ? <Time value={r.last_refreshed_at} now={now} empty="never" /> : <span className="muted">—</span>}</td>
      <td title={deadlineTitle}>{oauth ? <Time value={r.refresh_deadline} now={now} empty="none" /> : <span className="muted">—</span>}</td>
      <td data-last-used={r.last_used_at ?? ''}>
        <Time value={r.last_used_at ?? null} now={now} empty="not yet" />
      </td>
    </tr>
  );
}

export function ConnectionList() {
  const [params, setParams] = useState<ListParams>(() => paramsFromLocation(PAGE_SIZE));
  const [page, setPage] = useState<ConnectionPage | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [checkedAt, setCheckedAt] = useState<Date | null>(null);
  const paramsRef = useRef(params);
  paramsRef.current = params;
  const now = useNow(5_000);

  useEffect(() => {
    document.title = 'Connections · Tether';
  }, []);

  // The banner's link and the browser's back button change the address: follow it.
  useEffect(() => {
    const follow = () => setParams(paramsFromLocation(PAGE_SIZE));
    window.addEventListener('popstate', follow);
    window.addEventListener('tether:navigate', follow);
    return () => {
      window.removeEventListener('popstate', follow);
      window.removeEventListener('tether:navigate', follow);
    };
  }, []);

  const update = useCallback((change: Partial<ListParams>) => {
    const next = { ...paramsRef.current, offset: 0, ...change };
    window.history.replaceState(null, '', listPath() + searchOf(next));
    setParams(next);
  }, []);

  const load = useCallback(async (p: ListParams, signal?: AbortSignal) => {
    try {
      const answer = await listConnections(p, signal);
      if (signal?.aborted) return;
      setPage(answer);
      setCheckedAt(new Date());
      setLoadError(null);
    } catch (e) {
      if (signal?.aborted) return;
      setLoadError(e instanceof ApiError ? e.message : 'The connections could not be loaded.');
    }
  }, []);

  const poll = usePolling((signal) => load(paramsRef.current, signal), HEALTH_POLL_MS, [params]);

  const rows = page?.connections ?? [];
  const counts = page?.counts ?? null;
  const all = counts ? Object.values(counts).reduce((a, b) => a + b, 0) : 0;
  const red = counts?.needs_reauth ?? 0;
  const clientFix = counts?.needs_client_fix ?? 0;
  const attention = counts
    ? counts.needs_reauth + (counts.needs_client_fix ?? 0) + counts.refresh_failing + counts.not_connected
    : 0;
  const filtered = Boolean(params.q || params.kind || params.auth || params.state);

  return (
    <>
      <div className="page-head">
        <div>
          <h1 tabIndex={-1} id="page-title">
            Connections
          </h1>
          <p className="muted page-sub">
            {page === null
              ? 'Loading…'
              : `${all} ${all === 1 ? 'connection' : 'connections'}` +
                (filtered && (params.q || params.kind || params.auth) ? ' match' : '') +
                (attention === 0
                  ? all > 0
                    ? ' · nothing needs attention'
                    : ''
                  : ` · ${attention} ${attention === 1 ? 'needs' : 'need'} attention`)}
          </p>
        </div>
        <Link className="button button-primary" href={newConnectionPath()} data-action="new-connection">
          New connection
        </Link>
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

      {loadError && page !== null && (
        <Notice tone="warn" title="Health could not be checked">
          {loadError} The portal tries again every {HEALTH_POLL_MS / 1000} seconds; the statuses below may be out of
          date.
        </Notice>
      )}

      {red > 0 && params.state !== 'needs_reauth' && (
        <Notice tone="error" title={`${red} ${red === 1 ? 'connection needs' : 'connections need'} re-authorization`}>
          Calls through Tether to {red === 1 ? 'it' : 'them'} fail until someone reconnects.{' '}
          <Link href={listPath() + searchOf({ ...params, offset: 0, state: 'needs_reauth' })} data-banner-link="">
            Show {red === 1 ? 'it' : `the ${red}`}
          </Link>
        </Notice>
      )}

      {clientFix > 0 && params.state !== 'needs_client_fix' && (
        <Notice
          tone="error"
          title={`The identity provider rejected Tether’s client credentials for ${clientFix} ${clientFix === 1 ? 'connection' : 'connections'}`}
        >
          Fix the client secret (or client id) and Tether refreshes at once, keeping the grant: nobody has to reconnect.{' '}
          <Link href={listPath() + searchOf({ ...params, offset: 0, state: 'needs_client_fix' })} data-banner-link="client-fix">
            Show {clientFix === 1 ? 'it' : `the ${clientFix}`}
          </Link>
        </Notice>
      )}

      <div className="list-controls">
        <SearchBox value={params.q} onChange={(q) => update({ q })} />
        <Filters params={params} onChange={update} />
      </div>
      <StateCounts counts={counts} active={params.state} onSelect={(state) => update({ state })} />

      <section className="card card-flush" aria-labelledby="page-title">
        {page === null && !loadError && (
          <div className="loading-block">
            <Spinner label="Loading connections" /> Loading connections…
          </div>
        )}
        {loadError && page === null && (
          <EmptyState
            title="The connections could not be loaded"
            action={
              <button type="button" className="button" onClick={() => void load(paramsRef.current)}>
                Try again
              </button>
            }
          >
            {loadError}
          </EmptyState>
        )}
        {page !== null && rows.length === 0 && !filtered && page.offset === 0 && (
          <EmptyState
            title="No connections yet"
            action={
              <Link className="button button-primary" href={newConnectionPath()}>
                New connection
              </Link>
            }
          >
            Create one here, or declare it in Tether’s configuration file under <code>connections:</code> and reload
            Tether.
          </EmptyState>
        )}
        {page !== null && rows.length === 0 && (filtered || page.offset > 0) && (
          <EmptyState
            title="No connection matches"
            action={
              <button type="button" className="button" onClick={() => update({ q: '', kind: '', auth: '', state: '', sort: '' })}>
                Clear the filters
              </button>
            }
          >
            Nothing matches these filters. Search looks at names and upstream hosts.
          </EmptyState>
        )}
        {rows.length > 0 && (
          <table className="table list-table" aria-describedby="page-title" data-total={page?.total}>
            <thead>
              <tr>
                <th scope="col">Connection</th>
                <th scope="col">Upstream</th>
                <th scope="col">Auth</th>
                <th scope="col">Status</th>
                <th scope="col">Access token expires</th>
                <th scope="col">Last refresh</th>
                <th scope="col">Refresh deadline</th>
                <th scope="col">Last used</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <Row key={keyOf(r)} r={r} now={now} />
              ))}
            </tbody>
          </table>
        )}
      </section>
      {page && (
        <Pager
          offset={page.offset}
          limit={page.limit}
          total={page.total}
          shown={rows.length}
          onOffset={(offset) => update({ offset })}
        />
      )}
    </>
  );
}
