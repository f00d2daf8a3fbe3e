import { apiKey, type Database, episode } from '@robotrace/db';
import { and, eq, isNull, sql } from 'drizzle-orm';

/**
 * The ingest hot path's statements, built once per database and prepared (named statements on PostgreSQL):
 * no query building per request, and only bind/execute on the wire. Measured by bench/ingest.
 */
function build(db: Database) {
  const p = <T extends string>(name: T) => sql.placeholder(name);
  return {
    keyByHash: db
      .select({
        id: apiKey.id,
        projectId: apiKey.projectId,
        lastUsedAt: apiKey.lastUsedAt,
      })
      .from(apiKey)
      .where(and(eq(apiKey.hash, p('hash')), isNull(apiKey.revokedAt)))
      .prepare('rt_key_by_hash'),
    insertEpisode: db
      .insert(episode)
      .values({
        id: p('id'),
        projectId: p('projectId'),
        name: p('name'),
        source: p('source'),
        status: 'recording',
        robot: p('robot'),
        policyVersion: p('policyVersion'),
        envVersion: p('envVersion'),
        gitSha: p('gitSha'),
        seed: p('seed'),
        fps: p('fps'),
        metadata: p('metadata'),
        traceId: p('traceId'),
        spanId: p('spanId'),
        clientStartNs: p('clientStartNs'),
        createdAt: p('createdAt'),
      })
      .prepare('rt_insert_episode'),
  };
}

const cache = new WeakMap<Database, ReturnType<typeof build>>();

export function prepared(db: Database): ReturnType<typeof build> {
  let statements = cache.get(db);
  if (!statements) {
    statements = build(db);
    cache.set(db, statements);
  }
  return statements;
}
