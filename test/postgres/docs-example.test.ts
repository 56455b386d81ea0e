/**
 * The PostgreSQL example of packages/core/docs/transactions.md ("On PostgreSQL"), which the snippet
 * test only typechecks (it needs a server): run here as written, against a database of its own on
 * the run's server, then its outcome checked: three project rows, three of three used.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createEngine, type MeteredEntitlement } from '@tessera/core';
import { postgresStore } from '@tessera/postgres';
import { extractSnippets } from '../docs/extract.js';
import { freshSchema, onPglite, pgUrl } from '../support/pg-stores.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOC = 'packages/core/docs/transactions.md';

if (!onPglite()) describe('docs/transactions.md, On PostgreSQL', () => {
  it('runs the example: the rolled-back and refused projects keep neither a row nor usage', async () => {
    const blocks = extractSnippets(DOC, readFileSync(join(ROOT, DOC), 'utf8')).filter((s) => s.code.includes('postgresStore(') && s.code.includes('async function createProject'));
    expect(blocks).toHaveLength(1);
    // Written beside the snippet test's programs (git-ignored), so that imports resolve from the repository.
    const dir = join(ROOT, 'test/docs/.tmp');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `pg-transactions-${process.pid}.ts`);
    writeFileSync(file, `${blocks[0]!.code}\nexport {};\n`);

    const database = freshSchema('docs');
    const admin = new pg.Client({ connectionString: pgUrl() });
    await admin.connect();
    await admin.query(`create database ${database}`);
    const url = new URL(pgUrl());
    url.pathname = `/${database}`;
    const saved = process.env.DATABASE_URL;
    const logged: string[] = [];
    const log = console.log;
    try {
      process.env.DATABASE_URL = url.toString();
      console.log = (...args: unknown[]) => void logged.push(args.map(String).join(' '));
      try {
        await import(/* @vite-ignore */ file);
      } finally {
        console.log = log;
      }
      expect(logged).toEqual(['rolled back: validation failed after the insert', 'USAGE_LIMIT_EXCEEDED', '3 project rows, 3 of 3 used']);
      const check = new pg.Client({ connectionString: url.toString() });
      await check.connect();
      const rows = (await check.query('select name from public.projects order by name')).rows.map((r: { name: string }) => r.name);
      await check.end();
      expect(rows).toEqual(['docs', 'mobile', 'website']);
      const engine = await createEngine({ store: postgresStore({ connectionString: url.toString(), schema: 'tessera' }) });
      try {
        expect(((await engine.getMeteredEntitlement({ customerId: 'acme', featureId: 'projects' })) as MeteredEntitlement).currentUsage).toBe(3);
      } finally {
        await engine.close();
      }
    } finally {
      if (saved === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = saved;
      await admin.query(`drop database if exists ${database} with (force)`).catch(() => undefined);
      await admin.end();
    }
  });
});
