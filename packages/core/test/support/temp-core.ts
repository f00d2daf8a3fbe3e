import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDb, type DbHandle, user } from '@robotrace/db';
import { LocalDiskStore } from '@robotrace/storage';
import type { CoreDeps } from '../../src/deps.js';

/** A clock the test moves by hand (token refills, timestamps), so no assertion depends on real time. */
export interface ManualClock {
  now: () => Date;
  advance: (ms: number) => void;
}

export function manualClock(start = Date.parse('2026-06-01T12:00:00Z')): ManualClock {
  let t = start;
  return {
    now: () => new Date(t),
    advance: (ms) => {
      t += ms;
    },
  };
}

export interface TempCore {
  deps: CoreDeps;
  clock: ManualClock;
  store: LocalDiskStore;
  dbh: DbHandle;
  /** Inserts a portal user row (what Better Auth writes), for membership foreign keys. */
  addUser: (email: string) => Promise<string>;
  close: () => Promise<void>;
}

/** Core on a real database (a fresh PGlite dir, or the given PostgreSQL URL), migrated, with a local store. */
export async function tempCore(postgresUrl?: string): Promise<TempCore> {
  const dir = mkdtempSync(join(tmpdir(), 'rt-core-'));
  const dbh = await createDb(
    postgresUrl ? { kind: 'postgres', url: postgresUrl } : { kind: 'pglite', dataDir: join(dir, 'db') },
  );
  await dbh.migrate();
  const clock = manualClock();
  const store = new LocalDiskStore(join(dir, 'artifacts'), 's'.repeat(64), () =>
    Math.floor(clock.now().getTime() / 1000),
  );
  const deps: CoreDeps = {
    db: dbh.db,
    store,
    clock,
    limits: { uploadUrlTtlS: 900, downloadUrlTtlS: 300 },
  };
  let users = 0;
  return {
    deps,
    clock,
    store,
    dbh,
    addUser: async (email) => {
      const id = `user-${++users}-${email}`;
      const now = clock.now();
      await dbh.db
        .insert(user)
        .values({ id, email, name: email, emailVerified: true, createdAt: now, updatedAt: now });
      return id;
    },
    close: async () => {
      await dbh.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
