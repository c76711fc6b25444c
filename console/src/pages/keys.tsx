import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { useId, useRef, useState, type FormEvent } from 'react';
import type { ApiKey, IssuedApiKey } from '../../../src/client/index.js';
import { asProblem, fieldMessage } from '../problems.js';
import { useSignedIn, type Role } from '../session.js';
import { Alert, ConfirmButton, DataTable, Field, PageTitle, Select, formatTime } from '../ui.js';

const ROLES: Role[] = ['reader', 'user-manager', 'tenant-admin'];

/** The token, shown once: selectable, with a copy button (the clipboard API needs HTTPS; the fallback does not). */
function OnceToken({ issued, onDone }: { issued: IssuedApiKey; onDone: () => void }) {
  const ref = useRef<HTMLInputElement>(null);
  const id = useId();
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(issued.token);
    } catch {
      ref.current?.select();
      document.execCommand('copy');
    }
    setCopied(true);
  };
  return (
    <section className="card once" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Key “{issued.name}” issued</h2>
      <p>Copy its token now: Muster stores only a hash and will not show it again.</p>
      <div className="field">
        <label htmlFor={id}>Token</label>
        <div className="inline">
          <input id={id} ref={ref} readOnly value={issued.token} onFocus={(e) => e.target.select()} />
          <button type="button" onClick={() => void copy()}>
            Copy token
          </button>
        </div>
      </div>
      <p role="status">{copied ? 'Copied to the clipboard.' : ''}</p>
      <button type="button" onClick={onDone}>
        I have stored it
      </button>
    </section>
  );
}

export function KeysPage() {
  const { client, tenant } = useSignedIn();
  const queries = useQueryClient();
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('user-manager');
  const [issued, setIssued] = useState<IssuedApiKey | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const keys = useQuery({
    queryKey: ['keys', tenant],
    queryFn: async () => {
      const { data, error, response } = await client.GET('/v1/tenants/{tenant}/api-keys', { params: { path: { tenant } } });
      if (error) throw asProblem(error, response.status);
      return data.keys;
    },
  });
  const issue = useMutation({
    mutationFn: async () => {
      const { data, error, response } = await client.POST('/v1/tenants/{tenant}/api-keys', { params: { path: { tenant } }, body: { name: name.trim(), role } });
      if (error) throw asProblem(error, response.status);
      return data;
    },
    onMutate: () => setNotice(null),
    onSuccess: (key) => {
      setIssued(key);
      setName('');
      void queries.invalidateQueries({ queryKey: ['keys', tenant] });
    },
  });
  const revoke = useMutation({
    mutationFn: async (key: ApiKey) => {
      const { error, response } = await client.DELETE('/v1/tenants/{tenant}/api-keys/{id}', { params: { path: { tenant, id: key.id } } });
      if (error) throw asProblem(error, response.status);
      return key;
    },
    onSuccess: (key) => {
      setNotice(`Key “${key.name}” revoked.`);
      void queries.invalidateQueries({ queryKey: ['keys', tenant] });
    },
  });

  const column = createColumnHelper<ApiKey>();
  const columns = [
    column.accessor('name', { header: 'Name' }),
    column.accessor('id', { header: 'Key id', cell: (c) => <code>{c.getValue()}</code> }),
    column.accessor('role', { header: 'Role' }),
    column.accessor('createdAt', { header: 'Issued', cell: (c) => formatTime(c.getValue()) }),
    column.accessor('revokedAt', { header: 'Status', cell: (c) => (c.getValue() ? `Revoked ${formatTime(c.getValue())}` : 'Active') }),
    column.display({
      id: 'revoke',
      header: 'Actions',
      cell: (c) => c.row.original.revokedAt ? '—' : <ConfirmButton label={`Revoke ${c.row.original.name}`} question={`Revoke the key “${c.row.original.name}”? Anything using it stops working at once.`} confirmLabel="Revoke" onConfirm={() => revoke.mutate(c.row.original)} />,
    }),
  ];
  const problem = issue.error ? asProblem(issue.error) : null;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    issue.mutate();
  };
  return (
    <>
      <PageTitle>API keys</PageTitle>
      {issued && (
        <OnceToken
          issued={issued}
          onDone={() => {
            // Forget the token everywhere the page held it.
            setIssued(null);
            issue.reset();
          }}
        />
      )}
      <form onSubmit={submit} aria-label="Issue an API key" className="inline-form">
        <Field label="Key name" required value={name} onChange={(e) => setName(e.target.value)} error={fieldMessage(problem, 'name')} />
        <Select label="Key role" value={role} onChange={(e) => setRole(e.target.value as Role)} options={ROLES} />
        <button type="submit" className="primary" disabled={issue.isPending || name.trim() === ''}>
          Issue key
        </button>
      </form>
      {problem && !fieldMessage(problem, 'name') && <Alert>{problem.detail}</Alert>}
      {revoke.error && <Alert>{asProblem(revoke.error).detail}</Alert>}
      {notice && <Alert kind="success">{notice}</Alert>}
      {keys.error && <Alert>{asProblem(keys.error).detail}</Alert>}
      <DataTable caption={`API keys of ${tenant}`} rows={keys.data ?? []} columns={columns} empty="No keys." />
    </>
  );
}
