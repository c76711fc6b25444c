import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { useState } from 'react';
import type { paths } from '../../../src/client/index.js';
import { asProblem } from '../problems.js';
import { useSignedIn } from '../session.js';
import { Alert, DataTable, PageTitle, Select, formatTime } from '../ui.js';

type MessagesQuery = NonNullable<paths['/v1/tenants/{tenant}/messages']['get']['parameters']['query']>;
type Message = paths['/v1/tenants/{tenant}/messages']['get']['responses'][200]['content']['application/json']['messages'][number];
type Status = NonNullable<MessagesQuery['status']>;
const STATUSES: Status[] = ['pending', 'sent', 'failed'] as Status[];

const column = createColumnHelper<Message>();
const columns = [
  column.accessor('createdAt', { header: 'Written', cell: (c) => formatTime(c.getValue()) }),
  column.accessor('to', { header: 'To' }),
  column.accessor('kind', { header: 'Kind' }),
  column.accessor('subject', { header: 'Subject' }),
  column.accessor('status', { header: 'Status' }),
  column.accessor('attempts', { header: 'Attempts' }),
  column.accessor('lastError', { header: 'Last error', cell: (c) => c.getValue() ?? '—' }),
  column.accessor('sentAt', { header: 'Sent', cell: (c) => formatTime(c.getValue()) }),
];

export function OutboxPage() {
  const { client, tenant } = useSignedIn();
  const [status, setStatus] = useState<Status | ''>('');
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const messages = useQuery({
    queryKey: ['outbox', tenant, status, cursor],
    placeholderData: keepPreviousData,
    queryFn: async () => {
      const { data, error, response } = await client.GET('/v1/tenants/{tenant}/messages', {
        params: { path: { tenant }, query: { limit: 50, ...(status && { status }), ...(cursor && { cursor }) } },
      });
      if (error) throw asProblem(error, response.status);
      return data;
    },
  });
  return (
    <>
      <PageTitle>Email outbox</PageTitle>
      <div className="filters">
        <Select
          label="Status"
          value={status}
          onChange={(e) => {
            setCursors([undefined]);
            setStatus(e.target.value as Status | '');
          }}
          options={[{ value: '', label: 'Any status' }, ...STATUSES]}
        />
      </div>
      {messages.error && <Alert>{asProblem(messages.error).detail}</Alert>}
      <DataTable caption="Messages, newest first" rows={messages.data?.messages ?? []} columns={columns} empty="No messages." />
      <div className="pager">
        <button type="button" disabled={cursors.length <= 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
          Previous page
        </button>
        <button type="button" disabled={!messages.data?.nextCursor} onClick={() => messages.data?.nextCursor && setCursors((c) => [...c, messages.data!.nextCursor!])}>
          Next page
        </button>
      </div>
    </>
  );
}
