// The Webhooks page: the configured webhooks (URL query masked by Tether), a "Send test"
// button each, and the delivery log (newest first), polled like the connection list.

import { useCallback, useState } from 'react';
import { ApiError, listWebhooks, sendWebhookTest, webhookDeliveries } from './api';
import { EmptyState, Notice, Spinner, Time } from './components';
import { useNow, usePolling } from './hooks';
import type { WebhookDelivery, WebhookInfo, WebhookTestResult } from './types';

const POLL_MS = 10_000;
const LIMIT = 50;

const STATE_LABEL: Record<WebhookDelivery['state'], string> = {
  pending: 'Retrying',
  delivered: 'Delivered',
  given_up: 'Given up',
};

export function WebhooksPage() {
  const [hooks, setHooks] = useState<WebhookInfo[] | null>(null);
  const [deliveries, setDeliveries] = useState<WebhookDelivery[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [testing, setTesting] = useState<number | null>(null);
  const [tested, setTested] = useState<{ index: number; result: WebhookTestResult } | null>(null);
  const [testError, setTestError] = useState<string | null>(null);
  const now = useNow();

  const load = useCallback(async (signal?: AbortSignal) => {
    try {
      const [h, d] = await Promise.all([listWebhooks(signal), webhookDeliveries(LIMIT, signal)]);
      setHooks(h);
      setDeliveries(d);
      setError(null);
    } catch (e) {
      if (signal?.aborted) return;
      setError(e instanceof ApiError ? e.message : 'The webhooks could not be loaded.');
    }
  }, []);
  const poll = usePolling(load, POLL_MS, []);

  const test = async (index: number) => {
    setTesting(index);
    setTested(null);
    setTestError(null);
    try {
      setTested({ index, result: await sendWebhookTest(index) });
    } catch (e) {
      setTestError(e instanceof ApiError ? e.message : 'The test could not be sent.');
    } finally {
      setTesting(null);
    }
  };

  return (
    <>
      <div className="page-head">
        <div>
          <h1 tabIndex={-1} id="page-title">
            Webhooks
          </h1>
          <p className="muted page-sub">Signed notifications when a connection changes state</p>
        </div>
        <div className="poll-state">
          <button type="button" className="button button-quiet" onClick={() => poll()}>
            Check now
          </button>
        </div>
      </div>

      {error && <Notice tone="warn" title="Webhooks could not be loaded">{error}</Notice>}
      {testError && (
        <Notice tone="error" title="Test not sent" onDismiss={() => setTestError(null)}>
          {testError}
        </Notice>
      )}
      {tested && (
        <Notice
          tone={tested.result.delivered ? 'success' : 'error'}
          title={tested.result.delivered ? 'Test delivered' : 'Test not delivered'}
          onDismiss={() => setTested(null)}
        >
          Webhook {tested.index}:{' '}
          {tested.result.delivered
            ? `the receiver answered HTTP ${tested.result.status}.`
            : `${tested.result.error ?? 'no answer'}${tested.result.status ? ` (HTTP ${tested.result.status})` : ''}.`}
        </Notice>
      )}

      <section className="card card-flush" aria-label="Configured webhooks">
        {hooks === null && !error && (
          <div className="loading-block">
            <Spinner label="Loading webhooks" /> Loading webhooks…
          </div>
        )}
        {hooks !== null && hooks.length === 0 && (
          <EmptyState title="No webhooks configured">
            Webhooks are declared in Tether’s configuration file under <code>webhooks:</code>.
          </EmptyState>
        )}
        {hooks !== null && hooks.length > 0 && (
          <table className="table" data-testid="webhooks">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">URL</th>
                <th scope="col">Events</th>
                <th scope="col" aria-label="Actions" />
              </tr>
            </thead>
            <tbody>
              {hooks.map((h) => (
                <tr key={h.index}>
                  <td>{h.index}</td>
                  <td>
                    <span className="mono">{h.url}</span>
                  </td>
                  <td>{h.events.join(', ')}</td>
                  <td>
                    <button type="button" className="button" disabled={testing !== null} onClick={() => void test(h.index)}>
                      {testing === h.index ? 'Sending…' : 'Send test'}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section className="card card-flush" aria-label="Recent deliveries">
        <h2 className="card-title">Recent deliveries</h2>
        {deliveries !== null && deliveries.length === 0 && <EmptyState title="Nothing sent yet" />}
        {deliveries !== null && deliveries.length > 0 && (
          <table className="table" data-testid="deliveries">
            <thead>
              <tr>
                <th scope="col">Queued</th>
                <th scope="col">Event</th>
                <th scope="col">Connection</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last answer</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {deliveries.map((d) => (
                <tr key={d.id} data-state={d.state}>
                  <td>
                    <Time value={d.created_at} now={now} />
                  </td>
                  <td>
                    <code>{d.event}</code>
                  </td>
                  <td>
                    {d.connection.kind}/{d.connection.name}
                  </td>
                  <td>{d.attempts}</td>
                  <td title={d.last_error ?? undefined}>
                    {d.last_status ? `HTTP ${d.last_status}` : d.last_error ?? '—'}
                  </td>
                  <td>
                    {STATE_LABEL[d.state]}
                    {d.state === 'pending' && d.next_attempt_at && (
                      <span className="muted">
                        {' '}
                        · next <Time value={d.next_attempt_at} now={now} />
                      </span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}
