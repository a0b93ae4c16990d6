import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { ApiError, deleteToken, getConnection, refreshNow, startConnect } from './api';
import { EmptyState, HealthBadge, Link, Notice, Spinner, Time, TimeFull, type NoticeTone } from './components';
import { actorLabel, adviceFor, authModeLabel, formatAbsolute, formatClock, kindLabel, parseTime } from './format';
import { ManageCard } from './detail/Manage';
import { ConnectFailureNote, ConsentingAccountFact, PlanningFacts } from './detail/Planning';
import { UseIt } from './detail/UseIt';
import { HistoryPanel } from './History';
import { useNow, usePolling } from './hooks';
import { connectionPath, editConnectionPath, listPath } from './router';
import type { ConnectionDetail, OAuthStatus } from './types';

const DETAIL_POLL_MS = 10_000;
/** sessionStorage key remembering a sign-in started here, to greet the operator on return. */
const PENDING_CONNECT = 'tether.pending-connect';

interface Message {
  tone: NoticeTone;
  title: string;
  text?: ReactNode;
}

type Busy = null | 'connect' | 'refresh' | 'delete';

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="fact">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function humanize(code: string): string {
  return code.replaceAll('_', ' ');
}

function StatusCard({
  detail,
  now,
  actions,
}: {
  detail: ConnectionDetail;
  now: number;
  actions: ReactNode;
}) {
  const o = detail.oauth;
  if (!o) {
    return (
      <section className="card status status-neutral" aria-labelledby="status-title">
        <h2 id="status-title" className="status-title">
          Static credentials
        </h2>
        <p className="status-text-lead">
          This connection uses {authModeLabel(detail.auth_mode).toLowerCase()} credentials from Tether’s configuration.
          There is no token to connect or refresh.
        </p>
      </section>
    );
  }

  // Tether derives the card's status and code (src/lifecycle/connection_view.cc); the card
  // shows them. The newest revocation matters while the connection lacks a working token.
  const status = o.status;
  const revocation = status === 'needs_reauth' || status === 'revoked' ? o.last_revocation : null;
  const code = o.error_code;
  const idpHost = revocation?.idp_host || o.idp_host || '';
  let tone: 'ok' | 'warn' | 'bad' | 'neutral';
  let title: string;
  let lead: ReactNode;
  if (status === 'needs_reauth') {
    tone = 'bad';
    title = 'Needs re-authorization';
    lead = (
      <>
        The identity provider{idpHost ? <> <span className="mono">{idpHost}</span></> : null} refused to refresh the token
        {code ? (
          <>
            {' '}
            with <code>{code}</code>
          </>
        ) : null}
        {revocation && parseTime(revocation.at) ? (
          <>
            {' '}
            <Time value={revocation.at} now={now} />
          </>
        ) : null}
        . Calls through Tether fail until someone reconnects. What to do: {adviceFor('needs_reauth', code)}
      </>
    );
  } else if (status === 'needs_client_fix') {
    tone = 'bad';
    title = 'Fix client credentials';
    lead = (
      <>
        The identity provider{idpHost ? <> <span className="mono">{idpHost}</span></> : null} rejected Tether’s client
        credentials
        {code ? (
          <>
            {' '}
            (<code>{code}</code>)
          </>
        ) : null}{' '}
        when Tether refreshed the token. The grant is kept and Tether stops refreshing: once the client secret (or client
        id) is fixed, Tether refreshes at once and nobody has to reconnect. The current access token works until it
        expires.
        {detail.source === 'config' ? (
          <> Fix <code>auth.client_secret</code> in the configuration file, then reload Tether.</>
        ) : null}
      </>
    );
  } else if (status === 'revoked' && revocation) {
    tone = 'bad';
    title = 'Access revoked';
    lead = (
      <>
        The identity provider{idpHost ? <> <span className="mono">{idpHost}</span></> : null} revoked this connection’s access
        {parseTime(revocation.at) ? (
          <>
            {' '}
            <Time value={revocation.at} now={now} />
          </>
        ) : null}
        , so Tether deleted its token. Calls through Tether fail until someone reconnects. What to do: Reconnect.
      </>
    );
  } else if (status === 'never_connected' && o.last_connect_failure) {
    tone = 'bad';
    title = 'Connect failed';
    lead = 'Nobody has connected it successfully yet. Calls through Tether fail until a connect completes.';
  } else if (status === 'never_connected') {
    tone = 'neutral';
    title = 'Never connected';
    lead = 'Nobody has signed in for this connection yet. Calls through Tether fail until someone connects.';
  } else if (status === 'not_connected' || status === 'revoked') {
    tone = 'neutral';
    title = 'Not connected';
    lead = 'No token is stored for this connection. Connect to sign in at the identity provider again.';
  } else if (status === 'refresh_failing') {
    tone = 'warn';
    title = 'Refresh failing';
    lead = (
      <>
        Tether could not refresh the token
        {o.last_error_code ? (
          <>
            {' '}
            (<code>{o.last_error_code}</code>)
          </>
        ) : null}{' '}
        and keeps retrying{parseTime(o.next_attempt_at) ? <> — next attempt <Time value={o.next_attempt_at} now={now} /></> : null}.
        {' '}The current access token works until it expires.
      </>
    );
  } else {
    tone = 'ok';
    title = 'Connected';
    lead = 'Tether holds a valid token and refreshes it before it expires.';
  }
  const deadline = o.refresh_deadline ?? o.refresh_expires_at;

  return (
    <section className={`card status status-${tone}`} aria-labelledby="status-title" data-status={status}>
      <div className="status-head">
        <span className={`status-icon status-icon-${tone}`} aria-hidden="true" />
        <h2 id="status-title" className="status-title">
          {title}
        </h2>
      </div>
      <p className="status-text-lead">{lead}</p>
      {o.last_connect_failure && <ConnectFailureNote f={o.last_connect_failure} now={now} />}

      {o.reauthorize_soon && o.state !== 'needs_reauth' && o.state !== 'not_connected' && (
        <Notice tone="warn" title="Re-authorize soon">
          {parseTime(deadline) ? (
            <>
              The refresh token expires <TimeFull value={deadline} now={now} />.
            </>
          ) : (
            'The refresh token expires soon.'
          )}{' '}
          After that Tether cannot refresh and calls fail. Reconnect before then.
        </Notice>
      )}

      <dl className="facts">
        {o.state === 'refresh_failing' && (
          <>
            <Fact label="IdP error">{o.last_error_code ? <code>{o.last_error_code}</code> : <span className="muted">none (no OAuth error in the answer)</span>}</Fact>
            <Fact label="Failed attempts">{o.consecutive_failures} in a row</Fact>
            <Fact label="Next attempt">
              {parseTime(o.next_attempt_at) ? (
                <>
                  <Time value={o.next_attempt_at} now={now} /> <span className="muted">· {formatClock(parseTime(o.next_attempt_at)!)}</span>
                </>
              ) : (
                <span className="muted">on the next call or keeper run</span>
              )}
            </Fact>
          </>
        )}
        {(o.state === 'needs_reauth' || o.state === 'needs_client_fix') && (
          <Fact label="IdP error">{code ? <code>{code}</code> : <span className="muted">none given</span>}</Fact>
        )}
        {revocation && (
          <>
            <Fact label="Revoked by">
              <span className="mono">{revocation.idp_host || o.idp_host || '—'}</span>
            </Fact>
            <Fact label="Revoked">
              <TimeFull value={revocation.at} now={now} />
            </Fact>
            {revocation.reason !== code && (
              <Fact label="Reason">{revocation.reason ? humanize(revocation.reason) : <span className="muted">not given</span>}</Fact>
            )}
          </>
        )}
        {(o.state === 'connected' || o.state === 'refresh_failing') && (
          <>
            <Fact label="Access token expires">
              <TimeFull value={o.expires_at} now={now} empty="no expiry disclosed" />
            </Fact>
            <Fact label="Refresh token">
              {o.has_refresh_token ? (
                parseTime(o.refresh_expires_at) ? (
                  <>
                    expires <TimeFull value={o.refresh_expires_at} now={now} />
                  </>
                ) : (
                  'held; no expiry disclosed'
                )
              ) : (
                <span className="muted">none issued: reconnect when the access token expires</span>
              )}
            </Fact>
            <Fact label="Last refreshed">
              <Time value={o.last_refreshed_at} now={now} empty="not yet" />
            </Fact>
          </>
        )}
        <PlanningFacts o={o} now={now} />
        {o.authenticated_at && (
          <Fact label="Signed in">
            <TimeFull value={o.authenticated_at} now={now} />
            {o.authenticated_by && <span className="muted"> · by {actorLabel(o.authenticated_by)}</span>}
          </Fact>
        )}
        {o.authenticated_at && <ConsentingAccountFact account={o.consenting_account ?? null} />}
        {o.scope && (o.state === 'connected' || o.state === 'refresh_failing') && (
          <Fact label="Scope">
            <span className="mono">{o.scope}</span>
          </Fact>
        )}
        {o.idp_host && o.idp_host !== revocation?.idp_host && (
          <Fact label="Identity provider">
            <span className="mono">{o.idp_host}</span>
          </Fact>
        )}
      </dl>
      <div className="actions">{actions}</div>
    </section>
  );
}

export function ConnectionPage({ kind, name }: { kind: string; name: string }) {
  const [detail, setDetail] = useState<ConnectionDetail | null>(null);
  const [loadError, setLoadError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState<Busy>(null);
  const [message, setMessage] = useState<Message | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [historyVersion, setHistoryVersion] = useState(0);
  const greeted = useRef(false);
  const now = useNow();
  const key = `${kind}/${name}`;

  useEffect(() => {
    document.title = `${name} · Connections · Tether`;
  }, [name]);

  const greet = useCallback(
    (d: ConnectionDetail) => {
      if (greeted.current) return;
      greeted.current = true;
      let pending: { key?: string; at?: number } | null = null;
      try {
        pending = JSON.parse(sessionStorage.getItem(PENDING_CONNECT) ?? 'null');
      } catch {
        pending = null;
      }
      if (!pending || pending.key !== key || typeof pending.at !== 'number') return;
      sessionStorage.removeItem(PENDING_CONNECT);
      if (Date.now() - pending.at > 15 * 60_000) return;
      const signedIn = parseTime(d.oauth?.authenticated_at);
      if (d.oauth?.state === 'connected' && signedIn && signedIn.getTime() >= pending.at - 60_000) {
        setMessage({ tone: 'success', title: 'Connected', text: 'Tether received new tokens from the identity provider.' });
      } else {
        setMessage({
          tone: 'warn',
          title: 'The sign-in did not complete',
          text: 'The identity provider did not hand Tether a token. Connect again to retry.',
        });
      }
    },
    [key],
  );

  const reload = usePolling(
    async (signal) => {
      try {
        const d = await getConnection(kind, name, signal);
        setDetail(d);
        setLoadError(null);
        greet(d);
      } catch (e) {
        if (signal.aborted) return;
        setLoadError(e instanceof ApiError ? e : new ApiError(0, 'unknown', 'The connection could not be loaded.'));
      }
    },
    DETAIL_POLL_MS,
    [kind, name],
  );

  const afterAction = () => {
    reload();
    setHistoryVersion((v) => v + 1);
  };

  const connect = async () => {
    setBusy('connect');
    setMessage(null);
    try {
      const result = await startConnect(kind, name, connectionPath(kind, name));
      try {
        sessionStorage.setItem(PENDING_CONNECT, JSON.stringify({ key, at: Date.now() }));
      } catch {
        /* private mode: no greeting, nothing else lost */
      }
      window.location.assign(result.authorization_url);
    } catch (e) {
      setBusy(null);
      setMessage({
        tone: 'error',
        title: 'The sign-in could not be started',
        text: e instanceof ApiError ? e.message : undefined,
      });
    }
  };

  const refresh = async () => {
    setBusy('refresh');
    setMessage(null);
    try {
      const r = await refreshNow(kind, name);
      const exp = parseTime(r.expires_at);
      // While the current access token is still valid, a transient IdP failure may still
      // answer 200 with that token: the connection's state tells which happened.
      const after = await getConnection(kind, name).catch(() => null);
      if (after) setDetail(after);
      if (after?.oauth?.state === 'refresh_failing') {
        setMessage({
          tone: 'warn',
          title: 'The identity provider did not answer',
          text: `The current access token stays valid${exp ? ` until ${formatAbsolute(exp)}` : ''}; Tether keeps retrying on its own.`,
        });
        return;
      }
      setMessage({
        tone: 'success',
        title: 'Token refreshed',
        text: exp ? `The access token is now valid until ${formatAbsolute(exp)}.` : undefined,
      });
    } catch (e) {
      const err = e instanceof ApiError ? e : null;
      if (err?.status === 409) {
        setMessage({
          tone: 'error',
          title: 'The identity provider refused the refresh',
          text: 'This connection needs re-authorization. Reconnect to fix it.',
        });
      } else if (err?.status === 503) {
        const secs = Number(err.retryAfter);
        setMessage({
          tone: 'warn',
          title: 'The identity provider did not answer',
          text: `Tether keeps retrying on its own${Number.isFinite(secs) && secs > 0 ? `; next attempt in about ${Math.ceil(secs)} s` : ''}.`,
        });
      } else {
        setMessage({ tone: 'error', title: 'The refresh failed', text: err?.message });
      }
    } finally {
      setBusy(null);
      afterAction();
    }
  };

  const remove = async () => {
    setBusy('delete');
    setMessage(null);
    try {
      await deleteToken(kind, name);
      setConfirmDelete(false);
      setMessage({
        tone: 'success',
        title: 'Token deleted',
        text: 'Tether no longer holds a token for this connection. Calls fail until someone connects again.',
      });
    } catch (e) {
      setMessage({ tone: 'error', title: 'The token could not be deleted', text: e instanceof ApiError ? e.message : undefined });
    } finally {
      setBusy(null);
      afterAction();
    }
  };

  const crumbs = (
    <nav className="crumbs" aria-label="Breadcrumb">
      <Link href={listPath()}>Connections</Link>
      <span aria-hidden="true">/</span>
      <span aria-current="page">
        {kind}/{name}
      </span>
    </nav>
  );

  if (!detail) {
    return (
      <>
        {crumbs}
        <h1 tabIndex={-1} id="page-title">
          {name}
        </h1>
        {!loadError && (
          <div className="card loading-block">
            <Spinner label="Loading the connection" /> Loading…
          </div>
        )}
        {loadError && (
          <div className="card">
            {loadError.status === 404 ? (
              <EmptyState title={`There is no connection ${kind}/${name}`} action={<Link className="button" href={listPath()}>Back to connections</Link>}>
                It may have been removed from Tether’s configuration, or the address is mistyped.
              </EmptyState>
            ) : (
              <EmptyState
                title="The connection could not be loaded"
                action={
                  <button type="button" className="button" onClick={() => reload()}>
                    Try again
                  </button>
                }
              >
                {loadError.message}
              </EmptyState>
            )}
          </div>
        )}
      </>
    );
  }

  const o: OAuthStatus | null = detail.oauth;
  const state = o?.state ?? 'not_applicable';
  const never = o?.status === 'never_connected';
  // After a revocation Tether deletes the token itself: nothing left to delete then.
  const hasToken = Boolean(o?.has_token);
  const urgent = state === 'needs_reauth' || state === 'not_connected' || Boolean(o?.reauthorize_soon);
  const clientFix = state === 'needs_client_fix';
  const actions = o && (
    <>
      {clientFix && detail.source === 'api' && (
        <Link
          className="button button-primary"
          href={editConnectionPath(detail.kind, detail.name, 'auth.client_secret')}
          data-action="edit-client-secret"
        >
          Edit client secret
        </Link>
      )}
      <button
        type="button"
        className={`button ${urgent && !clientFix ? 'button-primary' : ''}`}
        onClick={connect}
        disabled={busy !== null}
      >
        {busy === 'connect' ? 'Opening the sign-in…' : never ? 'Connect' : 'Reconnect'}
      </button>
      {o.has_refresh_token && (state === 'connected' || state === 'refresh_failing') && (
        <button type="button" className="button" onClick={refresh} disabled={busy !== null}>
          {busy === 'refresh' ? 'Refreshing…' : 'Refresh now'}
        </button>
      )}
      {hasToken && !confirmDelete && (
        <button type="button" className="button button-danger-quiet" onClick={() => setConfirmDelete(true)} disabled={busy !== null}>
          Delete token
        </button>
      )}
    </>
  );

  return (
    <>
      {crumbs}
      <div className="page-head">
        <div>
          <div className="title-row">
            <h1 tabIndex={-1} id="page-title">
              {detail.name}
            </h1>
            <HealthBadge
              state={state}
              idpErrorCode={o?.last_error_code}
              fixHref={detail.source === 'api' ? editConnectionPath(detail.kind, detail.name, 'auth.client_secret') : undefined}
            />
            {detail.source === 'config' && (
              <span className="source-tag" data-source="config" title="Declared in Tether’s configuration file">
                managed by the config file
              </span>
            )}
          </div>
          <p className="muted page-sub">
            {kindLabel(detail.kind)} · <span className="mono" title={detail.upstream}>{detail.upstream || detail.url_host || 'no host'}</span> · {authModeLabel(detail.auth_mode)}
          </p>
        </div>
      </div>

      {loadError && (
        <Notice tone="warn" title="Could not refresh this page">
          {loadError.message} Showing what was last loaded.
        </Notice>
      )}
      <div aria-live="polite">
        {message && (
          <Notice tone={message.tone} title={message.title} onDismiss={() => setMessage(null)}>
            {message.text}
          </Notice>
        )}
      </div>

      <StatusCard detail={detail} now={now} actions={actions} />
      <UseIt detail={detail} now={now} />

      {confirmDelete && (
        <div className="card confirm" role="alertdialog" aria-labelledby="confirm-title" aria-describedby="confirm-text">
          <h2 id="confirm-title" className="card-title">
            Delete the token of {detail.kind}/{detail.name}?
          </h2>
          <p id="confirm-text">
            Tether forgets the access and refresh tokens. Calls through this connection fail until someone connects
            again. The identity provider is not told.
          </p>
          <div className="actions">
            <button type="button" className="button button-danger" onClick={remove} disabled={busy !== null} autoFocus>
              {busy === 'delete' ? 'Deleting…' : 'Delete token'}
            </button>
            <button type="button" className="button" onClick={() => setConfirmDelete(false)} disabled={busy !== null}>
              Cancel
            </button>
          </div>
        </div>
      )}

      <ManageCard detail={detail} />

      {o && <HistoryPanel kind={detail.kind} name={detail.name} version={historyVersion} />}
    </>
  );
}
