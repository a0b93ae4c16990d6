// A small history-API router for the portal's few pages, all under /portal/.

import { useEffect, useState } from 'react';

export const PORTAL_BASE = '/portal';

export type Route =
  | { page: 'list' }
  | { page: 'connection'; kind: string; name: string }
  | { page: 'new_connection' }
  | { page: 'edit_connection'; kind: string; name: string }
  | { page: 'webhooks' }
  | { page: 'not_found'; path: string };

export function parseRoute(pathname: string): Route {
  const path = pathname.replace(/\/+$/, '');
  if (path === PORTAL_BASE || path === `${PORTAL_BASE}/connections`) return { page: 'list' };
  if (path === `${PORTAL_BASE}/webhooks`) return { page: 'webhooks' };
  if (path === `${PORTAL_BASE}/connections/new`) return { page: 'new_connection' };
  const edit = /^\/portal\/connections\/([^/]+)\/([^/]+)\/edit$/.exec(path);
  if (edit) {
    try {
      return { page: 'edit_connection', kind: decodeURIComponent(edit[1]), name: decodeURIComponent(edit[2]) };
    } catch {
      /* a malformed %-escape: not found */
    }
  }
  const m = /^\/portal\/connections\/([^/]+)\/([^/]+)$/.exec(path);
  if (m) {
    try {
      return { page: 'connection', kind: decodeURIComponent(m[1]), name: decodeURIComponent(m[2]) };
    } catch {
      /* a malformed %-escape: not found */
    }
  }
  return { page: 'not_found', path: pathname };
}

export const listPath = () => `${PORTAL_BASE}/`;
export const webhooksPath = () => `${PORTAL_BASE}/webhooks`;
export const connectionPath = (kind: string, name: string) =>
  `${PORTAL_BASE}/connections/${encodeURIComponent(kind)}/${encodeURIComponent(name)}`;

export const newConnectionPath = () => `${PORTAL_BASE}/connections/new`;
/** The edit form; `focus` names a field to start in (e.g. "auth.client_secret"). */
export const editConnectionPath = (kind: string, name: string, focus?: string) =>
  `${connectionPath(kind, name)}/edit${focus ? `#${encodeURIComponent(focus)}` : ''}`;

const NAVIGATE_EVENT = 'tether:navigate';

export function navigate(to: string, replace = false): void {
  if (replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  window.dispatchEvent(new Event(NAVIGATE_EVENT));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.pathname));
  useEffect(() => {
    const update = () => setRoute(parseRoute(window.location.pathname));
    window.addEventListener('popstate', update);
    window.addEventListener(NAVIGATE_EVENT, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(NAVIGATE_EVENT, update);
    };
  }, []);
  return route;
}
