/**
 * `muster export --tenant T [--format csv|ndjson] [--output FILE]`: streams a tenant's users
 * from the server's export endpoint to a file or standard output, in the format `muster
 * import` reads back. Passwords and their hashes are never part of an export.
 */
import { createWriteStream } from 'node:fs';
import { extname, resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import { download, type ServerTarget } from './http-client.js';

export interface ExportCommandOptions {
  tenant: string;
  format?: 'csv' | 'ndjson';
  output?: string;
}

const ACCEPT = { csv: 'text/csv', ndjson: 'application/x-ndjson' } as const;

function formatOf(options: ExportCommandOptions): 'csv' | 'ndjson' {
  if (options.format) return options.format;
  const extension = options.output ? extname(options.output).toLowerCase() : '';
  return extension === '.ndjson' || extension === '.jsonl' ? 'ndjson' : 'csv';
}

export async function runExport(options: ExportCommandOptions, target: ServerTarget): Promise<number> {
  const format = formatOf(options);
  const path = `/v1/tenants/${encodeURIComponent(options.tenant)}/users/export?format=${format}`;
  if (!options.output) {
    await download(target, path, ACCEPT[format], process.stdout);
    return 0;
  }
  const file = resolve(options.output);
  const sink = createWriteStream(file);
  await download(target, path, ACCEPT[format], sink);
  sink.end();
  await finished(sink);
  process.stderr.write(`Exported the users of ${options.tenant} to ${file} (${format}).\n`);
  return 0;
}
