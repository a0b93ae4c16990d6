import { useEffect, useRef, useState, type FormEvent } from 'react';
import { ApiError, getPortalConfig, signIn } from './api';
import { Notice } from './components';
import type { PortalConfig, Session } from './types';

/**
 * The sign-in page. The key field is uncontrolled on purpose: React would mirror a
 * controlled value into the input's `value` attribute, i.e. into the DOM.
 */
export function SignIn({ onSignedIn, notice }: { onSignedIn: (s: Session) => void; notice?: string | null }) {
  const inputRef = useRef<HTMLInputElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [sso, setSso] = useState<PortalConfig['sso']>(null);

  useEffect(() => {
    document.title = 'Sign in · Tether';
    inputRef.current?.focus();
    let live = true;
    void getPortalConfig().then((c) => {
      if (live) setSso(c.sso);
    });
    return () => {
      live = false;
    };
  }, []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const input = inputRef.current;
    const key = input?.value.trim() ?? '';
    if (!key) {
      setError('Enter an admin key.');
      input?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const session = await signIn(key);
      if (input) input.value = '';
      onSignedIn(session);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Signing in failed. Try again.');
      setBusy(false);
      input?.select();
    }
  };

  return (
    <div className="signin-page">
      <main className="signin-card" id="main">
        <div className="brand brand-large">
          <img src="/portal/favicon.svg" alt="" width={36} height={36} />
          <span>Tether</span>
        </div>
        <h1>Sign in to the operator portal</h1>
        {sso && (
          <>
            {/* A plain link: the sign-in is a full-page round trip through the IdP. */}
            <a id="sso-sign-in" className="button button-primary button-block" href={sso.start_url}>
              Sign in with {sso.name}
            </a>
            <p className="muted">Or, for automation and break-glass access, use an admin key:</p>
          </>
        )}
        <p className="muted">
          Use one of the admin keys from Tether’s configuration (<code>admin.keys</code>). The portal keeps
          you signed in with a session cookie; the key itself is not stored.
        </p>
        {notice && <Notice tone="info">{notice}</Notice>}
        <form onSubmit={submit} noValidate>
          <label htmlFor="admin-key" className="field-label">
            Admin key
          </label>
          <input
            ref={inputRef}
            id="admin-key"
            name="admin-key"
            type="password"
            className="input"
            autoComplete="off"
            spellCheck={false}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? 'signin-error' : undefined}
            disabled={busy}
          />
          {error && (
            <p id="signin-error" className="field-error" role="alert">
              {error}
            </p>
          )}
          <button type="submit" className="button button-primary button-block" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
      </main>
    </div>
  );
}
