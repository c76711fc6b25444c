import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { useState, type FormEvent } from 'react';
import { asProblem, fieldMessage } from '../problems.js';
import { useSignedIn } from '../session.js';
import { Alert, ConfirmButton, DataTable, Field, PageTitle } from '../ui.js';

interface RoleRow {
  name: string;
  description?: string | null;
  admin: boolean;
}

function RolesSection() {
  const { client, tenant, can } = useSignedIn();
  const queries = useQueryClient();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [admin, setAdmin] = useState(false);
  const roles = useQuery({
    queryKey: ['roles', tenant],
    queryFn: async () => {
      const { data, error, response } = await client.GET('/v1/tenants/{tenant}/roles', { params: { path: { tenant } } });
      if (error) throw asProblem(error, response.status);
      return data.roles as RoleRow[];
    },
  });
  const save = useMutation({
    mutationFn: async () => {
      const { error, response } = await client.PUT('/v1/tenants/{tenant}/roles/{name}', {
        params: { path: { tenant, name: name.trim() } },
        body: { ...(description.trim() && { description: description.trim() }), ...(admin && { admin: true }) },
      });
      if (error) throw asProblem(error, response.status);
    },
    onSuccess: () => {
      setName('');
      setDescription('');
      setAdmin(false);
      void queries.invalidateQueries({ queryKey: ['roles', tenant] });
    },
  });
  const remove = useMutation({
    mutationFn: async (role: string) => {
      const { error, response } = await client.DELETE('/v1/tenants/{tenant}/roles/{name}', { params: { path: { tenant, name: role } } });
      if (error) throw asProblem(error, response.status);
    },
    onSuccess: () => void queries.invalidateQueries({ queryKey: ['roles', tenant] }),
  });
  const column = createColumnHelper<RoleRow>();
  const columns = [
    column.accessor('name', { header: 'Role' }),
    column.accessor('description', { header: 'Description', cell: (c) => c.getValue() || '—' }),
    column.accessor('admin', { header: 'Admin', cell: (c) => (c.getValue() ? 'Yes' : 'No') }),
    column.display({ id: 'delete', header: 'Actions', cell: (c) => <ConfirmButton label={`Delete role ${c.row.original.name}`} question={`Delete the role “${c.row.original.name}”?`} confirmLabel="Delete" onConfirm={() => remove.mutate(c.row.original.name)} /> }),
  ];
  const problem = save.error ? asProblem(save.error) : null;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  return (
    <section aria-labelledby="roles-title">
      <h2 id="roles-title">Roles</h2>
      <form onSubmit={submit} aria-label="Add or change a role" className="inline-form">
        <Field label="Role name" required value={name} onChange={(e) => setName(e.target.value)} error={fieldMessage(problem, 'name')} />
        <Field label="Role description" value={description} onChange={(e) => setDescription(e.target.value)} />
        {can('global-admin') && <Field label="Admin role" type="checkbox" checked={admin} onChange={(e) => setAdmin(e.target.checked)} />}
        <button type="submit" className="primary" disabled={save.isPending || !name.trim()}>
          Save role
        </button>
      </form>
      {problem && !fieldMessage(problem, 'name') && <Alert>{problem.detail}</Alert>}
      {remove.error && <Alert>{asProblem(remove.error).detail}</Alert>}
      <DataTable caption="Roles" rows={roles.data ?? []} columns={columns} empty="No roles yet." />
    </section>
  );
}

const CATALOGS = [
  { kind: 'departments', title: 'Departments' },
  { kind: 'locations', title: 'Locations' },
  { kind: 'program-admin-roles', title: 'Program-admin roles' },
] as const;
type CatalogKind = (typeof CATALOGS)[number]['kind'];

interface CodeRow {
  code: string;
  name?: string | null;
}

function CatalogSection({ kind, title }: { kind: CatalogKind; title: string }) {
  const { client, tenant } = useSignedIn();
  const queries = useQueryClient();
  const [code, setCode] = useState('');
  const [name, setName] = useState('');
  const key = ['catalog', tenant, kind];
  const list = useQuery({
    queryKey: key,
    queryFn: async () => {
      const { data, error, response } = await client.GET(`/v1/tenants/{tenant}/${kind}`, { params: { path: { tenant } } });
      if (error) throw asProblem(error, response.status);
      return Object.values(data).find(Array.isArray) as CodeRow[];
    },
  });
  const save = useMutation({
    mutationFn: async () => {
      const { error, response } = await client.PUT(`/v1/tenants/{tenant}/${kind}/{code}`, { params: { path: { tenant, code: code.trim() } }, body: { ...(name.trim() && { name: name.trim() }) } });
      if (error) throw asProblem(error, response.status);
    },
    onSuccess: () => {
      setCode('');
      setName('');
      void queries.invalidateQueries({ queryKey: key });
    },
  });
  const remove = useMutation({
    mutationFn: async (which: string) => {
      const { error, response } = await client.DELETE(`/v1/tenants/{tenant}/${kind}/{code}`, { params: { path: { tenant, code: which } } });
      if (error) throw asProblem(error, response.status);
    },
    onSuccess: () => void queries.invalidateQueries({ queryKey: key }),
  });
  const column = createColumnHelper<CodeRow>();
  const columns = [
    column.accessor('code', { header: 'Code', cell: (c) => <code>{c.getValue()}</code> }),
    column.accessor('name', { header: 'Name', cell: (c) => c.getValue() || '—' }),
    column.display({ id: 'delete', header: 'Actions', cell: (c) => <ConfirmButton label={`Delete ${c.row.original.code}`} question={`Delete “${c.row.original.code}” from ${title.toLowerCase()}?`} confirmLabel="Delete" onConfirm={() => remove.mutate(c.row.original.code)} /> }),
  ];
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  const singular = title.replace(/s$/, '').toLowerCase();
  return (
    <section aria-labelledby={`${kind}-title`}>
      <h2 id={`${kind}-title`}>{title}</h2>
      <form onSubmit={submit} aria-label={`Add ${singular}`} className="inline-form">
        <Field label={`${title.replace(/s$/, '')} code`} required value={code} onChange={(e) => setCode(e.target.value)} />
        <Field label={`${title.replace(/s$/, '')} name`} value={name} onChange={(e) => setName(e.target.value)} />
        <button type="submit" className="primary" disabled={save.isPending || !code.trim()}>
          Save {singular}
        </button>
      </form>
      {save.error && <Alert>{asProblem(save.error).detail}</Alert>}
      {remove.error && <Alert>{asProblem(remove.error).detail}</Alert>}
      <DataTable caption={title} rows={list.data ?? []} columns={columns} empty="No codes yet." />
    </section>
  );
}

export function CatalogsPage() {
  return (
    <>
      <PageTitle>Roles &amp; catalogs</PageTitle>
      <RolesSection />
      {CATALOGS.map((c) => (
        <CatalogSection key={c.kind} kind={c.kind} title={c.title} />
      ))}
    </>
  );
}
