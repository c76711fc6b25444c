import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { useState, type FormEvent } from 'react';
import { useLocation } from 'wouter';
import type { Tenant } from '../../../src/client/index.js';
import { asProblem, fieldMessage } from '../problems.js';
import { useSignedIn } from '../session.js';
import { Alert, DataTable, Field, PageTitle, formatTime } from '../ui.js';

export function TenantsPage() {
  const { client, tenant: current, setTenant } = useSignedIn();
  const queries = useQueryClient();
  const [, navigate] = useLocation();
  const [form, setForm] = useState({ id: '', name: '', seatLimit: '' });
  const tenants = useQuery({
    queryKey: ['tenants'],
    queryFn: async () => {
      const { data, error, response } = await client.GET('/v1/tenants');
      if (error) throw asProblem(error, response.status);
      return data.tenants;
    },
  });
  const create = useMutation({
    mutationFn: async () => {
      const { data, error, response } = await client.POST('/v1/tenants', {
        body: { id: form.id.trim(), ...(form.name.trim() && { name: form.name.trim() }), ...(form.seatLimit.trim() && { seatLimit: Number(form.seatLimit) }) },
      });
      if (error) throw asProblem(error, response.status);
      return data;
    },
    onSuccess: () => {
      setForm({ id: '', name: '', seatLimit: '' });
      void queries.invalidateQueries({ queryKey: ['tenants'] });
    },
  });
  const switchTo = (id: string) => {
    queries.clear();
    setTenant(id);
    navigate('/users');
  };
  const column = createColumnHelper<Tenant>();
  const columns = [
    column.accessor('id', { header: 'Tenant', cell: (c) => <code>{c.getValue()}</code> }),
    column.accessor('name', { header: 'Name' }),
    column.accessor((t) => `${t.seatsUsed} of ${t.seatLimit ?? '∞'}`, { id: 'seats', header: 'Seats' }),
    column.accessor('createdAt', { header: 'Created', cell: (c) => formatTime(c.getValue()) }),
    column.display({
      id: 'switch',
      header: 'Actions',
      cell: (c) =>
        c.row.original.id === current ? (
          'Current'
        ) : (
          <button type="button" onClick={() => switchTo(c.row.original.id)}>
            Work in {c.row.original.id}
          </button>
        ),
    }),
  ];
  const problem = create.error ? asProblem(create.error) : null;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  const set = (key: keyof typeof form) => (e: { target: HTMLInputElement }) => setForm({ ...form, [key]: e.target.value });
  return (
    <>
      <PageTitle>Tenants</PageTitle>
      <form onSubmit={submit} aria-label="New tenant" className="inline-form" noValidate>
        <Field label="Tenant id" required value={form.id} onChange={set('id')} error={fieldMessage(problem, 'id')} hint="Lowercase letters, digits and dashes." />
        <Field label="Tenant name" value={form.name} onChange={set('name')} error={fieldMessage(problem, 'name')} />
        <Field label="Seat limit" type="number" min={0} value={form.seatLimit} onChange={set('seatLimit')} error={fieldMessage(problem, 'seatLimit')} />
        <button type="submit" className="primary" disabled={create.isPending || !form.id.trim()}>
          Create tenant
        </button>
      </form>
      {problem && !problem.errors.length && <Alert>{problem.detail}</Alert>}
      {tenants.error && <Alert>{asProblem(tenants.error).detail}</Alert>}
      <DataTable caption="Tenants" rows={tenants.data ?? []} columns={columns} />
    </>
  );
}
