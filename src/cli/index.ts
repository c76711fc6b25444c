#!/usr/bin/env node
/**
 * `muster`: the command line of Muster. `serve` and `migrate` work on this machine (with
 * the server's environment variables); `tenant`, `key`, `import` and `export` talk to a running
 * server over its API (--url and --token, or MUSTER_URL and MUSTER_TOKEN), so every rule
 * of the server applies to them as to any client.
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ApiError, expectApi, type ServerTarget } from './http-client.js';
import { runExport, type ExportCommandOptions } from './export-command.js';
import { EXIT, runImport, type ImportCommandOptions } from './import-command.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

interface ConnectionOptions {
  url: string;
  token?: string;
}

function target(options: ConnectionOptions): ServerTarget {
  const token = options.token ?? process.env.MUSTER_TOKEN ?? process.env.MUSTER_ADMIN_TOKEN;
  if (!token) throw new ApiError('Give an API token with --token, or set MUSTER_TOKEN.');
  return { url: options.url, token };
}

function withConnection(command: Command): Command {
  return command
    .addOption(new Option('--url <url>', 'the Muster server').env('MUSTER_URL').default('http://localhost:8080'))
    .addOption(new Option('--token <token>', 'an API key token, or the admin token (also MUSTER_TOKEN)'));
}

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('Not a whole number.');
  return n;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Runs a command's action, turning its failure into a message and exit code 1. */
function action<A extends unknown[]>(run: (...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      process.exitCode = (await run(...args)) ?? EXIT.ok;
    } catch (error) {
      process.stderr.write(`muster: ${error instanceof ApiError ? error.message : (error as Error).stack ?? String(error)}\n`);
      process.exitCode = EXIT.error;
    }
  };
}

const program = new Command()
  .name('muster')
  .description('Muster, the user-provisioning service: run it, administer it, import users into it.')
  .version(version)
  .showHelpAfterError();

program
  .command('serve')
  .description('Start the server (configured by its environment variables: PORT, DATABASE_URL, MUSTER_ADMIN_TOKEN, …)')
  .action(async () => {
    await import('../server.js');
  });

program
  .command('migrate')
  .description('Bring the database up to date (the server also does this when it starts)')
  .addOption(new Option('--database-url <url>', 'sqlite:PATH or postgres://…').env('DATABASE_URL').default('sqlite:./data/muster.db'))
  .action(
    action(async (options: { databaseUrl: string }) => {
      const { openDatabase } = await import('../storage/database.js');
      const { migrateToLatest } = await import('../storage/migrate.js');
      const db = openDatabase(options.databaseUrl);
      try {
        const applied = await migrateToLatest(db);
        process.stdout.write(applied.length > 0 ? `Applied: ${applied.join(', ')}\n` : 'The database is up to date.\n');
      } finally {
        await db.close();
      }
    }),
  );

const tenant = program.command('tenant').description('Tenants');
withConnection(
  tenant
    .command('create <id>')
    .description('Create a tenant (needs a global-admin token)')
    .option('--name <name>', 'its display name (default: the id)')
    .option('--seat-limit <n>', 'the most users it may hold', integer),
).action(
  action(async (id: string, options: ConnectionOptions & { name?: string; seatLimit?: number }) => {
    const res = await expectApi(target(options), 201, 'POST', '/v1/tenants', { id, ...(options.name && { name: options.name }), ...(options.seatLimit !== undefined && { seatLimit: options.seatLimit }) });
    print(res.body);
  }),
);

const key = program.command('key').description('API keys');
withConnection(
  key
    .command('issue')
    .description('Issue an API key; its token is printed this once')
    .requiredOption('--tenant <tenant>', 'the tenant it belongs to')
    .addOption(new Option('--role <role>', 'what it may do').choices(['global-admin', 'tenant-admin', 'user-manager', 'reader']).makeOptionMandatory())
    .option('--name <name>', 'what it is for', 'issued by muster key issue'),
).action(
  action(async (options: ConnectionOptions & { tenant: string; role: string; name: string }) => {
    const res = await expectApi(target(options), 201, 'POST', `/v1/tenants/${encodeURIComponent(options.tenant)}/api-keys`, { name: options.name, role: options.role });
    print(res.body);
    process.stderr.write('Keep the token now: it is not shown again.\n');
  }),
);

withConnection(
  program
    .command('import [file]')
    .description('Import users from a CSV (with a header row), NDJSON or JSON file, with a progress bar; run it again to resume')
    .option('--tenant <tenant>', 'the tenant to import into')
    .addOption(new Option('--format <format>', 'the file format (default: from its extension)').choices(['csv', 'ndjson', 'json']))
    .option('--map <Source=target>', 'read a column (or JSON key) as a field, e.g. "E-Mail=email"; "Notes=" ignores a column; repeatable', collect, [])
    .option('--dry-run', 'check every row, create nothing')
    .option('--no-notify', 'send no welcome or invitation emails')
    .addOption(new Option('--on-conflict <what>', 'a row whose email or user name is taken: fail, skip, or update that user').choices(['fail', 'skip', 'update']).default('fail'))
    .option('--errors-file <path>', 'where to write the failed rows (default: FILE.errors.csv in this directory)')
    .option('--no-progress', 'print no progress')
    .option('--resume <jobId>', 'follow an import job already on the server instead of uploading')
    .option('--cancel <jobId>', 'cancel an import job')
    .option('--new', 'upload again even if an earlier run of this command was interrupted or has completed')
    .option('--state-dir <dir>', 'where interrupted imports are remembered (default ~/.muster/imports)')
    .option('--poll-interval <ms>', 'how often to look at the job', integer, 500),
).action(
  action(async (file: string | undefined, options: ConnectionOptions & ImportCommandOptions) => runImport(file, options, target(options))),
);

withConnection(
  program
    .command('export')
    .description("Export a tenant's users as CSV or NDJSON, in the format muster import reads back (no passwords)")
    .requiredOption('--tenant <tenant>', 'the tenant to export')
    .addOption(new Option('--format <format>', 'csv or ndjson (default: from the output file name, else csv)').choices(['csv', 'ndjson']))
    .option('--output <file>', 'where to write (default: standard output)'),
).action(
  action(async (options: ConnectionOptions & ExportCommandOptions) => runExport(options, target(options))),
);

await program.parseAsync(process.argv);
