import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDb } from '@robotrace/db';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A data dir whose `pgdata` is an empty, fully migrated PGlite: copied per app instead of initdb each time. */
    pgliteTemplate: string;
  }
}

/**
 * Global setup of the app tier: a fresh PGlite costs an initdb (seconds; most of an app's start), a copy of
 * a migrated one a fraction of that. The copy is a plain directory copy of a cleanly closed cluster.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  const dir = mkdtempSync(join(tmpdir(), 'robotrace-pglite-template-'));
  const db = await createDb({ kind: 'pglite', dataDir: dir });
  await db.migrate();
  await db.close();
  project.provide('pgliteTemplate', dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
