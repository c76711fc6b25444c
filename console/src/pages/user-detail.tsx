import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { Link, useLocation } from 'wouter';
import type { NewUser, Problem, User, UserChanges } from '../../../src/client/index.js';
import { asProblem, fieldMessage, generalMessage } from '../problems.js';
import { useSignedIn } from '../session.js';
import { Alert, ConfirmButton, Field, PageTitle, formatTime, useFocusFirstInvalid } from '../ui.js';
import { AccessPicker, type Access } from '../access-picker.js';
import { RolePicker } from '../role-picker.js';
import { displayName } from './users.js';

const NEW_FIELDS = ['email', 'userName', 'givenName', 'familyName', 'password', 'roles', 'departmentId', 'locationId', 'programAdminRoleId'] as const;

export function NewUserPage() {
  const { client, tenant } = useSignedIn();
  const [, navigate] = useLocation();
  const queries = useQueryClient();
  const [form, setForm] = useState({ email: '', userName: '', givenName: '', familyName: '', password: '', notify: true });
  const [roles, setRoles] = useState<string[]>([]);
  const [access, setAccess] = useState<Access>({});
  const [problem, setProblem] = useState<Problem | null>(null);
  const set = (key: keyof typeof form) => (e: { target: HTMLInputElement }) => setForm({ ...form, [key]: e.target.type === 'checkbox' ? e.target.checked : e.target.value });

  const create = useMutation({
    mutationFn: async () => {
      const body: NewUser = {
        email: form.email.trim(),
        ...(form.userName.trim() && { userName: form.userName.trim() }),
        ...((form.givenName.trim() || form.familyName.trim()) && { name: { ...(form.givenName.trim() && { givenName: form.givenName.trim() }), ...(form.familyName.trim() && { familyName: form.familyName.trim() }) } }),
        ...(form.password && { password: form.password }),
        ...(roles.filter(Boolean).length > 0 && { roles: roles.filter(Boolean) }),
        ...(Object.keys(access).length > 0 && { access }),
      };
      const { data, error, response } = await client.POST('/v1/tenants/{tenant}/users', { params: { path: { tenant }, query: { notify: form.notify } }, body });
      if (error) throw asProblem(error, response.status);
      return data;
    },
    onMutate: () => setProblem(null),
    onError: (error) => setProblem(asProblem(error)),
    onSuccess: async (user) => {
      await queries.invalidateQueries({ queryKey: ['users', tenant] });
      if (user && 'id' in user) navigate(`/users/${user.id}`);
    },
  });

  useFocusFirstInvalid(problem);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  const general = generalMessage(problem, NEW_FIELDS);
  return (
    <>
      <PageTitle>New user</PageTitle>
      <form onSubmit={submit} aria-label="New user" noValidate>
        {general && <Alert>{general}</Alert>}
        <Field label="Email" type="email" required value={form.email} onChange={set('email')} error={fieldMessage(problem, 'email')} autoComplete="off" />
        <Field label="User name" value={form.userName} onChange={set('userName')} error={fieldMessage(problem, 'userName')} hint="Defaults to the email." autoComplete="off" />
        <Field label="Given name" value={form.givenName} onChange={set('givenName')} error={fieldMessage(problem, 'givenName')} />
        <Field label="Family name" value={form.familyName} onChange={set('familyName')} error={fieldMessage(problem, 'familyName')} />
        <Field label="Password" type="password" value={form.password} onChange={set('password')} error={fieldMessage(problem, 'password')} hint="Leave empty to send an invitation instead." autoComplete="new-password" />
        <RolePicker value={roles} onChange={setRoles} error={fieldMessage(problem, 'roles')} />
        <AccessPicker value={access} onChange={setAccess} problem={problem} />
        <Field label="Send the welcome or invitation email" type="checkbox" checked={form.notify} onChange={set('notify')} />
        <div className="actions">
          <button type="submit" className="primary" disabled={create.isPending}>
            {create.isPending ? 'Creating…' : 'Create user'}
          </button>
          <Link href="/users">Cancel</Link>
        </div>
      </form>
    </>
  );
}

const EDIT_FIELDS = ['email', 'userName', 'givenName', 'familyName', 'phoneNumber', 'roles', 'departmentId', 'locationId', 'programAdminRoleId'] as const;

function formOf(user: User) {
  return {
    email: user.email,
    userName: user.userName,
    givenName: user.name?.givenName ?? '',
    familyName: user.name?.familyName ?? '',
    phoneNumber: user.phoneNumber ?? '',
    roles: user.roles,
    access: user.access as Access,
  };
}

export function UserDetailPage({ id }: { id: string }) {
  const { client, tenant, can } = useSignedIn();
  const [, navigate] = useLocation();
  const queries = useQueryClient();
  const key = ['user', tenant, id];
  const loaded = useQuery({
    queryKey: key,
    // Read afresh each time the page opens, then kept as read: a refetch in the background would
    // overwrite an edit in progress (a change by someone else shows as a stale ETag on save).
    staleTime: Infinity,
    refetchOnMount: 'always',
    queryFn: async () => {
      const { data, error, response } = await client.GET('/v1/tenants/{tenant}/users/{id}', { params: { path: { tenant, id } } });
      if (error) throw asProblem(error, response.status);
      return { user: data, etag: response.headers.get('etag') ?? `"${data.revision}"` };
    },
  });
  const [form, setForm] = useState<ReturnType<typeof formOf> | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [stale, setStale] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);
  useEffect(() => {
    if (loaded.data) setForm(formOf(loaded.data.user));
  }, [loaded.data]);
  useFocusFirstInvalid(problem);

  const patch = useMutation({
    mutationFn: async (changes: UserChanges) => {
      const { data, error, response } = await client.PATCH('/v1/tenants/{tenant}/users/{id}', {
        params: { path: { tenant, id }, header: { 'if-match': loaded.data!.etag } },
        body: changes,
      });
      if (error) throw asProblem(error, response.status);
      return { user: data, etag: response.headers.get('etag') ?? `"${data.revision}"` };
    },
    onMutate: () => {
      setProblem(null);
      setStale(false);
      setSaved(null);
    },
    onError: (error) => {
      const p = asProblem(error);
      if (p.code === 'PRECONDITION_FAILED') setStale(true);
      else setProblem(p);
    },
    onSuccess: (next, changes) => {
      queries.setQueryData(key, next);
      void queries.invalidateQueries({ queryKey: ['users', tenant] });
      setSaved(changes && 'lockedOut' in changes && Object.keys(changes).length === 1 ? (next.user.lockedOut ? 'The user is locked.' : 'The user is unlocked.') : 'Saved.');
    },
  });

  const resend = useMutation({
    mutationFn: async () => {
      const { data, error, response } = await client.POST('/v1/tenants/{tenant}/users/{id}/invitation', { params: { path: { tenant, id } } });
      if (error) throw asProblem(error, response.status);
      return data;
    },
    onMutate: () => {
      setProblem(null);
      setSaved(null);
    },
    onError: (error) => setProblem(asProblem(error)),
    onSuccess: () => setSaved('A new invitation is on its way; earlier invitation codes no longer work.'),
  });

  const remove = useMutation({
    mutationFn: async () => {
      const { error, response } = await client.DELETE('/v1/tenants/{tenant}/users/{id}', { params: { path: { tenant, id } } });
      if (error) throw asProblem(error, response.status);
    },
    onError: (error) => setProblem(asProblem(error)),
    onSuccess: async () => {
      await queries.invalidateQueries({ queryKey: ['users', tenant] });
      navigate('/users');
    },
  });

  if (loaded.error) {
    return (
      <>
        <PageTitle>User</PageTitle>
        <Alert>{asProblem(loaded.error).detail}</Alert>
        <Link href="/users">Back to users</Link>
      </>
    );
  }
  if (!loaded.data || !form) return <p role="status">Loading…</p>;
  const { user } = loaded.data;
  const editable = can('user-manager');
  const set = (k: Exclude<keyof typeof form, 'roles' | 'access'>) => (e: { target: HTMLInputElement }) => setForm({ ...form, [k]: e.target.value });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    patch.mutate({
      email: form.email.trim(),
      userName: form.userName.trim(),
      name: { ...(form.givenName.trim() && { givenName: form.givenName.trim() }), ...(form.familyName.trim() && { familyName: form.familyName.trim() }) },
      phoneNumber: form.phoneNumber.trim() || null,
      roles: form.roles.filter(Boolean),
      // Sent only when changed: every code sent is checked against its catalog again.
      ...(JSON.stringify(form.access) !== JSON.stringify(user.access) && { access: form.access }),
    });
  };
  const reload = async () => {
    setStale(false);
    setSaved(null);
    await loaded.refetch();
  };
  const general = generalMessage(problem, EDIT_FIELDS);

  return (
    <>
      <PageTitle
        actions={
          editable && (
            <>
              {!user.hasPassword && (
                <button type="button" disabled={resend.isPending} onClick={() => resend.mutate()}>
                  Resend invitation
                </button>
              )}
              <button type="button" disabled={patch.isPending} onClick={() => patch.mutate({ lockedOut: !user.lockedOut })}>
                {user.lockedOut ? 'Unlock' : 'Lock'}
              </button>
              {can('tenant-admin') && <ConfirmButton label="Delete user" question={`Delete ${user.email}? This cannot be undone.`} confirmLabel="Delete" onConfirm={() => remove.mutate()} disabled={remove.isPending} />}
            </>
          )
        }
      >
        {displayName(user)}
      </PageTitle>
      <dl className="facts">
        <dt>Number</dt>
        <dd>{user.number}</dd>
        <dt>Status</dt>
        <dd>{user.lockedOut ? 'Locked' : 'Active'}{user.hasPassword ? '' : ' · no password yet (invited)'}</dd>
        <dt>Created</dt>
        <dd>{formatTime(user.createdAt)}</dd>
        <dt>Revision</dt>
        <dd>{user.revision} (changed {formatTime(user.updatedAt)})</dd>
      </dl>
      {stale && (
        <Alert>
          Someone else changed this user after you opened it, so your changes were not saved.{' '}
          <button type="button" onClick={() => void reload()}>
            Reload the latest version
          </button>
        </Alert>
      )}
      {saved && <Alert kind="success">{saved}</Alert>}
      {general && <Alert>{general}</Alert>}
      <form onSubmit={submit} aria-label="Edit user" noValidate>
        <fieldset disabled={!editable}>
          <legend>Details</legend>
          <Field label="Email" type="email" value={form.email} onChange={set('email')} error={fieldMessage(problem, 'email')} />
          <Field label="User name" value={form.userName} onChange={set('userName')} error={fieldMessage(problem, 'userName')} />
          <Field label="Given name" value={form.givenName} onChange={set('givenName')} error={fieldMessage(problem, 'givenName')} />
          <Field label="Family name" value={form.familyName} onChange={set('familyName')} error={fieldMessage(problem, 'familyName')} />
          <Field label="Phone number" value={form.phoneNumber} onChange={set('phoneNumber')} error={fieldMessage(problem, 'phoneNumber')} />
          <RolePicker value={form.roles} onChange={(roles) => setForm({ ...form, roles })} error={fieldMessage(problem, 'roles')} disabled={!editable} />
          <AccessPicker value={form.access} onChange={(access) => setForm({ ...form, access })} problem={problem} disabled={!editable} />
        </fieldset>
        {editable && (
          <div className="actions">
            <button type="submit" className="primary" disabled={patch.isPending}>
              {patch.isPending ? 'Saving…' : 'Save changes'}
            </button>
            <Link href="/users">Back to users</Link>
          </div>
        )}
      </form>
    </>
  );
}
