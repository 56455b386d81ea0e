/** The `tessera` command's help texts: one overview, one per command (`tessera <command> --help`). */

export const VERSION = '0.1.0';

const DB = `--db takes a SQLite file or a PostgreSQL URL, postgres://user@host:5432/db (the password is
best left to PGPASSWORD or ~/.pgpass, out of ps and shell history).`;

const ENV = `Every option may come from the environment instead (the option wins when both are given).`;

export const HELP = `Usage: tessera <command> [options]

Commands:
  serve        serve an engine over HTTP/JSON (the sidecar)
  migrate      bring a database's schema up to this version, then exit
  backup       copy a SQLite file while it is in use (online backup)
  simulate     what customers would have paid under a candidate catalog, from the stored history

tessera <command> --help shows a command's options and their environment variables.

  -h, --help              this text
  -v, --version           the version
`;

export const SERVE_HELP = `Usage: tessera serve --db <file|url> [options]

Serves an engine over HTTP/JSON (the sidecar). ${DB}

  option                  environment               meaning
  --db <file|url>         TESSERA_DB                where the state is; a SQLite file is created when missing
  --schema <name>         TESSERA_SCHEMA            PostgreSQL only: the schema holding Tessera's tables
                                                    (created when missing); the search_path by default
  --port <n>              TESSERA_PORT, PORT        TCP port; 8787 by default, 0 for any free port
  --host <address>        TESSERA_HOST              interface to listen on; 127.0.0.1 by default
  --catalog <file>        TESSERA_CATALOG           catalog JSON, published on start when it differs from
                                                    the stored one; without it the database must already
                                                    hold a published catalog
  --keys-file <file>      TESSERA_KEYS_FILE         API keys as JSON: { "fullAccess": [...], "readOnly": [...],
                                                    "metrics": [...] }
  --log-level <level>     TESSERA_LOG_LEVEL         debug, info (default: one line per request), warn,
                                                    error or silent; JSON lines on stderr
  --durability <mode>     TESSERA_DURABILITY        SQLite only: normal (default: safe against a crash of the
                                                    process) or full (also against power loss; slower writes)
  --max-body-bytes <n>    TESSERA_MAX_BODY_BYTES    largest request body; 1048576 by default
  --webhook-url <url>     TESSERA_WEBHOOK_URLS      POST alert events (usage thresholds, low credit balances)
                                                    to this URL, signed; repeat the flag for several (the
                                                    variable takes them comma-separated); needs
                                                    TESSERA_WEBHOOK_SECRET (whsec_<base64>)
  --webhook-timeout-ms <n> TESSERA_WEBHOOK_TIMEOUT_MS how long one delivery may take; 10000 by default
  --no-ui                 TESSERA_NO_UI=true        do not serve the dashboard at /ui (served by default;
                                                    only its sign-in page opens without a key)
  -h, --help                                        this text

${ENV}

API keys come from TESSERA_FULL_ACCESS_KEYS, TESSERA_READ_ONLY_KEYS and TESSERA_METRICS_KEYS
(comma-separated; a metrics key opens GET /metrics only) and/or the keys file; never from command-line values, which every user of the machine can read with
\`ps\`. The keys are checked before the database is opened: no key, no start.

It prints one line with its URL and stops on SIGINT or SIGTERM.
`;

export const MIGRATE_HELP = `Usage: tessera migrate --db <file|url> [--schema <name>]

Applies the migrations and prints the schema version before and after (from -> to). Refuses a
schema that a newer Tessera wrote (exit code 1). App servers migrate at start too; running this
first keeps that out of their start. ${DB}

  option                  environment               meaning
  --db <file|url>         TESSERA_DB                the database to migrate; a SQLite file is created when missing
  --schema <name>         TESSERA_SCHEMA            PostgreSQL only: the schema holding Tessera's tables
  -h, --help                                        this text

${ENV}
`;

export const BACKUP_HELP = `Usage: tessera backup --db <file> --to <file>

Copies a SQLite file with SQLite's online backup, consistent as of one moment, while app servers
and sidecars keep reading and writing it. The copy is written beside --to and renamed into place
when complete, so --to is never half written; an existing --to is refused. PostgreSQL databases
are backed up with pg_dump.

  option                  environment               meaning
  --db <file>             TESSERA_DB                the SQLite file to copy (must exist)
  --to <file>             TESSERA_BACKUP_TO         where the copy goes (must not exist)
  -h, --help                                        this text

${ENV}
`;

export const SIMULATE_HELP = `Usage: tessera simulate --db <file|url> --catalog <file> --from <date> --to <date> [options]

Replays the stored subscriptions and usage of [--from, --to) under a candidate catalog, in memory,
writing nothing, and prints per customer what was billed (before), what the candidate would have
billed (after) and the difference, then the totals: customers worse / better off, revenue by
plan, the largest changes (core docs/simulation.md). A progress bar goes to stderr while it
replays (a plain line per page of customers when stderr is not a terminal). ${DB}

  option                  environment                 meaning
  --db <file|url>         TESSERA_DB                  the database holding the history
  --schema <name>         TESSERA_SCHEMA              PostgreSQL only: the schema holding Tessera's tables
  --catalog <file>        TESSERA_SIMULATE_CATALOG    the candidate catalog as JSON (validated, never published)
  --from <date>           TESSERA_SIMULATE_FROM       start, inclusive: 2026-01-01 (midnight UTC) or an ISO instant
  --to <date>             TESSERA_SIMULATE_TO         end, exclusive
  --customers <a,b>       TESSERA_SIMULATE_CUSTOMERS  only these customers (comma-separated)
  --plan-map <old=new>    TESSERA_SIMULATE_PLAN_MAP   a plan whose id changed; repeat the flag for several
                                                      (the variable takes them comma-separated)
  --csv <file>            TESSERA_SIMULATE_CSV        also write the rows as CSV (customer,plan,currency,
                                                      before,after,difference)
  --json                  TESSERA_SIMULATE_JSON       print the whole result as JSON instead of the table
  -h, --help                                          this text

${ENV}
`;
