// The connection form's model: what the operator types, turned into one `connections:` entry
// (the admin API's body) and back, and which form field an API error names. Tether validates
// the entry with the configuration file's own parser; the portal checks only what it must
// to build the JSON (extra parameter lines). Pure functions.

import type { ConnectionEntry, EntryAuth } from './types';

export type AuthMode = EntryAuth['mode'];

export interface ConnectionForm {
  kind: string;
  name: string;
  url: string;
  mode: AuthMode;
  token: string;
  header: string;
  key: string;
  grant: 'authorization_code' | 'client_credentials';
  /** OAuth endpoints from the issuer's metadata, or given one by one. */
  endpoints: 'issuer' | 'explicit';
  issuer: string;
  authorization_url: string;
  token_url: string;
  client_id: string;
  client_secret: string;
  client_auth: string;
  scopes: string;
  /** One `name=value` per line. */
  extra_params: string;
  resource_indicator: boolean;
  refresh_max_lifetime: string;
  ca_bundle: string;
}

/** The write-only fields: empty while editing means "keep the stored value". */
export const SECRET_FIELDS = ['auth.token', 'auth.key', 'auth.client_secret'] as const;

/** Every field the form shows, by its configuration key path (the API's `field`). */
export const FORM_FIELDS = [
  'kind',
  'name',
  'url',
  'auth.mode',
  'auth.token',
  'auth.header',
  'auth.key',
  'auth.grant',
  'auth.issuer',
  'auth.authorization_url',
  'auth.token_url',
  'auth.client_id',
  'auth.client_secret',
  'auth.client_auth',
  'auth.scopes',
  'auth.extra_params',
  'auth.resource_indicator',
  'auth.refresh_max_lifetime',
  'auth.ca_bundle',
] as const;
export type FormField = (typeof FORM_FIELDS)[number];

export function emptyForm(): ConnectionForm {
  return {
    kind: 'mcp',
    name: '',
    url: '',
    mode: 'oauth',
    token: '',
    header: '',
    key: '',
    grant: 'authorization_code',
    endpoints: 'issuer',
    issuer: '',
    authorization_url: '',
    token_url: '',
    client_id: '',
    client_secret: '',
    client_auth: '',
    scopes: '',
    extra_params: '',
    resource_indicator: true,
    refresh_max_lifetime: '',
    ca_bundle: '',
  };
}

/** A stored entry as the edit form starts (secrets empty: "leave empty to keep"). */
export function formFromEntry(entry: ConnectionEntry): ConnectionForm {
  const a = entry.auth ?? { mode: 'none' as const };
  const f = emptyForm();
  f.kind = entry.kind;
  f.name = entry.name;
  f.url = entry.url ?? '';
  f.mode = a.mode ?? 'none';
  f.header = a.header ?? '';
  f.grant = a.grant ?? 'authorization_code';
  f.issuer = a.issuer ?? '';
  f.authorization_url = a.authorization_url ?? '';
  f.token_url = a.token_url ?? '';
  f.endpoints = !f.issuer && (f.authorization_url || f.token_url) ? 'explicit' : 'issuer';
  f.client_id = a.client_id ?? '';
  f.client_auth = a.client_auth ?? '';
  f.scopes = a.scopes ?? '';
  f.extra_params = Object.entries(a.extra_params ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
  f.resource_indicator = a.resource_indicator ?? true;
  f.refresh_max_lifetime = a.refresh_max_lifetime ?? '';
  f.ca_bundle = a.ca_bundle ?? '';
  return f;
}

/** Which write-only secrets the stored entry holds ("set" in the API's answer). */
export function secretsSet(entry: ConnectionEntry | undefined): Partial<Record<FormField, boolean>> {
  const a = entry?.auth;
  return {
    'auth.token': a?.token === 'set',
    'auth.key': a?.key === 'set',
    'auth.client_secret': a?.client_secret === 'set',
  };
}

export type EntryResult = { entry: ConnectionEntry } | { field: FormField; message: string };

/**
 * The entry for the API. Empty optional fields and empty secrets are left out (an edit keeps
 * a secret left empty as stored).
 */
export function entryFromForm(f: ConnectionForm): EntryResult {
  const put = (o: Record<string, unknown>, k: string, v: string) => {
    const t = v.trim();
    if (t) o[k] = t;
  };
  const auth: Record<string, unknown> = { mode: f.mode };
  // Secrets go verbatim (a space may be part of one); empty ones are left out: on a create
  // Tether then says which is missing, on an edit it keeps the stored value.
  const secret = (k: string, v: string) => {
    if (v !== '') auth[k] = v;
  };
  if (f.mode === 'bearer') secret('token', f.token);
  if (f.mode === 'api_key') {
    put(auth, 'header', f.header);
    secret('key', f.key);
  }
  if (f.mode === 'oauth') {
    auth.grant = f.grant;
    if (f.endpoints === 'issuer') {
      put(auth, 'issuer', f.issuer);
    } else {
      if (f.grant === 'authorization_code') put(auth, 'authorization_url', f.authorization_url);
      put(auth, 'token_url', f.token_url);
    }
    put(auth, 'client_id', f.client_id);
    secret('client_secret', f.client_secret);
    put(auth, 'client_auth', f.client_auth);
    if (f.scopes.trim()) auth.scopes = f.scopes.trim();
    const extra: Record<string, string> = {};
    const lines = f.extra_params.split('\n').map((l) => l.trim()).filter(Boolean);
    for (const line of lines) {
      const eq = line.indexOf('=');
      if (eq <= 0) {
        return { field: 'auth.extra_params', message: `write each parameter as name=value (got “${line.slice(0, 40)}”)` };
      }
      extra[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
    }
    if (lines.length > 0) auth.extra_params = extra;
    if (!f.resource_indicator) auth.resource_indicator = false;
    put(auth, 'refresh_max_lifetime', f.refresh_max_lifetime);
    put(auth, 'ca_bundle', f.ca_bundle);
  }
  const entry: ConnectionEntry = { kind: f.kind, name: f.name.trim(), url: f.url.trim(), auth: auth as unknown as EntryAuth };
  return { entry };
}

/**
 * The form field an API error is about. Tether names the configuration key path, possibly
 * inside a file ("connections[0].auth.grant") or deeper than the form ("auth.extra_params.prompt").
 */
export function formFieldOf(apiField: string | null | undefined): FormField | null {
  if (!apiField) return null;
  const path = apiField.replace(/^connections\[\d+\]\.?/, '');
  let best: FormField | null = null;
  for (const f of FORM_FIELDS) {
    if ((path === f || path.startsWith(`${f}.`) || path.startsWith(`${f}[`)) && (!best || f.length > best.length)) best = f;
  }
  if (!best && path.startsWith('auth')) return 'auth.mode';
  return best;
}
