import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { useState, type FormEvent } from 'react';
import type { paths } from '../../../src/client/index.js';
import { asProblem } from '../problems.js';
import { useSignedIn } from '../session.js';
import { Alert, DataTable, Field, PageTitle, Select, formatTime } from '../ui.js';

type AuditQuery = NonNullable<paths['/v1/tenants/{tenant}/audit']['get']['parameters']['query']>;
type AuditEvent = NonNullable<paths['/v1/tenants/{tenant}/audit']['get']['responses'][200]['content']['application/json']>['events'][number];

const ACTIONS: NonNullable<AuditQuery['action']>[] = [
  'user.created',
  'user.updated',
  'user.deleted',
  'tenant.created',
  'tenant.updated',
  'api-key.issued',
  'api-key.revoked',
  'role.created',
  'role.updated',
  'role.deleted',
  'role.members-changed',
];

const column = createColumnHelper<AuditEvent>();
const columns = [
  column.accessor('at', { header: 'When', cell: (c) => formatTime(c.getValue()) }),
  column.accessor('action', { header: 'Action', cell: (c) => <code>{c.getValue()}</code> }),
  column.accessor((e) => `${e.resource.type} ${e.resource.id}`, { id: 'resource', header: 'Resource' }),
  column.accessor((e) => `${e.actor.keyId} (${e.actor.role})`, { id: 'actor', header: 'Actor' }),
  column.accessor('dialect', { header: 'Through', cell: (c) => c.getValue() ?? '—' }),
  column.accessor('detail', { header: 'Detail', cell: (c) => <code className="detail">{JSON.stringify(c.getValue())}</code> }),
];

/** `datetime-local` value (the browser's zone) → ISO instant. */
const instant = (local: string) => (local ? new Date(local).toISOString() : undefined);

export function AuditPage() {
  const { client, tenant } = useSignedIn();
  const [form, setForm] = useState({ actor: '', action: '', resourceId: '', since: '', until: '' });
  const [filters, setFilters] = useState(form);
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const events = useQuery({
    queryKey: ['audit', tenant, filters, cursor],
    placeholderData: keepPreviousData,
    queryFn: async () => {
      const query: AuditQuery = {
        limit: 50,
        ...(filters.actor && { actor: filters.actor }),
        ...(filters.action && { action: filters.action as AuditQuery['action'] }),
        ...(filters.resourceId && { resourceId: filters.resourceId }),
        ...(filters.since && { since: instant(filters.since) }),
        ...(filters.until && { until: instant(filters.until) }),
        ...(cursor && { cursor }),
      };
      const { data, error, response } = await client.GET('/v1/tenants/{tenant}/audit', { params: { path: { tenant }, query } });
      if (error) throw asProblem(error, response.status);
      return data;
    },
  });
  const set = (key: keyof typeof form) => (e: { target: HTMLInputElement | HTMLSelectElement }) => setForm({ ...form, [key]: e.target.value });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setCursors([undefined]);
    setFilters(form);
  };
  return (
    <>
      <PageTitle>Audit log</PageTitle>
      <form onSubmit={submit} aria-label="Filter the audit log" className="filters">
        <Field label="Actor key id" value={form.actor} onChange={set('actor')} />
        <Select label="Action" value={form.action} onChange={set('action')} options={[{ value: '', label: 'Any action' }, ...ACTIONS]} />
        <Field label="User or resource id" value={form.resourceId} onChange={set('resourceId')} />
        <Field label="From" type="datetime-local" value={form.since} onChange={set('since')} />
        <Field label="Until" type="datetime-local" value={form.until} onChange={set('until')} />
        <button type="submit">Apply filters</button>
      </form>
      {events.error && <Alert>{asProblem(events.error).detail}</Alert>}
      <DataTable caption="Audit events, newest first" rows={events.data?.events ?? []} columns={columns} empty="No events match." />
      <div className="pager">
        <button type="button" disabled={cursors.length <= 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
          Previous page
        </button>
        <button type="button" disabled={!events.data?.nextCursor} onClick={() => events.data?.nextCursor && setCursors((c) => [...c, events.data!.nextCursor!])}>
          Next page
        </button>
      </div>
    </>
  );
}
