import { useQuery } from '@tanstack/react-query';
import type { User } from '../../src/client/index.js';
import { asProblem, fieldMessage } from './problems.js';
import type { Problem } from '../../src/client/index.js';
import { useSignedIn } from './session.js';
import { Field, Select } from './ui.js';

export type Access = User['access'];
type AccessField = keyof Access;

const CATALOGS: { field: AccessField; kind: 'departments' | 'locations' | 'program-admin-roles'; label: string }[] = [
  { field: 'departmentId', kind: 'departments', label: 'Department' },
  { field: 'locationId', kind: 'locations', label: 'Location' },
  { field: 'programAdminRoleId', kind: 'program-admin-roles', label: 'Program-admin role' },
];

function CodeChoice({ field, kind, label, value, onChange, error, disabled }: (typeof CATALOGS)[number] & { value: string; onChange: (code: string) => void; error?: string | undefined; disabled?: boolean }) {
  const { client, tenant, can } = useSignedIn();
  const codes = useQuery({
    queryKey: ['catalog', tenant, kind],
    enabled: can('tenant-admin'),
    queryFn: async () => {
      const { data, error: problem, response } = await client.GET(`/v1/tenants/{tenant}/${kind}`, { params: { path: { tenant } } });
      if (problem) throw asProblem(problem, response.status);
      return Object.values(data).find(Array.isArray) as { code: string; name?: string | null }[];
    },
  });
  // A key that may not list the catalog (a user manager) types the code.
  if (!can('tenant-admin') || codes.isError) {
    return <Field label={label} value={value} disabled={disabled} onChange={(e) => onChange(e.target.value)} error={error} hint="A code from the tenant's catalog." name={field} />;
  }
  const options = [{ value: '', label: 'None' }, ...(codes.data ?? []).map((c) => ({ value: c.code, label: c.name ? `${c.name} (${c.code})` : c.code }))];
  if (value && !options.some((o) => o.value === value)) options.push({ value, label: value });
  return <Select label={label} value={value} disabled={disabled} onChange={(e) => onChange(e.target.value)} options={options} />;
}

/** The user's `access` codes, each chosen from its catalog. */
export function AccessPicker({ value, onChange, problem, disabled }: { value: Access; onChange: (access: Access) => void; problem: Problem | null; disabled?: boolean }) {
  return (
    <>
      {CATALOGS.map((c) => (
        <CodeChoice
          key={c.field}
          {...c}
          value={value[c.field] ?? ''}
          disabled={disabled}
          error={fieldMessage(problem, c.field)}
          onChange={(code) => {
            const next: Access = { ...value };
            if (code) next[c.field] = code;
            else delete next[c.field];
            onChange(next);
          }}
        />
      ))}
    </>
  );
}
