// The list's search box (debounced; Tether searches), the per-state counts that act as
// state filters, the kind and auth filters, and the pager.

import { useEffect, useId, useRef, useState } from 'react';
import type { ConnectionState, ListParams, ListSort, ListStateFilter } from '../types';
import './list.css';

/** How long typing pauses before the search is sent. */
export const SEARCH_DEBOUNCE_MS = 150;

const STATE_BUTTONS: { state: ConnectionState; label: string; tone: string }[] = [
  { state: 'needs_reauth', label: 'Needs re-authorization', tone: 'bad' },
  { state: 'needs_client_fix', label: 'Fix client credentials', tone: 'bad' },
  { state: 'refresh_failing', label: 'Refresh failing', tone: 'warn' },
  { state: 'not_connected', label: 'Not connected', tone: 'idle' },
  { state: 'connected', label: 'Connected', tone: 'ok' },
  { state: 'not_applicable', label: 'Static credentials', tone: 'idle' },
];

export function SearchBox({ value, onChange }: { value: string; onChange: (q: string) => void }) {
  const [text, setText] = useState(value);
  const id = useId();
  const timer = useRef<number | undefined>(undefined);
  useEffect(() => setText(value), [value]);
  useEffect(() => () => window.clearTimeout(timer.current), []);
  return (
    <div className="field field-search">
      <label htmlFor={id}>Search</label>
      <input
        id={id}
        type="search"
        value={text}
        placeholder="Name or upstream host"
        autoComplete="off"
        spellCheck={false}
        maxLength={200}
        onChange={(e) => {
          const next = e.target.value;
          setText(next);
          window.clearTimeout(timer.current);
          timer.current = window.setTimeout(() => onChange(next.trim()), SEARCH_DEBOUNCE_MS);
        }}
      />
    </div>
  );
}

export function StateCounts({
  counts,
  active,
  onSelect,
}: {
  counts: Record<ConnectionState, number> | null;
  active: '' | ListStateFilter;
  onSelect: (state: '' | ListStateFilter) => void;
}) {
  if (!counts) return null;
  const all = Object.values(counts).reduce((a, b) => a + b, 0);
  return (
    <div className="state-counts" role="group" aria-label="Filter by state">
      <button type="button" className="count-chip" aria-pressed={active === ''} onClick={() => onSelect('')}>
        All <strong>{all}</strong>
      </button>
      {STATE_BUTTONS.map(({ state, label, tone }) => (
        <button
          key={state}
          type="button"
          className={`count-chip count-${tone}`}
          data-state-filter={state}
          aria-pressed={active === state}
          onClick={() => onSelect(active === state ? '' : state)}
        >
          <span className={`dot dot-${tone}`} aria-hidden="true" />
          {label} <strong>{counts[state] ?? 0}</strong>
        </button>
      ))}
    </div>
  );
}

export function Filters({ params, onChange }: { params: ListParams; onChange: (p: Partial<ListParams>) => void }) {
  const kindId = useId();
  const authId = useId();
  const sortId = useId();
  return (
    <>
      <div className="field">
        <label htmlFor={sortId}>Sort</label>
        <select id={sortId} value={params.sort ?? ''} onChange={(e) => onChange({ sort: e.target.value as ListSort })}>
          <option value="">Most urgent first</option>
          <option value="name">Name</option>
          <option value="last_used">Most recently used</option>
        </select>
      </div>
      <div className="field">
        <label htmlFor={kindId}>Kind</label>
        <select id={kindId} value={params.kind} onChange={(e) => onChange({ kind: e.target.value })}>
          <option value="">All kinds</option>
          <option value="mcp">MCP server</option>
          <option value="api">HTTP API</option>
        </select>
      </div>
      <div className="field">
        <label htmlFor={authId}>Auth</label>
        <select id={authId} value={params.auth} onChange={(e) => onChange({ auth: e.target.value })}>
          <option value="">All auth modes</option>
          <option value="oauth">OAuth</option>
          <option value="bearer">Bearer token</option>
          <option value="api_key">API key</option>
          <option value="none">None</option>
        </select>
      </div>
    </>
  );
}

export function Pager({
  offset,
  limit,
  total,
  shown,
  onOffset,
}: {
  offset: number;
  limit: number;
  total: number;
  shown: number;
  onOffset: (offset: number) => void;
}) {
  if (total <= limit && offset === 0) return null;
  const first = total === 0 ? 0 : offset + 1;
  const last = offset + shown;
  return (
    <nav className="pager" aria-label="Pages">
      <span className="muted" aria-live="polite">
        {first}–{last} of {total}
      </span>
      <button type="button" className="button button-quiet" disabled={offset === 0} onClick={() => onOffset(Math.max(0, offset - limit))}>
        Previous
      </button>
      <button type="button" className="button button-quiet" disabled={last >= total} onClick={() => onOffset(offset + limit)}>
        Next
      </button>
    </nav>
  );
}

/** The list's filters in the address (so a filtered list can be linked to and reloaded). */
export function paramsFromLocation(limit: number): ListParams {
  const s = new URLSearchParams(window.location.search);
  const state = s.get('state') ?? '';
  const sort = s.get('sort') ?? '';
  const offset = Number.parseInt(s.get('offset') ?? '0', 10);
  return {
    q: s.get('q') ?? '',
    kind: s.get('kind') ?? '',
    auth: s.get('auth') ?? '',
    state: state as ListParams['state'],
    sort: sort === 'name' || sort === 'last_used' ? sort : '',
    offset: Number.isFinite(offset) && offset > 0 ? offset : 0,
    limit,
  };
}

export function searchOf(p: Partial<ListParams>): string {
  const s = new URLSearchParams();
  if (p.q) s.set('q', p.q);
  if (p.kind) s.set('kind', p.kind);
  if (p.auth) s.set('auth', p.auth);
  if (p.state) s.set('state', p.state);
  if (p.sort) s.set('sort', p.sort);
  if (p.offset) s.set('offset', String(p.offset));
  const text = s.toString();
  return text ? `?${text}` : '';
}
