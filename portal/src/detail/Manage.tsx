// The connection page's "Connection settings" card: a connection made at runtime (source
// "api") can be edited and deleted here; one declared in the configuration file is marked as
// managed by it and changed only there. Deleting asks first and says what it does.

import { useState } from 'react';
import { ApiError, deleteConnection } from '../api';
import { Link, Notice } from '../components';
import { editConnectionPath, listPath, navigate } from '../router';
import type { ConnectionDetail } from '../types';

export function ManageCard({ detail }: { detail: ConnectionDetail }) {
  const [confirm, setConfirm] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const { kind, name } = detail;

  if (detail.source === 'config') {
    return (
      <section className="card" aria-labelledby="manage-title" data-managed-by-config="">
        <h2 id="manage-title" className="card-title">
          Managed by the config file
        </h2>
        <p className="muted">
          This connection is declared in Tether’s configuration file
          {detail.config_file ? (
            <>
              {' '}
              (<code>{detail.config_file}</code>)
            </>
          ) : null}
          . Change or remove it there, then reload Tether (<code>tether reload</code> or <code>SIGHUP</code>).
        </p>
      </section>
    );
  }
  if (detail.source !== 'api') return null;

  const remove = async () => {
    setBusy(true);
    setError(null);
    try {
      await deleteConnection(kind, name, detail.version);
      navigate(listPath());
    } catch (e) {
      setBusy(false);
      setError(
        e instanceof ApiError && e.status === 412
          ? 'Someone changed this connection meanwhile. Reload the page and check before deleting.'
          : e instanceof ApiError
            ? e.message
            : 'Deleting failed. Try again.',
      );
    }
  };

  const oauth = detail.auth_mode === 'oauth';
  return (
    <section className="card" aria-labelledby="manage-title">
      <h2 id="manage-title" className="card-title">
        Connection settings
      </h2>
      {error && (
        <Notice tone="error" title="Not deleted" onDismiss={() => setError(null)}>
          {error}
        </Notice>
      )}
      {!confirm && (
        <div className="actions">
          <Link className="button" href={editConnectionPath(kind, name)} data-action="edit-connection">
            Edit connection
          </Link>
          <button type="button" className="button button-danger-quiet" onClick={() => setConfirm(true)} data-action="delete-connection">
            Delete connection
          </button>
        </div>
      )}
      {confirm && (
        <div className="confirm" role="alertdialog" aria-labelledby="delete-conn-title" aria-describedby="delete-conn-text">
          <h3 id="delete-conn-title" className="card-title">
            Delete the connection {kind}/{name}?
          </h3>
          <ul id="delete-conn-text">
            <li>
              Calls to <code>{detail.gateway_path ?? (kind === 'mcp' ? `/mcp/${name}` : `/api/${name}/`)}</code> answer 404 on
              every Tether replica.
            </li>
            {oauth && <li>Its tokens are deleted.</li>}
            {oauth && (
              <li>Its refresh token is revoked at the identity provider, when the provider offers revocation.</li>
            )}
            <li>Its auth history is kept and stays readable.</li>
          </ul>
          <div className="actions">
            <button type="button" className="button button-danger" onClick={remove} disabled={busy} autoFocus data-action="confirm-delete-connection">
              {busy ? 'Deleting…' : `Delete ${name}`}
            </button>
            <button type="button" className="button" onClick={() => setConfirm(false)} disabled={busy}>
              Cancel
            </button>
          </div>
        </div>
      )}
    </section>
  );
}
