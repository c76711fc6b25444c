import { useQuery } from '@tanstack/react-query';
import { useId } from 'react';
import { asProblem } from './problems.js';
import { useSignedIn } from './session.js';
import { Field } from './ui.js';

/**
 * A user's roles: checkboxes of the tenant's roles for a key that may read the role catalog,
 * else a comma-separated field (a user manager may assign roles it cannot list).
 */
export function RolePicker({ value, onChange, error, disabled }: { value: string[]; onChange: (roles: string[]) => void; error?: string | undefined; disabled?: boolean }) {
  const { client, tenant, can } = useSignedIn();
  const id = useId();
  const roles = useQuery({
    queryKey: ['roles', tenant],
    enabled: can('tenant-admin'),
    queryFn: async () => {
      const { data, error: problem, response } = await client.GET('/v1/tenants/{tenant}/roles', { params: { path: { tenant } } });
      if (problem) throw asProblem(problem, response.status);
      return data.roles.map((r) => ({ name: r.name, admin: r.admin }));
    },
  });
  if (!can('tenant-admin') || roles.isError) {
    return (
      <Field
        label="Roles"
        value={value.join(', ')}
        disabled={disabled}
        onChange={(e) =>
          onChange(
            e.target.value
              .split(',')
              .map((s) => s.trim())
              .filter((s, i, all) => s !== '' || i === all.length - 1),
          )
        }
        error={error}
        hint="Role names, separated by commas."
      />
    );
  }
  const names = [...new Set([...(roles.data ?? []).map((r) => r.name), ...value])];
  return (
    <fieldset className="roles" aria-describedby={error ? `${id}-error` : undefined} disabled={disabled}>
      <legend>Roles</legend>
      {roles.isLoading && <p role="status">Loading roles…</p>}
      {roles.data && names.length === 0 && <p className="hint">This tenant has no roles yet (Roles &amp; catalogs).</p>}
      {names.map((name) => {
        const admin = roles.data?.find((r) => r.name === name)?.admin;
        return (
          <Field
            key={name}
            label={admin ? `${name} (admin)` : name}
            type="checkbox"
            checked={value.includes(name)}
            onChange={(e) => onChange(e.target.checked ? [...value, name] : value.filter((r) => r !== name))}
          />
        );
      })}
      {error && (
        <p className="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </fieldset>
  );
}
