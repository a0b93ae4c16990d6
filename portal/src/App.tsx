import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, getSession, setSessionLostHandler, signOut } from './api';
import { EmptyState, Link, Notice, Spinner } from './components';
import { ConnectionList } from './ConnectionList';
import { ConnectionFormPage } from './ConnectionForm';
import { ConnectionPage } from './ConnectionPage';
import { listPath, navigate, useRoute, webhooksPath } from './router';
import { SignIn } from './SignIn';
import type { Session } from './types';
import { WebhooksPage } from './Webhooks';

type SessionState = { status: 'checking' } | { status: 'error'; message: string } | { status: 'out'; notice: string | null } | { status: 'in'; session: Session };

/** A signed-in user's own page. Personal connections do not exist yet: say so plainly. */
function MyConnections() {
  useEffect(() => {
    document.title = 'My connections · Tether';
  }, []);
  return (
    <div className="card">
      <h1 id="page-title" tabIndex={-1}>
        My connections
      </h1>
      <EmptyState title="No personal connections yet">
        Tether does not offer personal connections yet, so there is nothing to show here. The
        organisation&rsquo;s connections are managed by Tether&rsquo;s operators.
      </EmptyState>
    </div>
  );
}

export function App() {
  const [auth, setAuth] = useState<SessionState>({ status: 'checking' });
  const [signOutError, setSignOutError] = useState<string | null>(null);
  const route = useRoute();
  const firstRoute = useRef(true);

  const check = useCallback(async () => {
    setAuth({ status: 'checking' });
    try {
      const session = await getSession();
      setAuth(session ? { status: 'in', session } : { status: 'out', notice: null });
    } catch (e) {
      setAuth({ status: 'error', message: e instanceof ApiError ? e.message : 'Tether could not be reached.' });
    }
  }, []);

  useEffect(() => {
    void check();
    setSessionLostHandler(() => setAuth({ status: 'out', notice: 'Your session has ended. Sign in again to continue.' }));
    return () => setSessionLostHandler(null);
  }, [check]);

  // Move focus to the new page's heading, as a full page load would for a screen reader.
  useEffect(() => {
    if (firstRoute.current) {
      firstRoute.current = false;
      return;
    }
    document.getElementById('page-title')?.focus();
  }, [route]);

  const doSignOut = async () => {
    setSignOutError(null);
    try {
      await signOut();
      setAuth({ status: 'out', notice: 'You have signed out.' });
      navigate(listPath(), true);
    } catch (e) {
      setSignOutError(e instanceof ApiError ? e.message : 'Signing out failed. Try again.');
    }
  };

  if (auth.status === 'checking') {
    return (
      <div className="center-page">
        <Spinner label="Checking your session" />
      </div>
    );
  }
  if (auth.status === 'error') {
    return (
      <div className="center-page">
        <div className="card narrow">
          <EmptyState
            title="Tether is not answering"
            action={
              <button type="button" className="button button-primary" onClick={() => void check()}>
                Try again
              </button>
            }
          >
            {auth.message}
          </EmptyState>
        </div>
      </div>
    );
  }
  if (auth.status === 'out') {
    return <SignIn notice={auth.notice} onSignedIn={(session) => setAuth({ status: 'in', session })} />;
  }

  // Admins and viewers operate Tether; a signed-in user only has "My connections".
  const operator = auth.session.role !== 'user';
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="topbar-inner">
          <Link href={listPath()} className="brand" aria-label="Tether: connections">
            <img src="/portal/favicon.svg" alt="" width={24} height={24} />
            <span>Tether</span>
            <span className="brand-sub">Operator portal</span>
          </Link>
          <nav className="topnav" aria-label="Main">
            {operator ? (
              <>
                <Link
                  href={listPath()}
                  aria-current={route.page === 'list' || route.page === 'new_connection' ? 'page' : undefined}
                >
                  Connections
                </Link>
                <Link href={webhooksPath()} aria-current={route.page === 'webhooks' ? 'page' : undefined}>
                  Webhooks
                </Link>
              </>
            ) : (
              <Link href={listPath()} aria-current={route.page === 'list' ? 'page' : undefined}>
                My connections
              </Link>
            )}
          </nav>
          <div className="whoami">
            <span className="muted">
              {auth.session.key_id ? (
                <>
                  Signed in with key <strong className="key-id">{auth.session.key_id}</strong>
                </>
              ) : (
                <>
                  Signed in as <strong className="user-name">{auth.session.name}</strong>
                </>
              )}{' '}
              <span className="role-badge" data-role={auth.session.role}>
                {auth.session.role}
              </span>
            </span>
            <button type="button" className="button button-quiet" onClick={doSignOut}>
              Sign out
            </button>
          </div>
        </div>
      </header>
      <main id="main" className="content">
        {signOutError && (
          <Notice tone="error" title="Sign-out failed" onDismiss={() => setSignOutError(null)}>
            {signOutError}
          </Notice>
        )}
        {!operator && route.page !== 'not_found' && <MyConnections />}
        {operator && route.page === 'list' && <ConnectionList />}
        {operator && route.page === 'connection' && (
          <ConnectionPage key={`${route.kind}/${route.name}`} kind={route.kind} name={route.name} />
        )}
        {operator && route.page === 'new_connection' && <ConnectionFormPage />}
        {operator && route.page === 'edit_connection' && (
          <ConnectionFormPage key={`edit:${route.kind}/${route.name}`} kind={route.kind} name={route.name} />
        )}
        {operator && route.page === 'webhooks' && <WebhooksPage />}
        {route.page === 'not_found' && (
          <div className="card">
            <EmptyState title="This page does not exist" action={<Link className="button" href={listPath()}>Go to connections</Link>}>
              The portal has no page at this address.
            </EmptyState>
          </div>
        )}
      </main>
    </>
  );
}
