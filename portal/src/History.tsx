import { useEffect, useId, useState, type ReactNode } from 'react';
import { ApiError, getAuthEvents } from './api';
import { EmptyState, Notice, Spinner, Time } from './components';
import { actorLabel, eventLabel, eventTone, formatAbsolute, formatClock, formatDuration, parseTime } from './format';
import { useNow } from './hooks';
import type { AuthEvent } from './types';

const LIMIT = 30;

function humanize(code: string): string {
  return code.replaceAll('_', ' ');
}

/** The facts of one event worth a glance, as short phrases. */
function eventFacts(e: AuthEvent): { key: string; text: ReactNode; title?: string }[] {
  const d = e.detail ?? {};
  const out: { key: string; text: ReactNode; title?: string }[] = [];
  if (d.idp_error) {
    out.push({
      key: 'idp',
      text: (
        <>
          IdP error <code>{d.idp_error}</code>
        </>
      ),
    });
  }
  if (typeof d.http_status === 'number' && d.http_status > 0) out.push({ key: 'http', text: `HTTP ${d.http_status}` });
  if (typeof d.duration_ms === 'number') out.push({ key: 'dur', text: `took ${formatDuration(d.duration_ms)}` });
  if (typeof d.rotated === 'boolean') {
    out.push({ key: 'rot', text: d.rotated ? 'refresh token rotated' : 'refresh token kept' });
  }
  const after = parseTime(d.expires_after);
  if (after) {
    const before = parseTime(d.expires_before);
    out.push({
      key: 'exp',
      text: `access token until ${formatAbsolute(after)}`,
      title: before ? `Before: ${formatAbsolute(before)}` : undefined,
    });
  }
  const refreshAfter = parseTime(d.refresh_expires_after);
  if (refreshAfter) out.push({ key: 'rexp', text: `refresh token until ${formatAbsolute(refreshAfter)}` });
  if (typeof d.consecutive_failures === 'number' && d.consecutive_failures > 0) {
    out.push({ key: 'fail', text: `failure ${d.consecutive_failures} in a row` });
  }
  const next = parseTime(d.next_attempt_at);
  if (next) out.push({ key: 'next', text: `next try at ${formatClock(next)}`, title: formatAbsolute(next) });
  if (d.reason && d.reason !== d.idp_error) out.push({ key: 'reason', text: humanize(d.reason) });
  const suppressed = typeof d.suppressed === 'number' ? d.suppressed : 0;
  if (suppressed > 0) {
    out.push({ key: 'sup', text: `${suppressed} similar ${suppressed === 1 ? 'failure' : 'failures'} before this one not listed` });
  }
  return out;
}

/** The History panel: collapsed by default, fetched when opened and whenever `version` changes. */
export function HistoryPanel({ kind, name, version }: { kind: string; name: string; version: number }) {
  const [open, setOpen] = useState(false);
  const [events, setEvents] = useState<AuthEvent[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [reload, setReload] = useState(0);
  const bodyId = useId();
  const now = useNow();

  useEffect(() => {
    if (!open) return;
    const controller = new AbortController();
    setLoading(true);
    getAuthEvents(kind, name, LIMIT, controller.signal)
      .then((list) => {
        setEvents(list);
        setError(null);
      })
      .catch((e) => {
        if (controller.signal.aborted) return;
        setError(e instanceof ApiError ? e.message : 'The history could not be loaded.');
      })
      .finally(() => {
        if (!controller.signal.aborted) setLoading(false);
      });
    return () => controller.abort();
  }, [open, kind, name, version, reload]);

  return (
    <section className="card history" aria-label="History">
      <div className="history-head">
        <button
          type="button"
          className="disclosure"
          aria-expanded={open}
          aria-controls={bodyId}
          onClick={() => setOpen((o) => !o)}
        >
          <span className="chevron" aria-hidden="true" />
          <span className="card-title">History</span>
          <span className="muted disclosure-hint">sign-ins, refreshes and deletions, newest first</span>
        </button>
        {open && (
          <button type="button" className="button button-quiet" onClick={() => setReload((n) => n + 1)} disabled={loading}>
            {loading ? 'Loading…' : 'Reload'}
          </button>
        )}
      </div>
      {open && (
        <div id={bodyId} className="history-body">
          {error && <Notice tone="error">{error}</Notice>}
          {!events && !error && (
            <div className="loading-block">
              <Spinner label="Loading history" /> Loading history…
            </div>
          )}
          {events && events.length === 0 && (
            <EmptyState title="Nothing has happened yet">
              Sign-ins, refreshes and token deletions for this connection are recorded here.
            </EmptyState>
          )}
          {events && events.length > 0 && (
            <>
              <ol className="timeline">
                {events.map((e) => {
                  const facts = eventFacts(e);
                  return (
                    <li key={String(e.id)} className={`event event-${eventTone(e)}`} data-event-type={e.type}>
                      <span className="event-marker" aria-hidden="true" />
                      <div className="event-main">
                        <div className="event-line">
                          <span className="event-label">{eventLabel(e.type)}</span>
                          <span className="event-time">
                            <Time value={e.at} now={now} />
                          </span>
                        </div>
                        {facts.length > 0 && (
                          <ul className="facts-inline">
                            {facts.map((f) => (
                              <li key={f.key} title={f.title}>
                                {f.text}
                              </li>
                            ))}
                          </ul>
                        )}
                        <div className="event-meta muted">
                          {actorLabel(e.actor) && <span>by {actorLabel(e.actor)}</span>}
                          {e.idp_host && <span className="mono">{e.idp_host}</span>}
                          {e.correlation_id && (
                            <span className="mono" title={`Correlation id ${e.correlation_id} (also in Tether’s log)`}>
                              ref {e.correlation_id.slice(0, 8)}
                            </span>
                          )}
                        </div>
                      </div>
                    </li>
                  );
                })}
              </ol>
              {events.length >= LIMIT && (
                <p className="muted small">Showing the latest {LIMIT} events. Older ones are in Tether’s store.</p>
              )}
            </>
          )}
        </div>
      )}
    </section>
  );
}
