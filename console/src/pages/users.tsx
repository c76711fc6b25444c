import { createColumnHelper } from '@tanstack/react-table';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link } from 'wouter';
import type { User } from '../../../src/client/index.js';
import { asProblem } from '../problems.js';
import { useSignedIn } from '../session.js';
import { Alert, DataTable, Field, PageTitle, formatTime } from '../ui.js';

const PAGE_SIZE = 50;
const column = createColumnHelper<User>();

export function displayName(user: User): string {
  return user.name?.formatted || [user.name?.givenName, user.name?.familyName].filter(Boolean).join(' ') || '—';
}

const columns = [
  column.accessor((u) => displayName(u), { id: 'name', header: 'Name', cell: (c) => <Link href={`/users/${c.row.original.id}`}>{c.getValue()}</Link> }),
  column.accessor('email', { header: 'Email' }),
  column.accessor('userName', { header: 'User name' }),
  column.accessor('roles', { header: 'Roles', cell: (c) => c.getValue().join(', ') || '—' }),
  column.accessor('lockedOut', { header: 'Locked', cell: (c) => (c.getValue() ? 'Locked' : 'No') }),
  column.accessor('createdAt', { header: 'Created', cell: (c) => formatTime(c.getValue()) }),
];

export function UsersPage() {
  const { client, tenant, can } = useSignedIn();
  const [draft, setDraft] = useState('');
  const [search, setSearch] = useState('');
  // The cursors of the pages before this one, so that "Previous" can go back.
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];

  const users = useQuery({
    queryKey: ['users', tenant, search, cursor],
    placeholderData: keepPreviousData,
    queryFn: async () => {
      const path = { tenant };
      if (search) {
        // The filters are exact after normalisation (case and Unicode forms): ask for both and merge.
        const [byEmail, byName] = await Promise.all([
          client.GET('/v1/tenants/{tenant}/users', { params: { path, query: { email: search, limit: PAGE_SIZE } } }),
          client.GET('/v1/tenants/{tenant}/users', { params: { path, query: { userName: search, limit: PAGE_SIZE } } }),
        ]);
        if (byEmail.error) throw asProblem(byEmail.error, byEmail.response.status);
        const found = new Map<string, User>();
        for (const u of [...byEmail.data.users, ...(byName.data?.users ?? [])]) found.set(u.id, u);
        return { users: [...found.values()], nextCursor: null };
      }
      const { data, error, response } = await client.GET('/v1/tenants/{tenant}/users', { params: { path, query: { limit: PAGE_SIZE, ...(cursor && { cursor }) } } });
      if (error) throw asProblem(error, response.status);
      return data;
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setCursors([undefined]);
    setSearch(draft.trim());
  };

  return (
    <>
      <PageTitle actions={can('user-manager') && <Link href="/users/new" className="button primary">New user</Link>}>Users</PageTitle>
      <form className="search" role="search" onSubmit={submit}>
        <Field label="Search by email or user name" type="search" value={draft} onChange={(e) => setDraft(e.target.value)} hint="Exact match, ignoring case." />
        <button type="submit">Search</button>
        {search && (
          <button
            type="button"
            onClick={() => {
              setDraft('');
              setSearch('');
              setCursors([undefined]);
            }}
          >
            Show all
          </button>
        )}
      </form>
      {users.error && <Alert>{asProblem(users.error).detail}</Alert>}
      <p className="status" role="status">
        {users.isFetching ? 'Loading…' : users.data ? `${users.data.users.length} user${users.data.users.length === 1 ? '' : 's'} on this page` : ''}
      </p>
      <DataTable caption={search ? `Users matching ${search}` : `Users of ${tenant}`} rows={users.data?.users ?? []} columns={columns} empty={search ? 'No user has this email or user name.' : 'No users yet.'} />
      <div className="pager">
        <button type="button" disabled={cursors.length <= 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
          Previous page
        </button>
        <button type="button" disabled={!users.data?.nextCursor} onClick={() => users.data?.nextCursor && setCursors((c) => [...c, users.data!.nextCursor!])}>
          Next page
        </button>
      </div>
    </>
  );
}
