// What an operator plans with on a connection's card: the refresh deadline and where it
// comes from, the next planned refresh, the issuer; and the last failed connect attempt
// with what to do about it.

import type { ReactNode } from 'react';
import { TimeFull } from '../components';
import { actorLabel } from '../format';
import type { ConnectFailure, ConsentingAccount, OAuthStatus } from '../types';

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="fact">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function lifetime(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  return `${Math.round(seconds / 60)} min`;
}

/** Refresh deadline (always, with its source), next planned refresh, issuer. */
export function PlanningFacts({ o, now }: { o: OAuthStatus; now: number }) {
  const held = o.has_token;
  const source =
    o.refresh_deadline_source === 'idp'
      ? 'disclosed by the identity provider'
      : o.refresh_deadline_source === 'refresh_max_lifetime'
        ? `refresh_max_lifetime (${lifetime(o.refresh_max_lifetime_s ?? 0)} after sign-in)`
        : '';
  return (
    <>
      {held && (
        <Fact label="Refresh deadline">
          <span data-fact="refresh-deadline">
            <TimeFull value={o.refresh_deadline} now={now} empty="none: the IdP disclosed no expiry and no refresh_max_lifetime is set" />
          </span>
          {source && <span className="muted"> · {source}</span>}
        </Fact>
      )}
      {held && (
        <Fact label="Next planned refresh">
          <span data-fact="next-refresh">
            <TimeFull
              value={o.next_refresh_at}
              now={now}
              empty={o.has_refresh_token ? 'on the next call or keeper run' : 'none: no refresh token'}
            />
          </span>
        </Fact>
      )}
      {o.issuer && (
        <Fact label="Issuer">
          <span className="mono" data-fact="issuer">
            {o.issuer}
          </span>
        </Fact>
      )}
    </>
  );
}

/** The upstream account that consented at the IdP (the ID token's claims at connect), beside
 * the admin who started the flow. Unverified claims: shown, never trusted. */
export function ConsentingAccountFact({ account }: { account: ConsentingAccount | null }) {
  const who = account ? [account.name, account.email].filter(Boolean).join(' · ') : '';
  return (
    <Fact label="Upstream account">
      {account ? (
        <span data-fact="consenting-account">
          {who || <span className="mono">{account.subject}</span>}
          {who && account.subject && <span className="muted mono"> · sub {account.subject}</span>}
          <span className="muted"> · as the identity provider’s ID token named it</span>
        </span>
      ) : (
        <span className="muted" data-fact="consenting-account">
          not known: the identity provider sent no ID token (ask for the openid scope to see it)
        </span>
      )}
    </Fact>
  );
}

/** What to do about a failed connect attempt, from Tether's reason and the IdP's code. */
export function connectFailureAdvice(f: ConnectFailure): string {
  const code = f.idp_error || f.reason;
  switch (code) {
    case 'invalid_client':
      return 'Check auth.client_id and auth.client_secret in Tether’s configuration (the IdP rejected the client), reload Tether, then Connect again.';
    case 'unauthorized_client':
      return 'Allow this client the authorization-code grant at the identity provider, then Connect again.';
    case 'access_denied':
      return 'The person signing in did not approve. If that was a mistake, Connect again and approve.';
    case 'invalid_scope':
      return 'Check the configured scopes against what the identity provider offers, then Connect again.';
    case 'iss_mismatch':
    case 'iss_missing':
      return 'The answer did not come from the configured issuer: check auth.issuer, then Connect again.';
    default:
      return 'Connect again; if it fails the same way, check the connection’s OAuth settings and Tether’s log.';
  }
}

export function ConnectFailureNote({ f, now }: { f: ConnectFailure; now: number }) {
  return (
    <div className="connect-failure" data-connect-failure={f.idp_error || f.reason}>
      <p>
        The last connect attempt failed <TimeFull value={f.at} now={now} />
        {f.actor && <span className="muted"> · started by {actorLabel(f.actor)}</span>}:{' '}
        {f.idp_error ? (
          <>
            the identity provider answered <code>{f.idp_error}</code>
          </>
        ) : (
          <code>{f.reason}</code>
        )}
        .
      </p>
      <p>
        <strong>What to do:</strong> {connectFailureAdvice(f)}
      </p>
    </div>
  );
}
