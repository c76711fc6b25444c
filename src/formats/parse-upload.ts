/**
 * Reads an import upload as it streams in — CSV, NDJSON or a JSON array — one row at a
 * time, so that no body is ever held whole in memory. The body is counted (refused past its
 * limit) and hashed on the way (the hash names the upload for idempotent retries).
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { JSONParser } from '@streamparser/json';
import { parse as parseCsv } from 'csv-parse';
import { DomainError, fieldError } from '../core/errors.js';
import { yieldIfBusy } from '../core/event-loop.js';
import type { ImportFormat, StagedRow } from '../core/imports/import-job.js';
import type { UploadSource } from '../core/imports/start-import.js';
import { csvRowSource, csvRowToDraft, mapJsonRow, planCsvColumns } from './import-columns.js';

/** How much of an upload the CSV parser is given at once. */
const PARSE_SLICE_BYTES = 8 * 1024;

/** The longest single row (a CSV record or an NDJSON line) an upload may hold. */
export const MAX_ROW_BYTES = 1024 * 1024;

/**
 * The deepest a JSON row may nest (the row's own object is level 1), as for a request body:
 * a user draft needs three levels, and a row far deeper could not be staged or reported
 * without overflowing the call stack. A deeper row fails alone.
 */
export const MAX_ROW_DEPTH = 32;

/** Whether `value` nests deeper than `limit` levels; walks with its own stack. */
function nestsDeeperThan(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const stack: [object, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (depth > limit) return true;
    for (const item of Array.isArray(current) ? current : Object.values(current)) {
      if (typeof item === 'object' && item !== null) stack.push([item, depth + 1]);
    }
  }
  return false;
}

/** A parsed JSON row as staged: its draft, or a problem when it nests too deeply. */
function jsonRow(row: number, value: unknown, options: UploadOptions): StagedRow {
  if (nestsDeeperThan(value, MAX_ROW_DEPTH)) return { row, problem: fieldError('', 'MALFORMED_JSON', `This row nests deeper than ${MAX_ROW_DEPTH} levels.`) };
  return { row, draft: mapJsonRow(value, options.mapping) };
}

export interface UploadOptions {
  format: ImportFormat;
  /** Refuse the body past this many bytes (PAYLOAD_TOO_LARGE). */
  maxBytes: number;
  /** Column or key renames (see import-columns.ts). */
  mapping: ReadonlyMap<string, string>;
  /** The CSV field delimiter. */
  delimiter?: string;
}

function malformed(message: string): DomainError {
  return new DomainError('MALFORMED_JSON', message);
}

function emailOf(value: unknown): string | undefined {
  const email = (value as { email?: unknown } | null)?.email;
  return typeof email === 'string' ? email : undefined;
}

/** The body's bytes, counted against the limit and hashed, as an async iterable of Buffers. */
function meteredBody(body: Readable, maxBytes: number) {
  const hash = createHash('sha256');
  let bytes = 0;
  let ended = false;
  let started = false;
  async function* chunks(): AsyncGenerator<Buffer> {
    started = true;
    // Not destroyed when reading stops early: the connection must stay up to carry the refusal
    // (which asks to close it once sent).
    for await (const chunk of body.iterator({ destroyOnReturn: false })) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
      bytes += buffer.length;
      if (bytes > maxBytes) {
        throw new DomainError('PAYLOAD_TOO_LARGE', `An import upload may hold at most ${maxBytes} bytes.`);
      }
      hash.update(buffer);
      yield buffer;
    }
    ended = true;
  }
  return {
    chunks,
    async digest(): Promise<string> {
      if (!started) for await (const _ of chunks());
      if (!ended) throw new Error('the upload digest was asked for before the body ended');
      return hash.digest('hex');
    },
  };
}

/** Resolves when a writable wants more, or is gone. */
function drained(stream: Readable & { once(event: 'drain', listener: () => void): unknown }): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.once('drain', done);
    stream.once('close', done);
  });
}

async function* csvRows(chunks: AsyncIterable<Buffer>, options: UploadOptions): AsyncGenerator<StagedRow> {
  const parser = parseCsv({
    bom: true,
    delimiter: options.delimiter ?? ',',
    relax_column_count: true,
    skip_empty_lines: true,
    max_record_size: MAX_ROW_BYTES,
  });
  // Feed the parser from the metered body; its errors come out of the records loop below.
  const feeding = (async () => {
    try {
      for await (const chunk of chunks) {
        // The parser reads what it is given in one go: a socket's 64 KiB at once can hold the
        // event loop for several milliseconds, so it is fed in slices, the loop turning between.
        for (let start = 0; start < chunk.length && !parser.destroyed; start += PARSE_SLICE_BYTES) {
          if (!parser.write(chunk.subarray(start, start + PARSE_SLICE_BYTES))) await drained(parser);
          await yieldIfBusy();
        }
        if (parser.destroyed) break;
      }
      if (!parser.destroyed) parser.end();
    } catch (error) {
      parser.destroy(error as Error);
    }
  })();
  let plan: ReturnType<typeof planCsvColumns> | undefined;
  let header: string[] = [];
  let row = 0;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (!plan) {
        header = record.map((c) => c.trim());
        plan = planCsvColumns(header, options.mapping);
        continue;
      }
      row++;
      const draft = csvRowToDraft(record, plan);
      const source = csvRowSource(header, record, plan);
      if (record.length !== header.length) {
        yield {
          row,
          email: emailOf(draft),
          problem: fieldError('', 'INVALID_FIELD', `This row has ${record.length} fields; the header has ${header.length}.`),
          source,
        };
      } else {
        yield { row, draft, source };
      }
    }
  } catch (error) {
    if (error instanceof DomainError) throw error;
    const e = error as { code?: string; message?: string; lines?: number };
    throw new DomainError('MALFORMED_JSON', `The CSV cannot be read past line ${e.lines ?? '?'}: ${e.message ?? 'malformed CSV'}.`, [
      fieldError('', 'MALFORMED_JSON', `CSV error ${e.code ?? ''}`.trim()),
    ]);
  } finally {
    parser.destroy();
    await feeding;
  }
  if (!plan) throw new DomainError('MISSING_REQUIRED_FIELD', 'The CSV has no header row.', [fieldError('', 'MISSING_REQUIRED_FIELD', 'A CSV upload starts with a header row.')]);
}

/** NDJSON: one JSON value per line; blank lines are not rows. A line that is not JSON fails alone. */
async function* ndjsonRows(chunks: AsyncIterable<Buffer>, options: UploadOptions): AsyncGenerator<StagedRow> {
  let row = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let tooLong = false;
  function* line(bytes: Buffer): Generator<StagedRow> {
    const text = bytes.toString('utf8').trim();
    if (text === '' && !tooLong) return;
    row++;
    if (tooLong) {
      tooLong = false;
      yield { row, problem: fieldError('', 'INVALID_FIELD', `This line is longer than ${MAX_ROW_BYTES} bytes.`) };
      return;
    }
    try {
      yield jsonRow(row, JSON.parse(text), options);
    } catch {
      yield { row, problem: fieldError('', 'MALFORMED_JSON', 'This line is not valid JSON.') };
    }
  }
  for await (const chunk of chunks) {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, nl);
      const whole = pending.length === 0 ? piece : Buffer.concat([...pending, piece]);
      pending = [];
      pendingBytes = 0;
      yield* line(tooLong ? Buffer.alloc(0) : whole);
      start = nl + 1;
    }
    const rest = chunk.subarray(start);
    if (tooLong) continue;
    pendingBytes += rest.length;
    if (pendingBytes > MAX_ROW_BYTES) {
      // Keep nothing of an overlong line: it is reported when its end comes.
      tooLong = true;
      pending = [];
      pendingBytes = 0;
    } else if (rest.length > 0) {
      pending.push(Buffer.from(rest));
    }
  }
  if (pending.length > 0 || tooLong) yield* line(Buffer.concat(pending));
}

/** The index of the first byte that is neither white space nor a byte-order mark (the length when there is none). */
function firstContentByte(chunk: Buffer): number {
  let i = 0;
  while (i < chunk.length && (chunk[i] === 0x20 || chunk[i] === 0x09 || chunk[i] === 0x0a || chunk[i] === 0x0d || chunk[i] === 0xef || chunk[i] === 0xbb || chunk[i] === 0xbf)) i++;
  return i;
}

/** A JSON array of rows, parsed element by element. */
async function* jsonArrayRows(chunks: AsyncIterable<Buffer>, options: UploadOptions): AsyncGenerator<StagedRow> {
  const parser = new JSONParser({ paths: ['$.*'], keepStack: false });
  let ready: unknown[] = [];
  parser.onValue = ({ value }) => {
    ready.push(value);
  };
  let row = 0;
  let sawStart = false;
  for await (let chunk of chunks) {
    if (!sawStart) {
      const first = firstContentByte(chunk);
      if (first === chunk.length) continue;
      if (chunk[first] !== 0x5b) throw malformed('A JSON upload is an array of users: [{"email": …}, …]. (Send one user per line as application/x-ndjson instead.)');
      sawStart = true;
      chunk = chunk.subarray(first);
    }
    if (parser.isEnded) {
      if (chunk.toString('utf8').trim() !== '') throw malformed('The body goes on after the end of the JSON array.');
      continue;
    }
    try {
      parser.write(chunk);
    } catch (error) {
      throw malformed(`The body is not valid JSON: ${(error as Error).message}`);
    }
    const values = ready;
    ready = [];
    for (const value of values) {
      row++;
      yield jsonRow(row, value, options);
    }
  }
  if (!sawStart) throw malformed('The body is empty; send a JSON array of users.');
  if (!parser.isEnded) throw malformed('The JSON array ends before its closing bracket.');
}

/** An upload body as the core's UploadSource. */
export function uploadSource(body: Readable, options: UploadOptions): UploadSource {
  const metered = meteredBody(body, options.maxBytes);
  return {
    rows() {
      const chunks = metered.chunks();
      if (options.format === 'csv') return csvRows(chunks, options);
      if (options.format === 'ndjson') return ndjsonRows(chunks, options);
      return jsonArrayRows(chunks, options);
    },
    digest: () => metered.digest(),
  };
}
