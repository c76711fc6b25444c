import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { useRef, useState, type DragEvent, type FormEvent } from 'react';
import { Link, useLocation } from 'wouter';
import type { ImportJob } from '../../../src/client/index.js';
import { asProblem } from '../problems.js';
import { useSignedIn } from '../session.js';
import { Alert, ConfirmButton, DataTable, Field, PageTitle, Select, formatTime } from '../ui.js';

type Format = 'csv' | 'ndjson' | 'json';
const RUNNING = new Set(['queued', 'running']);
const FORMAT_TYPES: Record<Format, string> = { csv: 'text/csv', ndjson: 'application/x-ndjson', json: 'application/json' };

function formatOf(file: File): Format {
  const name = file.name.toLowerCase();
  if (name.endsWith('.ndjson') || name.endsWith('.jsonl')) return 'ndjson';
  if (name.endsWith('.json')) return 'json';
  return 'csv';
}

const jobColumn = createColumnHelper<ImportJob>();
const jobColumns = [
  jobColumn.accessor('id', { header: 'Import', cell: (c) => <Link href={`/imports/${c.getValue()}`}>{c.getValue()}</Link> }),
  jobColumn.accessor('state', { header: 'State' }),
  jobColumn.accessor('total', { header: 'Rows' }),
  jobColumn.accessor('created', { header: 'Created' }),
  jobColumn.accessor('failed', { header: 'Failed' }),
  jobColumn.accessor((j) => (j.options.dryRun ? 'dry run' : j.options.onConflict === 'skip' ? 'skip taken' : j.options.onConflict === 'update' ? 'update taken' : 'fail on taken'), { id: 'options', header: 'Options' }),
  jobColumn.accessor('createdAt', { header: 'Started', cell: (c) => formatTime(c.getValue()) }),
];

export function ImportsPage() {
  const { client, tenant, can } = useSignedIn();
  const [, navigate] = useLocation();
  const queries = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const [dragging, setDragging] = useState(false);
  const [notify, setNotify] = useState(false);
  const [dryRun, setDryRun] = useState(false);
  const [onConflict, setOnConflict] = useState<'fail' | 'skip' | 'update'>('fail');

  const jobs = useQuery({
    queryKey: ['imports', tenant],
    queryFn: async () => {
      const { data, error, response } = await client.GET('/v1/tenants/{tenant}/imports', { params: { path: { tenant }, query: { limit: 50 } } });
      if (error) throw asProblem(error, response.status);
      return data.imports;
    },
    // Always fresh on arrival, and followed while a job in it is still going.
    refetchOnMount: 'always',
    refetchInterval: (query) => (query.state.data?.some((j) => RUNNING.has(j.state)) ? 1000 : false),
  });

  const upload = useMutation({
    mutationFn: async (chosen: File) => {
      const format = formatOf(chosen);
      const { data, error, response } = await client.POST('/v1/tenants/{tenant}/imports', {
        params: { path: { tenant }, query: { format, notify, dryRun, onConflict } },
        // The upload is the file itself, streamed as it is (the route reads a raw body).
        body: chosen as never,
        bodySerializer: (body: unknown) => body as BodyInit,
        headers: { 'content-type': FORMAT_TYPES[format] },
      });
      if (error) throw asProblem(error, response.status);
      return data;
    },
    onSuccess: async (job) => {
      await queries.invalidateQueries({ queryKey: ['imports', tenant] });
      navigate(`/imports/${job.id}`);
    },
  });

  const drop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    const dropped = event.dataTransfer.files[0];
    if (!dropped) return;
    // The file input shows the dropped file too, as if it had been chosen there.
    if (input.current) input.current.files = event.dataTransfer.files;
    setFile(dropped);
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (file) upload.mutate(file);
  };

  return (
    <>
      <PageTitle>Imports</PageTitle>
      {can('user-manager') && (
        <form onSubmit={submit} aria-label="New import" className="import-form">
          <div
            className={dragging ? 'dropzone dragging' : 'dropzone'}
            onDragOver={(e) => {
              e.preventDefault();
              setDragging(true);
            }}
            onDragLeave={() => setDragging(false)}
            onDrop={drop}
          >
            <Field
              ref={input}
              label="File to import (CSV, NDJSON or JSON)"
              type="file"
              accept=".csv,.ndjson,.jsonl,.json,text/csv,application/json"
              onChange={(e) => setFile(e.target.files?.[0] ?? null)}
              hint="Choose a file or drop it here. CSV needs a header row (email, userName, password, givenName, familyName, roles, …)."
            />
            {file && (
              <p role="status">
                {file.name} · {(file.size / 1024).toFixed(1)} KiB · {formatOf(file).toUpperCase()}
              </p>
            )}
          </div>
          <fieldset>
            <legend>Options</legend>
            <Field label="Send welcome or invitation emails" type="checkbox" checked={notify} onChange={(e) => setNotify(e.target.checked)} />
            <Field label="Dry run (check every row, create nothing)" type="checkbox" checked={dryRun} onChange={(e) => setDryRun(e.target.checked)} />
            <Select
              label="When an email or user name is taken"
              value={onConflict}
              onChange={(e) => setOnConflict(e.target.value as 'fail' | 'skip' | 'update')}
              options={[
                { value: 'fail', label: 'Report the row as failed' },
                { value: 'skip', label: 'Skip the row' },
                { value: 'update', label: 'Update the existing user from the row' },
              ]}
            />
          </fieldset>
          {upload.error && <Alert>{asProblem(upload.error).detail}</Alert>}
          <button type="submit" className="primary" disabled={!file || upload.isPending}>
            {upload.isPending ? 'Uploading…' : 'Start import'}
          </button>
        </form>
      )}
      <h2>Past imports</h2>
      {jobs.error && <Alert>{asProblem(jobs.error).detail}</Alert>}
      <DataTable caption="Imports, newest first" rows={jobs.data ?? []} columns={jobColumns} empty="No imports yet." />
    </>
  );
}

interface FailedRow {
  row: number;
  email?: string | null;
  code: string;
  field?: string | null;
  message: string;
}
const failedColumn = createColumnHelper<FailedRow>();
const failedColumns = [
  failedColumn.accessor('row', { header: 'Row' }),
  failedColumn.accessor('email', { header: 'Email', cell: (c) => c.getValue() ?? '—' }),
  failedColumn.accessor('code', { header: 'Code', cell: (c) => <code>{c.getValue()}</code> }),
  failedColumn.accessor('field', { header: 'Field', cell: (c) => c.getValue() ?? '—' }),
  failedColumn.accessor('message', { header: 'Message' }),
];
const FAILED_SHOWN = 200;

function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '—';
  if (seconds < 60) return `${seconds} s`;
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

export function ImportDetailPage({ id }: { id: string }) {
  const { client, tenant, token, can } = useSignedIn();
  const queries = useQueryClient();
  const job = useQuery({
    queryKey: ['import', tenant, id],
    queryFn: async () => {
      const { data, error, response } = await client.GET('/v1/tenants/{tenant}/imports/{id}', { params: { path: { tenant, id } } });
      if (error) throw asProblem(error, response.status);
      return data;
    },
    refetchInterval: (query) => (query.state.data && RUNNING.has(query.state.data.state) ? 500 : false),
  });
  const finished = job.data && !RUNNING.has(job.data.state);
  const failedRows = useQuery({
    queryKey: ['import-errors', tenant, id],
    enabled: Boolean(finished && job.data!.failed > 0),
    queryFn: async () => {
      const { data, error, response } = await client.GET('/v1/tenants/{tenant}/imports/{id}/errors', { params: { path: { tenant, id }, query: { format: 'ndjson' } }, parseAs: 'text' });
      if (error) throw asProblem(error, response.status);
      const lines = (data as unknown as string).split('\n').filter(Boolean);
      return { rows: lines.slice(0, FAILED_SHOWN).map((line) => JSON.parse(line) as FailedRow), total: lines.length };
    },
  });
  const cancel = useMutation({
    mutationFn: async () => {
      const { data, error, response } = await client.DELETE('/v1/tenants/{tenant}/imports/{id}', { params: { path: { tenant, id } } });
      if (error) throw asProblem(error, response.status);
      return data;
    },
    onSuccess: (next) => {
      queries.setQueryData(['import', tenant, id], next);
      void queries.invalidateQueries({ queryKey: ['imports', tenant] });
    },
  });
  const [downloadError, setDownloadError] = useState<string | null>(null);
  const download = async () => {
    setDownloadError(null);
    // Fetched with the key (a plain link could not send it), then handed to the browser as a file.
    const response = await fetch(`/v1/tenants/${encodeURIComponent(tenant)}/imports/${encodeURIComponent(id)}/errors?format=csv`, { headers: { authorization: `Bearer ${token}` } });
    if (!response.ok) {
      setDownloadError(`Muster answered ${response.status}.`);
      return;
    }
    const url = URL.createObjectURL(await response.blob());
    const a = document.createElement('a');
    a.href = url;
    a.download = `${id}-errors.csv`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };

  if (job.error) {
    return (
      <>
        <PageTitle>Import</PageTitle>
        <Alert>{asProblem(job.error).detail}</Alert>
      </>
    );
  }
  const j = job.data;
  if (!j) return <p role="status">Loading…</p>;
  const percent = j.total > 0 ? Math.round((j.processed / j.total) * 100) : finished ? 100 : 0;
  return (
    <>
      <PageTitle actions={can('user-manager') && RUNNING.has(j.state) && <ConfirmButton label="Cancel import" question="Cancel this import? Users already created stay." confirmLabel="Cancel import" onConfirm={() => cancel.mutate()} disabled={cancel.isPending} />}>
        Import {j.id}
      </PageTitle>
      <section aria-labelledby="progress-title" className="card">
        <h2 id="progress-title">Progress</h2>
        <label className="progress">
          <span>
            {j.processed} of {j.total} rows ({percent}%)
          </span>
          <progress max={Math.max(j.total, 1)} value={j.processed} aria-label="Rows processed" />
        </label>
        <p role="status" aria-live="polite" className="state">
          {j.state === 'completed' ? 'Completed' : j.state === 'cancelled' ? 'Cancelled' : j.state === 'failed' ? `Failed: ${j.error ?? ''}` : j.state === 'queued' ? 'Queued' : 'Running'}
          {j.options.dryRun ? ' (dry run)' : ''}
        </p>
        <dl className="facts">
          <dt>Created</dt>
          <dd>{j.created}</dd>
          <dt>Failed</dt>
          <dd>{j.failed}</dd>
          <dt>Skipped</dt>
          <dd>{j.skipped}</dd>
          <dt>Rate</dt>
          <dd>{j.rate === null ? '—' : `${Math.round(j.rate)} rows/s`}</dd>
          <dt>Time left</dt>
          <dd>{RUNNING.has(j.state) ? duration(j.etaSeconds) : '—'}</dd>
          <dt>Started</dt>
          <dd>{formatTime(j.startedAt ?? j.createdAt)}</dd>
          <dt>Finished</dt>
          <dd>{formatTime(j.finishedAt)}</dd>
        </dl>
      </section>
      {cancel.error && <Alert>{asProblem(cancel.error).detail}</Alert>}
      {finished && j.failed > 0 && (
        <section aria-labelledby="failed-title">
          <h2 id="failed-title">Failed rows</h2>
          <div className="actions">
            <button type="button" onClick={() => void download()}>
              Download errors (CSV)
            </button>
          </div>
          {downloadError && <Alert>{downloadError}</Alert>}
          {failedRows.data && failedRows.data.total > FAILED_SHOWN && <p>The first {FAILED_SHOWN} problems of {failedRows.data.total}; the download has them all.</p>}
          <DataTable caption="Failed rows" rows={failedRows.data?.rows ?? []} columns={failedColumns} empty={failedRows.isFetching ? 'Loading…' : 'No failed rows.'} />
        </section>
      )}
      <p>
        <Link href="/imports">All imports</Link>
      </p>
    </>
  );
}
