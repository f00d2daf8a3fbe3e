import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { type Database, migrationsDir } from './client.js';

/**
 * How many shipped migrations the database has not applied yet. Mirrors the rule of Drizzle's migrator (a
 * migration is applied when its journal time is not after the newest row of drizzle.__drizzle_migrations), so
 * an instance that does not migrate at start can refuse to serve an older schema instead of failing per request.
 */
export async function pendingMigrations(db: Database): Promise<number> {
  const journal = JSON.parse(readFileSync(join(migrationsDir(), 'meta', '_journal.json'), 'utf8')) as {
    entries: { when: number }[];
  };
  let newest = -1;
  try {
    const result = await db.execute(sql`select max(created_at) as newest from drizzle.__drizzle_migrations`);
    const rows = (result as unknown as { rows: { newest: string | number | null }[] }).rows;
    newest = rows[0]?.newest == null ? -1 : Number(rows[0].newest);
  } catch (err) {
    // 42P01 / 3F000: no migrations table or schema yet, i.e. a database that was never migrated.
    const code =
      (err as { code?: string; cause?: { code?: string } }).cause?.code ?? (err as { code?: string }).code;
    if (code !== '42P01' && code !== '3F000') throw err;
  }
  return journal.entries.filter((e) => e.when > newest).length;
}
