import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import type { Tenant } from '../../../src/client/index.js';
import { asProblem, fieldMessage } from '../problems.js';
import { useSignedIn } from '../session.js';
import { Alert, Field, PageTitle, TextArea } from '../ui.js';

type Policy = Tenant['passwordPolicy'];
const lines = (text: string) =>
  text
    .split(/[\n,]/)
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);

/** Checks a sample password against the tenant's saved policy with a dry-run create (nothing is written). */
function PasswordCheck({ tenant }: { tenant: Tenant }) {
  const { client } = useSignedIn();
  const [sample, setSample] = useState('');
  const [verdict, setVerdict] = useState<{ ok: boolean; message: string } | null>(null);
  useEffect(() => {
    if (!sample) {
      setVerdict(null);
      return;
    }
    let current = true;
    const domain = tenant.emailDomains.allow[0] ?? 'example.com';
    const timer = setTimeout(async () => {
      const { error } = await client.POST('/v1/tenants/{tenant}/users', {
        params: { path: { tenant: tenant.id }, query: { dryRun: true, notify: false } },
        body: { email: `password-check-${Date.now()}@${domain}`, password: sample },
      });
      if (!current) return;
      const problem = error ? asProblem(error) : null;
      const message = fieldMessage(problem, 'password');
      setVerdict(message ? { ok: false, message } : { ok: true, message: 'This password meets the policy.' });
    }, 300);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [sample, client, tenant]);
  return (
    <div className="card">
      <Field label="Try a sample password" type="password" autoComplete="off" value={sample} onChange={(e) => setSample(e.target.value)} hint="Checked against the saved policy as you type; nothing is stored." />
      <p role="status" className={verdict ? (verdict.ok ? 'ok' : 'bad') : undefined}>
        {verdict?.message ?? ''}
      </p>
    </div>
  );
}

export function SettingsPage() {
  const { client, tenant, can } = useSignedIn();
  const queries = useQueryClient();
  const loaded = useQuery({
    queryKey: ['tenant', tenant],
    queryFn: async () => {
      const { data, error, response } = await client.GET('/v1/tenants/{tenant}', { params: { path: { tenant } } });
      if (error) throw asProblem(error, response.status);
      return data;
    },
  });
  const [seatLimit, setSeatLimit] = useState('');
  const [allow, setAllow] = useState('');
  const [block, setBlock] = useState('');
  const [policy, setPolicy] = useState<Policy | null>(null);
  useEffect(() => {
    const t = loaded.data;
    if (!t) return;
    setSeatLimit(t.seatLimit === null ? '' : String(t.seatLimit));
    setAllow(t.emailDomains.allow.join('\n'));
    setBlock(t.emailDomains.block.join('\n'));
    setPolicy(t.passwordPolicy);
  }, [loaded.data]);

  const save = useMutation({
    mutationFn: async () => {
      const { data, error, response } = await client.PATCH('/v1/tenants/{tenant}', {
        params: { path: { tenant } },
        body: {
          ...(can('global-admin') && { seatLimit: seatLimit.trim() === '' ? null : Number(seatLimit) }),
          emailDomains: { allow: lines(allow), block: lines(block) },
          ...(policy && { passwordPolicy: policy }),
        },
      });
      if (error) throw asProblem(error, response.status);
      return data;
    },
    onSuccess: (t) => queries.setQueryData(['tenant', tenant], t),
  });

  const t = loaded.data;
  if (loaded.error) return <Alert>{asProblem(loaded.error).detail}</Alert>;
  if (!t || !policy) return <p role="status">Loading…</p>;
  const problem = save.error ? asProblem(save.error) : null;
  const num = (key: 'minLength' | 'maxLength') => (e: { target: HTMLInputElement }) => setPolicy({ ...policy, [key]: Number(e.target.value) });
  const flag = (key: Exclude<keyof Policy, 'minLength' | 'maxLength'>) => (e: { target: HTMLInputElement }) => setPolicy({ ...policy, [key]: e.target.checked });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  return (
    <>
      <PageTitle>Settings of {t.name || t.id}</PageTitle>
      <section className="card" aria-labelledby="seats-title">
        <h2 id="seats-title">Seats</h2>
        <p>
          <strong>{t.seatsUsed}</strong> used of {t.seatLimit === null ? 'no limit' : <strong>{t.seatLimit}</strong>}
        </p>
        {t.seatLimit !== null && <progress max={t.seatLimit || 1} value={t.seatsUsed} aria-label="Seats used" />}
      </section>
      <form onSubmit={submit} aria-label="Tenant settings" noValidate>
        {can('global-admin') && <Field label="Seat limit" type="number" min={0} value={seatLimit} onChange={(e) => setSeatLimit(e.target.value)} hint="Empty for no limit." error={fieldMessage(problem, 'seatLimit')} />}
        <fieldset>
          <legend>Email domains</legend>
          <TextArea label="Allowed domains" rows={3} value={allow} onChange={(e) => setAllow(e.target.value)} hint="One per line; empty allows every domain not blocked. A domain covers its subdomains." />
          <TextArea label="Blocked domains" rows={3} value={block} onChange={(e) => setBlock(e.target.value)} hint="One per line." />
        </fieldset>
        <fieldset>
          <legend>Password policy</legend>
          <Field label="Shortest password" type="number" min={8} max={256} value={policy.minLength} onChange={num('minLength')} error={fieldMessage(problem, 'minLength')} />
          <Field label="Longest password" type="number" min={8} max={1024} value={policy.maxLength} onChange={num('maxLength')} error={fieldMessage(problem, 'maxLength')} />
          <Field label="Require an uppercase letter" type="checkbox" checked={policy.requireUppercase} onChange={flag('requireUppercase')} />
          <Field label="Require a lowercase letter" type="checkbox" checked={policy.requireLowercase} onChange={flag('requireLowercase')} />
          <Field label="Require a digit" type="checkbox" checked={policy.requireDigit} onChange={flag('requireDigit')} />
          <Field label="Require a symbol" type="checkbox" checked={policy.requireSymbol} onChange={flag('requireSymbol')} />
          <Field label="Refuse common passwords" type="checkbox" checked={policy.blockCommon} onChange={flag('blockCommon')} />
          <Field label="Refuse passwords containing the user name or email" type="checkbox" checked={policy.blockPersonalInfo} onChange={flag('blockPersonalInfo')} />
        </fieldset>
        {problem && <Alert>{problem.detail}</Alert>}
        {save.isSuccess && <Alert kind="success">Settings saved.</Alert>}
        <button type="submit" className="primary" disabled={save.isPending}>
          Save settings
        </button>
      </form>
      <h2>Password check</h2>
      <PasswordCheck tenant={t} />
    </>
  );
}
