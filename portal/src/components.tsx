// Small building blocks shared by the pages.

import { useId, type AnchorHTMLAttributes, type ReactNode, type MouseEvent } from 'react';
import { adviceFor, formatAbsolute, formatRelative, parseTime } from './format';
import { navigate } from './router';
import type { ConnectionState } from './types';

/** An in-app link: a real <a href> (keyboard, middle-click, copy link) that navigates without a reload. */
export function Link({ href, onClick, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const handle = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
  return <a href={href} onClick={handle} {...rest} />;
}

/** A time shown relative to now, with the exact local time on hover. */
export function Time({ value, now, empty = '—' }: { value: string | null | undefined; now: number; empty?: string }) {
  const d = parseTime(value);
  if (!d) return <span className="muted">{empty}</span>;
  return (
    <time dateTime={d.toISOString()} title={formatAbsolute(d)}>
      {formatRelative(d, now)}
    </time>
  );
}

/** Relative and absolute together, for facts an operator may want to quote. */
export function TimeFull({ value, now, empty = '—' }: { value: string | null | undefined; now: number; empty?: string }) {
  const d = parseTime(value);
  if (!d) return <span className="muted">{empty}</span>;
  return (
    <time dateTime={d.toISOString()}>
      {formatRelative(d, now)} <span className="muted">· {formatAbsolute(d)}</span>
    </time>
  );
}

/**
 * The health badge: red "reauth" when the connection needs re-authorization, red "fix client
 * credentials" when the IdP rejected Tether's client (the grant is kept), amber "refresh
 * failing" while refreshes fail transiently, nothing otherwise. Its tooltip (hover or
 * keyboard focus) names the IdP's error code and says what to do. With `fixHref`, a
 * client-fix badge carries a direct "Edit client secret" action.
 */
export function HealthBadge({
  state,
  idpErrorCode,
  href,
  fixHref,
}: {
  state: ConnectionState;
  idpErrorCode: string | null | undefined;
  href?: string;
  fixHref?: string;
}) {
  const tipId = useId();
  if (state !== 'needs_reauth' && state !== 'refresh_failing' && state !== 'needs_client_fix') return null;
  const clientFix = state === 'needs_client_fix';
  const red = state === 'needs_reauth' || clientFix;
  const code = (idpErrorCode ?? '').trim();
  const label = clientFix ? 'fix client credentials' : red ? 'reauth' : 'refresh failing';
  const headline = clientFix
    ? 'The IdP rejected Tether’s client credentials'
    : red
      ? 'Needs re-authorization'
      : 'Refreshes are failing; Tether keeps retrying';
  const content = (
    <>
      <span className="badge-dot" aria-hidden="true" />
      {label}
    </>
  );
  const tooltip = (
    <span role="tooltip" id={tipId} className="tooltip">
      <strong>{headline}</strong>
      <span className="tooltip-line">
        IdP error: <code>{code || 'none reported'}</code>
      </span>
      <span className="tooltip-line">What to do: {adviceFor(state, code)}</span>
    </span>
  );
  const className = `badge ${red ? 'badge-red' : 'badge-amber'}`;
  return (
    <span className="badge-wrap" data-badge={clientFix ? 'client-fix' : red ? 'reauth' : 'refresh-failing'}>
      {href ? (
        <Link href={href} className={className} aria-describedby={tipId}>
          {content}
        </Link>
      ) : (
        <span className={className} tabIndex={0} aria-describedby={tipId}>
          {content}
        </span>
      )}
      {tooltip}
      {clientFix && fixHref && (
        <Link href={fixHref} className="badge-action" data-action="edit-client-secret">
          Edit client secret
        </Link>
      )}
    </span>
  );
}

export function Spinner({ label = 'Loading' }: { label?: string }) {
  return <span className="spinner" role="status" aria-label={label} />;
}

export type NoticeTone = 'info' | 'success' | 'warn' | 'error';

export function Notice({
  tone,
  title,
  children,
  onDismiss,
  action,
}: {
  tone: NoticeTone;
  title?: ReactNode;
  children?: ReactNode;
  onDismiss?: () => void;
  action?: ReactNode;
}) {
  return (
    <div className={`notice notice-${tone}`} role={tone === 'error' ? 'alert' : 'status'}>
      <div className="notice-body">
        {title && <p className="notice-title">{title}</p>}
        {children && <div className="notice-text">{children}</div>}
      </div>
      {action}
      {onDismiss && (
        <button type="button" className="notice-close" onClick={onDismiss} aria-label="Dismiss">
          ×
        </button>
      )}
    </div>
  );
}

export function EmptyState({ title, children, action }: { title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children && <div className="empty-text">{children}</div>}
      {action && <div className="empty-action">{action}</div>}
    </div>
  );
}
