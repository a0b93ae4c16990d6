// "New connection" and "Edit connection": one form for one `connections:` entry. Tether
// validates it with the configuration file's own parser and names the field of a problem;
// the message appears next to that field. Secrets are write-only: an edit shows whether one
// is set and keeps it when the field is left empty.

import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { ApiError, createConnection, getConnection, replaceConnection } from './api';
import { EmptyState, Link, Notice, Spinner } from './components';
import {
  emptyForm,
  entryFromForm,
  formFieldOf,
  formFromEntry,
  secretsSet,
  type ConnectionForm as Form,
  type FormField,
} from './connectionEntry';
import { connectionPath, listPath, navigate } from './router';
import type { ConnectionDetail } from './types';
import './form.css';

type Errors = Partial<Record<FormField, string>>;

const fieldId = (f: FormField) => `field-${f.replace(/[^a-z_]/g, '-')}`;

function Field({
  field,
  label,
  hint,
  error,
  children,
}: {
  field: FormField;
  label: string;
  hint?: ReactNode;
  error?: string;
  children: (props: { id: string; 'aria-invalid'?: boolean; 'aria-describedby'?: string; 'data-field': string }) => ReactNode;
}) {
  const id = fieldId(field);
  const described = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div className="form-field" data-field-wrap={field}>
      <label htmlFor={id} className="field-label">
        {label}
      </label>
      {children({ id, 'aria-invalid': error ? true : undefined, 'aria-describedby': described || undefined, 'data-field': field })}
      {hint && (
        <p id={`${id}-hint`} className="field-hint muted">
          {hint}
        </p>
      )}
      {error && (
        <p id={`${id}-error`} className="field-error" data-error-for={field}>
          {error}
        </p>
      )}
    </div>
  );
}

export function ConnectionFormPage({ kind, name }: { kind?: string; name?: string }) {
  const editing = kind !== undefined && name !== undefined;
  const [form, setForm] = useState<Form>(emptyForm);
  const [detail, setDetail] = useState<ConnectionDetail | null>(null);
  const [loadError, setLoadError] = useState<ApiError | null>(null);
  const [errors, setErrors] = useState<Errors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [loaded, setLoaded] = useState(!editing);
  const formRef = useRef<HTMLFormElement>(null);
  const headingId = useId();

  useEffect(() => {
    document.title = editing ? `Edit ${kind}/${name} · Tether` : 'New connection · Tether';
    if (!editing) return;
    const ctl = new AbortController();
    getConnection(kind, name, ctl.signal)
      .then((d) => {
        setDetail(d);
        if (d.definition) setForm(formFromEntry(d.definition));
        setLoaded(true);
      })
      .catch((e) => {
        if (ctl.signal.aborted) return;
        setLoadError(e instanceof ApiError ? e : new ApiError(0, 'network', 'The connection could not be loaded.'));
      });
    return () => ctl.abort();
  }, [editing, kind, name]);

  // "Edit client secret" and similar links name the field to start in (#auth.client_secret).
  useEffect(() => {
    if (!loaded) return;
    const want = decodeURIComponent(window.location.hash.replace(/^#/, ''));
    const f = formFieldOf(want);
    if (f) document.getElementById(fieldId(f))?.focus();
  }, [loaded]);

  const set = <K extends keyof Form>(k: K, v: Form[K]) => setForm((old) => ({ ...old, [k]: v }));
  const stored = secretsSet(detail?.definition);

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setFormError(null);
    setErrors({});
    const built = entryFromForm(form);
    if ('field' in built) {
      setErrors({ [built.field]: built.message });
      document.getElementById(fieldId(built.field))?.focus();
      return;
    }
    setBusy(true);
    try {
      if (editing) await replaceConnection(kind, name, built.entry, detail?.version);
      else await createConnection(built.entry);
      navigate(connectionPath(built.entry.kind, built.entry.name));
    } catch (err) {
      setBusy(false);
      if (!(err instanceof ApiError)) {
        setFormError('Saving failed. Try again.');
        return;
      }
      const f = formFieldOf(err.field);
      if (err.status === 400 && f) {
        setErrors({ [f]: err.message });
        document.getElementById(fieldId(f))?.focus();
      } else if (err.status === 412) {
        setFormError('Someone changed this connection after you opened it. Reload the page to see their change, then edit again.');
      } else {
        setFormError(err.message);
      }
    }
  };

  const title = editing ? `Edit ${kind}/${name}` : 'New connection';
  const crumbs = (
    <nav className="crumbs" aria-label="Breadcrumb">
      <Link href={listPath()}>Connections</Link>
      <span aria-hidden="true">/</span>
      {editing && (
        <>
          <Link href={connectionPath(kind, name)}>
            {kind}/{name}
          </Link>
          <span aria-hidden="true">/</span>
        </>
      )}
      <span aria-current="page">{editing ? 'Edit' : 'New connection'}</span>
    </nav>
  );

  if (editing && !loaded) {
    return (
      <>
        {crumbs}
        <h1 tabIndex={-1} id="page-title">
          {title}
        </h1>
        <div className="card">
          {loadError ? (
            <EmptyState title="The connection could not be loaded" action={<Link className="button" href={listPath()}>Back to connections</Link>}>
              {loadError.message}
            </EmptyState>
          ) : (
            <div className="loading-block">
              <Spinner label="Loading the connection" /> Loading…
            </div>
          )}
        </div>
      </>
    );
  }
  if (editing && detail && (detail.source === 'config' || !detail.definition)) {
    return (
      <>
        {crumbs}
        <h1 tabIndex={-1} id="page-title">
          {title}
        </h1>
        <div className="card" data-managed-by-config="">
          <EmptyState title="Managed by the config file" action={<Link className="button" href={connectionPath(kind, name)}>Back to the connection</Link>}>
            {kind}/{name} is declared in Tether’s configuration file{detail.config_file ? <> (<code>{detail.config_file}</code>)</> : null}.
            Change it there and reload Tether (<code>tether reload</code> or <code>SIGHUP</code>); the portal cannot edit it.
          </EmptyState>
        </div>
      </>
    );
  }

  const secretHint = (f: FormField) =>
    editing ? (stored[f] ? 'Set. Leave empty to keep it; type a new value to replace it.' : 'Not set.') : undefined;
  const oauth = form.mode === 'oauth';

  return (
    <>
      {crumbs}
      <h1 tabIndex={-1} id="page-title">
        {title}
      </h1>
      {formError && (
        <Notice tone="error" title="Not saved" onDismiss={() => setFormError(null)}>
          {formError}
        </Notice>
      )}
      <form ref={formRef} className="card conn-form" onSubmit={submit} noValidate aria-labelledby={headingId} data-form={editing ? 'edit' : 'new'}>
        <h2 id={headingId} className="card-title">
          Connection
        </h2>
        <div className="form-grid">
          <Field field="kind" label="Kind" error={errors.kind} hint={editing ? 'The kind and name of a connection cannot change.' : undefined}>
            {(p) => (
              <select {...p} className="input" value={form.kind} disabled={editing} onChange={(e) => set('kind', e.target.value)}>
                <option value="mcp">MCP server (/mcp/name)</option>
                <option value="api">HTTP API (/api/name/…)</option>
              </select>
            )}
          </Field>
          <Field field="name" label="Name" error={errors.name} hint="Lower-case letters, digits, - and _.">
            {(p) => <input {...p} className="input" value={form.name} disabled={editing} autoComplete="off" spellCheck={false} onChange={(e) => set('name', e.target.value)} />}
          </Field>
        </div>
        <Field field="url" label="Upstream URL" error={errors.url}>
          {(p) => <input {...p} className="input mono" value={form.url} placeholder="https://mcp.example.com/mcp" autoComplete="off" spellCheck={false} onChange={(e) => set('url', e.target.value)} />}
        </Field>
        <Field field="auth.mode" label="Authentication" error={errors['auth.mode']}>
          {(p) => (
            <select {...p} className="input" value={form.mode} onChange={(e) => set('mode', e.target.value as Form['mode'])}>
              <option value="oauth">OAuth</option>
              <option value="bearer">Bearer token</option>
              <option value="api_key">API key header</option>
              <option value="none">None</option>
            </select>
          )}
        </Field>

        {form.mode === 'bearer' && (
          <Field field="auth.token" label="Bearer token" error={errors['auth.token']} hint={secretHint('auth.token')}>
            {(p) => <input {...p} type="password" className="input" value={form.token} autoComplete="new-password" onChange={(e) => set('token', e.target.value)} />}
          </Field>
        )}
        {form.mode === 'api_key' && (
          <div className="form-grid">
            <Field field="auth.header" label="Header" error={errors['auth.header']} hint="Default X-Api-Key.">
              {(p) => <input {...p} className="input mono" value={form.header} placeholder="X-Api-Key" autoComplete="off" onChange={(e) => set('header', e.target.value)} />}
            </Field>
            <Field field="auth.key" label="API key" error={errors['auth.key']} hint={secretHint('auth.key')}>
              {(p) => <input {...p} type="password" className="input" value={form.key} autoComplete="new-password" onChange={(e) => set('key', e.target.value)} />}
            </Field>
          </div>
        )}

        {oauth && (
          <fieldset className="form-section">
            <legend>OAuth</legend>
            <Field field="auth.grant" label="Grant" error={errors['auth.grant']}>
              {(p) => (
                <select {...p} className="input" value={form.grant} onChange={(e) => set('grant', e.target.value as Form['grant'])}>
                  <option value="authorization_code">Authorization code (a person signs in)</option>
                  <option value="client_credentials">Client credentials (no person)</option>
                </select>
              )}
            </Field>
            <div className="radio-row" role="radiogroup" aria-label="Endpoints">
              <label>
                <input type="radio" name="endpoints" value="issuer" checked={form.endpoints === 'issuer'} onChange={() => set('endpoints', 'issuer')} /> Issuer
                (endpoints from its metadata)
              </label>
              <label>
                <input type="radio" name="endpoints" value="explicit" checked={form.endpoints === 'explicit'} onChange={() => set('endpoints', 'explicit')} /> Endpoints
                one by one
              </label>
            </div>
            {form.endpoints === 'issuer' ? (
              <Field field="auth.issuer" label="Issuer URL" error={errors['auth.issuer']} hint={form.kind === 'mcp' ? 'May stay empty for an MCP server: its authorization server is found from its 401 answer.' : undefined}>
                {(p) => <input {...p} className="input mono" value={form.issuer} placeholder="https://idp.example.com" autoComplete="off" spellCheck={false} onChange={(e) => set('issuer', e.target.value)} />}
              </Field>
            ) : (
              <div className="form-grid">
                {form.grant === 'authorization_code' && (
                  <Field field="auth.authorization_url" label="Authorization URL" error={errors['auth.authorization_url']}>
                    {(p) => <input {...p} className="input mono" value={form.authorization_url} autoComplete="off" spellCheck={false} onChange={(e) => set('authorization_url', e.target.value)} />}
                  </Field>
                )}
                <Field field="auth.token_url" label="Token URL" error={errors['auth.token_url']}>
                  {(p) => <input {...p} className="input mono" value={form.token_url} autoComplete="off" spellCheck={false} onChange={(e) => set('token_url', e.target.value)} />}
                </Field>
              </div>
            )}
            <div className="form-grid">
              <Field field="auth.client_id" label="Client ID" error={errors['auth.client_id']} hint="Empty: Tether registers itself at the IdP (RFC 7591) when first connected.">
                {(p) => <input {...p} className="input mono" value={form.client_id} autoComplete="off" spellCheck={false} onChange={(e) => set('client_id', e.target.value)} />}
              </Field>
              <Field field="auth.client_secret" label="Client secret" error={errors['auth.client_secret']} hint={secretHint('auth.client_secret') ?? 'Empty for a public client.'}>
                {(p) => <input {...p} type="password" className="input" value={form.client_secret} autoComplete="new-password" onChange={(e) => set('client_secret', e.target.value)} />}
              </Field>
            </div>
            <div className="form-grid">
              <Field field="auth.client_auth" label="Client authentication" error={errors['auth.client_auth']}>
                {(p) => (
                  <select {...p} className="input" value={form.client_auth} onChange={(e) => set('client_auth', e.target.value)}>
                    <option value="">Default (basic with a secret, else none)</option>
                    <option value="basic">basic (RFC 6749 encoding)</option>
                    <option value="basic_raw">basic_raw</option>
                    <option value="post">post</option>
                    <option value="none">none</option>
                  </select>
                )}
              </Field>
              <Field field="auth.scopes" label="Scopes" error={errors['auth.scopes']} hint="Sent as written, space-separated.">
                {(p) => <input {...p} className="input mono" value={form.scopes} autoComplete="off" spellCheck={false} onChange={(e) => set('scopes', e.target.value)} />}
              </Field>
            </div>
            <Field field="auth.extra_params" label="Extra authorization parameters" error={errors['auth.extra_params']} hint="One name=value per line, e.g. prompt=consent.">
              {(p) => <textarea {...p} className="input mono" rows={3} value={form.extra_params} spellCheck={false} onChange={(e) => set('extra_params', e.target.value)} />}
            </Field>
            <div className="form-grid">
              <Field field="auth.refresh_max_lifetime" label="Refresh token lifetime (refresh_max_lifetime)" error={errors['auth.refresh_max_lifetime']} hint="For IdPs that do not say: 90d, 24h, 30m.">
                {(p) => <input {...p} className="input mono" value={form.refresh_max_lifetime} autoComplete="off" spellCheck={false} onChange={(e) => set('refresh_max_lifetime', e.target.value)} />}
              </Field>
              <Field field="auth.ca_bundle" label="CA bundle" error={errors['auth.ca_bundle']} hint="PEM file on Tether’s host with extra CAs for a private IdP.">
                {(p) => <input {...p} className="input mono" value={form.ca_bundle} autoComplete="off" spellCheck={false} onChange={(e) => set('ca_bundle', e.target.value)} />}
              </Field>
            </div>
            <Field field="auth.resource_indicator" label="Resource indicator" error={errors['auth.resource_indicator']}>
              {(p) => (
                <label className="check">
                  <input {...p} type="checkbox" checked={form.resource_indicator} onChange={(e) => set('resource_indicator', e.target.checked)} /> Send RFC 8707
                  <code>resource</code> (turn off for IdPs that reject it)
                </label>
              )}
            </Field>
          </fieldset>
        )}

        <div className="actions">
          <button type="submit" className="button button-primary" disabled={busy}>
            {busy ? 'Saving…' : editing ? 'Save changes' : 'Create connection'}
          </button>
          <Link className="button" href={editing ? connectionPath(kind, name) : listPath()}>
            Cancel
          </Link>
        </div>
      </form>
    </>
  );
}
