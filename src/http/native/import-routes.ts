import { Readable } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { stringify } from 'csv-stringify';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { DomainError, isDomainError } from '../../core/errors.js';
import { IMPORT_FORMATS, IMPORT_STATES, ON_CONFLICT, type ImportFormat, type ImportJob, type ImportRowError } from '../../core/imports/import-job.js';
import { cancelImport, getImport, importErrors, importProgress, listImports, MAX_IMPORT_LIST } from '../../core/imports/read-imports.js';
import { exportUsers } from '../../core/imports/export-users.js';
import { startImport } from '../../core/imports/start-import.js';
import type { CoreDeps } from '../../core/ports.js';
import type { User } from '../../core/users/user.js';
import { parseColumnMap } from '../../formats/import-columns.js';
import { EXPORT_CSV_COLUMNS, userToCsvRecord, userToDraft } from '../../formats/export-format.js';
import { uploadSource } from '../../formats/parse-upload.js';
import { spreadsheetSafe } from '../../formats/spreadsheet-safe.js';
import type { NativeScope } from './index.js';
import { ErrorResponses, TenantParams } from './schemas.js';

/** The default largest upload: 2 GiB. */
export const DEFAULT_IMPORT_MAX_BYTES = 2 * 1024 ** 3;

const tags = ['imports'];
const Timestamp = Type.String({ format: 'date-time' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

const MEDIA_TYPES: Record<string, ImportFormat> = {
  'text/csv': 'csv',
  'application/csv': 'csv',
  'application/x-ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
  'application/jsonl': 'ndjson',
  'application/x-jsonlines': 'ndjson',
  'application/json': 'json',
};

export const ImportJobSchema = Type.Object(
  {
    id: Type.String(),
    tenant: Type.String(),
    state: Type.Union(IMPORT_STATES.map((s) => Type.Literal(s))),
    format: Type.Union(IMPORT_FORMATS.map((f) => Type.Literal(f))),
    options: Type.Object({ dryRun: Type.Boolean(), notify: Type.Boolean(), onConflict: Type.Union(ON_CONFLICT.map((c) => Type.Literal(c))) }),
    total: Type.Integer({ description: 'Rows in the upload (a CSV header is not a row).' }),
    processed: Type.Integer(),
    created: Type.Integer({ description: 'Users created; in a dry run, the rows that would create one.' }),
    failed: Type.Integer(),
    skipped: Type.Integer({ description: 'Rows whose email or user name was taken, under onConflict=skip.' }),
    updated: Type.Integer({ description: 'Existing users changed, under onConflict=update; in a dry run, the rows that would change one.' }),
    rate: Nullable(Type.Number({ description: 'Rows per second since the job started.' })),
    etaSeconds: Nullable(Type.Integer({ description: 'Seconds left at the current rate.' })),
    error: Nullable(Type.String({ description: 'Why a failed job stopped.' })),
    idempotencyKey: Nullable(Type.String()),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    startedAt: Nullable(Timestamp),
    finishedAt: Nullable(Timestamp),
    links: Type.Object({ self: Type.String(), errors: Type.String() }),
  },
  { $id: 'ImportJob' },
);

const JobParams = Type.Object({ tenant: Type.String({ maxLength: 63 }), id: Type.String({ maxLength: 64 }) });

function presentJob(job: ImportJob, now: Date) {
  const self = `/v1/tenants/${encodeURIComponent(job.tenantId)}/imports/${job.id}`;
  return {
    id: job.id,
    tenant: job.tenantId,
    state: job.state,
    format: job.format,
    options: job.options,
    total: job.total,
    processed: job.processed,
    created: job.created,
    failed: job.failed,
    skipped: job.skipped,
    updated: job.updated,
    ...importProgress(job, now),
    error: job.error,
    idempotencyKey: job.idempotencyKey,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    links: { self, errors: `${self}/errors` },
  };
}

function formatOf(contentType: string | undefined, asked: ImportFormat | undefined): ImportFormat {
  if (asked) return asked;
  const mediaType = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const format = MEDIA_TYPES[mediaType];
  if (!format) {
    throw new DomainError(
      'UNSUPPORTED_MEDIA_TYPE',
      'Send the upload as text/csv (with a header row), application/x-ndjson (one user per line) or application/json (an array of users), or name the format with ?format=.',
    );
  }
  return format;
}

/** NDJSON unless the client asks for CSV (by ?format= or Accept). */
function reportFormat(asked: 'csv' | 'ndjson' | undefined, accept: string | undefined): 'csv' | 'ndjson' {
  if (asked) return asked;
  return /\btext\/csv\b/i.test(accept ?? '') ? 'csv' : 'ndjson';
}

function errorReport(errors: AsyncIterable<ImportRowError>, format: 'csv' | 'ndjson'): Readable {
  if (format === 'csv') {
    const columns = ['row', 'email', 'code', 'field', 'message', 'source'];
    // Text a client sent (an email, say) may start like a formula: written so that no spreadsheet runs it.
    return Readable.from(errors).pipe(stringify({ header: true, columns, cast: { string: spreadsheetSafe, object: (v) => spreadsheetSafe(JSON.stringify(v)) } }));
  }
  return Readable.from(
    (async function* () {
      for await (const e of errors) yield `${JSON.stringify({ row: e.row, email: e.email, code: e.code, field: e.field, message: e.message, source: e.source })}\n`;
    })(),
  );
}

/** An export as it streams out: CSV rows under the import's column names, or one draft per NDJSON line. */
function exportBody(users: AsyncIterable<User>, format: 'csv' | 'ndjson'): Readable {
  if (format === 'csv') {
    const rows = (async function* () {
      for await (const user of users) yield userToCsvRecord(user);
    })();
    // Cells a spreadsheet would run are quoted with a leading ' (the importer takes it off again).
    return Readable.from(rows).pipe(stringify({ header: true, columns: [...EXPORT_CSV_COLUMNS], cast: { string: spreadsheetSafe } }));
  }
  return Readable.from(
    (async function* () {
      for await (const user of users) yield `${JSON.stringify(userToDraft(user))}\n`;
    })(),
  );
}

/**
 * Import jobs under /v1/tenants/{tenant}/imports. The upload route reads its body as a
 * stream (a parser of its own in this scope), so the global body limit does not apply to
 * it; it has its own, `maxBytes`.
 */
export async function importRoutes(scope: FastifyInstance, options: { core: CoreDeps; maxBytes?: number | undefined; onQueued?: (() => void) | undefined }): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>() as NativeScope;
  const core = options.core;
  const maxBytes = options.maxBytes ?? DEFAULT_IMPORT_MAX_BYTES;
  const now = () => core.clock.now();

  // Every body reaches the upload route as the raw request stream; the route picks the parser.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  app.post('/tenants/:tenant/imports', {
    schema: {
      tags,
      summary: 'Upload users to import (CSV, NDJSON or a JSON array); answers 202 once every row is stored',
      description:
        'The body is streamed and stored row by row before the answer, then created in chunks of 1000 in the background. ' +
        'CSV: a header row naming fields (email, userName, password, passwordHash, givenName, familyName, phoneNumber, roles separated by ; or |, departmentId, locationId, programAdminRoleId, lockedOut, approved). ' +
        'JSON and NDJSON rows are user drafts as POST /users takes them.',
      params: TenantParams,
      querystring: Type.Object({
        format: Type.Optional(Type.Union(IMPORT_FORMATS.map((f) => Type.Literal(f)), { description: 'Overrides the Content-Type.' })),
        dryRun: Type.Optional(Type.Boolean({ description: 'Check every row, create nothing, send nothing.' })),
        notify: Type.Optional(Type.Boolean({ description: 'Send the welcome or invitation emails (default true).' })),
        onConflict: Type.Optional(
          Type.Union(
            ON_CONFLICT.map((c) => Type.Literal(c)),
            { description: 'A row whose email or user name is taken: fail (default), skip it, or update that user (the checks, privilege rule and audit of a PATCH).' },
          ),
        ),
        map: Type.Optional(Type.Array(Type.String({ maxLength: 300 }), { maxItems: 100, description: 'Source=target: read a column (or top-level JSON key) as a field; an empty target ignores it.' })),
        delimiter: Type.Optional(Type.String({ minLength: 1, maxLength: 1, description: 'The CSV delimiter (default ,).' })),
      }),
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255 })) }),
      response: { 202: ImportJobSchema, 409: Type.Ref('Problem'), 413: Type.Ref('Problem'), 415: Type.Ref('Problem'), 422: Type.Ref('Problem'), ...ErrorResponses },
    },
    handler: async (request, reply) => {
      const { query } = request;
      const format = formatOf(request.headers['content-type'], query.format);
      const body = request.body instanceof Readable ? request.body : Readable.from([]);
      const upload = uploadSource(body, { format, maxBytes, mapping: parseColumnMap(query.map ?? []), ...(query.delimiter !== undefined && { delimiter: query.delimiter }) });
      let started: Awaited<ReturnType<typeof startImport>>;
      try {
        started = await startImport(
          core,
          request.params.tenant,
          request.actor,
          {
            format,
            options: { dryRun: query.dryRun, notify: query.notify, onConflict: query.onConflict },
            idempotencyKey: request.headers['idempotency-key'],
            limits: request.server.uploadLimits,
          },
          upload,
        );
      } catch (error) {
        // The client went away mid-upload: a truncated body, not a server error (nothing was kept).
        // Node destroys a request once its body has been read too, so what tells the two apart is
        // whether the whole body arrived: after it did, a failure is the server's (500, logged).
        if (!request.raw.complete && request.raw.destroyed && !isDomainError(error)) {
          throw new DomainError('MALFORMED_JSON', 'The upload broke off before its body was complete; nothing was kept.');
        }
        // Refused before the end of its body: the rest is not read, so the connection closes after the answer.
        if (!body.readableEnded) reply.header('connection', 'close');
        throw error;
      }
      const { job, replayed } = started;
      // The import runner of this process starts on the job now rather than at its next look.
      if (!replayed && job.state === 'queued') options.onQueued?.();
      const view = presentJob(job, now());
      if (replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(202).header('location', view.links.self).send(view);
    },
  });

  app.get('/tenants/:tenant/imports', {
    schema: {
      tags,
      summary: 'List import jobs, newest first',
      params: TenantParams,
      querystring: Type.Object({
        idempotencyKey: Type.Optional(Type.String({ maxLength: 255, description: 'Only the job this key created.' })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_IMPORT_LIST, default: 20 })),
      }),
      response: { 200: Type.Object({ imports: Type.Array(ImportJobSchema) }), ...ErrorResponses },
    },
    handler: async (request) => {
      const jobs = await listImports(core, request.params.tenant, request.actor, request.query);
      return { imports: jobs.map((j) => presentJob(j, now())) };
    },
  });

  app.get('/tenants/:tenant/imports/:id', {
    schema: { tags, summary: 'An import job: state, counts, rate and ETA', params: JobParams, response: { 200: ImportJobSchema, ...ErrorResponses } },
    handler: async (request) => presentJob(await getImport(core, request.params.tenant, request.actor, request.params.id), now()),
  });

  app.get('/tenants/:tenant/imports/:id/errors', {
    schema: {
      tags,
      summary: 'The failed rows of an import job (row, email, code, field, message, and the row as uploaded in source), streamed as NDJSON or CSV',
      params: JobParams,
      querystring: Type.Object({ format: Type.Optional(Type.Union([Type.Literal('ndjson'), Type.Literal('csv')], { description: 'Overrides the Accept header.' })) }),
      response: { 200: Type.String({ description: 'One line per problem of a failed row, in row order.' }), ...ErrorResponses },
    },
    handler: async (request, reply) => {
      const { job, errors } = await importErrors(core, request.params.tenant, request.actor, request.params.id);
      const format = reportFormat(request.query.format, request.headers.accept);
      const type = format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8';
      return reply
        .type(type)
        .header('content-disposition', `attachment; filename="${job.id}-errors.${format}"`)
        .send(errorReport(errors, format));
    },
  });

  app.get('/tenants/:tenant/users/export', {
    schema: {
      tags,
      summary: "Export the tenant's users as CSV or NDJSON, in the format an import reads back (no passwords)",
      description:
        'Streams every user of the tenant in creation order. CSV: a header row of the import columns (roles separated by ;). NDJSON: one user draft per line, as POST …/users takes it. ' +
        'Passwords and their hashes are never exported. Cells a spreadsheet would run as formulas are written with a leading quote, which the importer takes off again.',
      params: TenantParams,
      querystring: Type.Object({ format: Type.Optional(Type.Union([Type.Literal('csv'), Type.Literal('ndjson')], { description: 'Overrides the Accept header (default: NDJSON).' })) }),
      response: { 200: Type.String({ description: 'The users, one per line.' }), ...ErrorResponses },
    },
    handler: async (request, reply) => {
      const users = await exportUsers(core, request.params.tenant, request.actor);
      const format = reportFormat(request.query.format, request.headers.accept);
      const type = format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8';
      return reply
        .type(type)
        .header('content-disposition', `attachment; filename="${request.params.tenant}-users.${format}"`)
        .send(exportBody(users, format));
    },
  });

  app.delete('/tenants/:tenant/imports/:id', {
    schema: { tags, summary: 'Cancel an import job (the rows already created stay)', params: JobParams, response: { 200: ImportJobSchema, 409: Type.Ref('Problem'), ...ErrorResponses } },
    handler: async (request) => presentJob(await cancelImport(core, request.params.tenant, request.actor, request.params.id), now()),
  });
}
