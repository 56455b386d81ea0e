#!/usr/bin/env node
/**
 * The `tessera` command. `tessera serve --db billing.db` opens an engine on a SQLite file (or a
 * PostgreSQL database, given a postgres:// URL) and serves it as the sidecar; `tessera migrate`
 * brings a database's schema up to date; `tessera backup` copies a SQLite file while it is in
 * use; `tessera simulate` replays the stored history under a candidate catalog; see `tessera --help` and `tessera <command> --help`.
 *
 * Only the CLI's own modules load up front: the engine, the store adapters and the server load
 * once the arguments are known to be good, so --help and refusals answer at once.
 */
import { backupCommand, migrateCommand } from './cli/database.js';
import { BACKUP_HELP, HELP, MIGRATE_HELP, SERVE_HELP, SIMULATE_HELP, VERSION } from './cli/help.js';
import { CliError, KEY_FLAG } from './cli/options.js';
import { serveCommand } from './cli/serve.js';
import { simulateCommand } from './cli/simulate.js';
import { postgresProblem } from './cli/stores.js';

const COMMANDS: Record<string, { run(args: string[]): Promise<void>; help: string }> = {
  serve: { run: serveCommand, help: SERVE_HELP },
  migrate: { run: migrateCommand, help: MIGRATE_HELP },
  backup: { run: backupCommand, help: BACKUP_HELP },
  simulate: { run: simulateCommand, help: SIMULATE_HELP },
};

async function main(argv: string[]): Promise<void> {
  const keyFlag = argv.find((a) => KEY_FLAG.test(a));
  if (keyFlag) {
    throw new CliError(
      `${keyFlag.split('=')[0]}: keys are not accepted on the command line, where every user of the machine sees them (ps, shell history); ` +
        'set TESSERA_FULL_ACCESS_KEYS / TESSERA_READ_ONLY_KEYS (comma-separated) or use --keys-file',
      2,
    );
  }
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    // `tessera help serve` is `tessera serve --help`.
    const topic = command === 'help' && rest[0] !== undefined ? COMMANDS[rest[0]] : undefined;
    process.stdout.write(topic?.help ?? HELP);
    if (command === undefined) process.exitCode = 2;
    return;
  }
  if (command === '-v' || command === '--version') {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  const found = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!found) throw new CliError(`unknown command "${command}"; see tessera --help`, 2);
  return found.run(rest);
}

/** The --db the user gave (flag or TESSERA_DB), for messages about the database. */
function dbOf(argv: string[]): string {
  const i = argv.findIndex((a) => a === '--db' || a.startsWith('--db='));
  if (i >= 0) return argv[i]!.startsWith('--db=') ? argv[i]!.slice(5) : (argv[i + 1] ?? '');
  return process.env.TESSERA_DB ?? '';
}

const argv = process.argv.slice(2);
main(argv).catch((e: unknown) => {
  const pg = postgresProblem(e, dbOf(argv));
  if (e instanceof CliError) {
    process.stderr.write(`tessera: ${e.message}\n`);
    process.exitCode = e.exitCode;
  } else if (pg !== undefined) {
    process.stderr.write(`tessera: ${pg}\n`);
    process.exitCode = 1;
  } else if ((e as Error).name === 'TesseraError') {
    process.stderr.write(`tessera: ${(e as { code: string }).code}: ${(e as Error).message}\n`);
    process.exitCode = 1;
  } else if ((e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`tessera: ${(e as Error).message}; see tessera ${argv[0] ?? ''} --help\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`tessera: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  }
});
