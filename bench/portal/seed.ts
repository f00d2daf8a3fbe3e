import { createHash } from 'node:crypto';
import { createProject, findProjectByName } from '@robotrace/core';
import type { Database } from '@robotrace/db';
import { sql } from 'drizzle-orm';

/**
 * Bulk-seeds episodes with INSERT … SELECT generate_series (same SQL on PGlite and PostgreSQL), in batches.
 * Shape: 90 % in the benchmarked project, 10 % in another one (so every query has to scope); a tenth with an
 * otel block, grouped five to a trace (an eval sweep under one parent span); a quarter with a video artifact.
 */

export const SEED_BASE = '2026-01-01T00:00:00Z';
export const SEED_STEP_S = 15;
const EPISODES_PER_TRACE = 5;

/** The id of seeded episode g (deterministic, so the bench can pick ids without a query). */
export const episodeId = (g: number) =>
  `${g.toString(16).padStart(8, '0')}-0000-4000-8000-${g.toString(16).padStart(12, '0')}`;
/** Episodes g ≡ 0 (mod 10) carry otel; the trace of g is shared by five of them. */
export const traceIdOf = (g: number) =>
  createHash('md5')
    .update(`trace-${Math.floor(g / (10 * EPISODES_PER_TRACE))}`)
    .digest('hex');
export const spanIdOf = (g: number) => createHash('md5').update(`span-${g}`).digest('hex').slice(0, 16);
export const inBenchProject = (g: number) => g % 10 !== 9;
export const hasOtel = (g: number) => g % 10 === 0;

export async function seed(
  db: Database,
  projectName: string,
  rows: number,
  log: (msg: string) => void,
): Promise<{ projectId: string; otherProjectId: string }> {
  const project = await findProjectByName({ db }, projectName);
  if (!project) throw new Error(`project ${projectName} not found`);
  const other =
    (await findProjectByName({ db }, 'bench-other')) ?? (await createProject({ db }, 'bench-other'));
  const batch = 50_000;
  const started = Date.now();
  for (let from = 1; from <= rows; from += batch) {
    const to = Math.min(rows, from + batch - 1);
    await db.execute(sql`
      insert into episode (id, project_id, name, source, status, robot, policy_version, env_version, git_sha,
        seed, fps, duration_s, failure_time_s, bytes_total, metadata, trace_id, span_id, created_at, finalized_at)
      select
        (lpad(to_hex(g), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid,
        case when g % 10 = 9 then ${other.id}::uuid else ${project.id}::uuid end,
        (array['pick-cube','place-cube','open-drawer','stack-blocks','pour'])[1 + (g * 7) % 5] || '-' || g,
        (array['sim','sim','sim','sim','sim','sim','real','real','replay','sim'])[1 + (g * 3) % 10],
        case when (g * 37) % 100 < 5 then 'recording' when (g * 37) % 100 < 20 then 'failed' else 'ready' end,
        'robot-' || ((g / 7 + g * 13) % 20),
        'pi-0.' || ((g / 3 + g * 17) % 40),
        'sim-' || ((g * 11) % 6),
        substr(md5('sha' || (g / 100)), 1, 7),
        g,
        30,
        5 + (g % 60),
        case when (g * 37) % 100 between 5 and 19 then (g % 50) / 10.0 end,
        1000000 + g,
        case when g % 10 = 0 then jsonb_build_object(
            'task', 'pick', 'episode', g,
            'otel', jsonb_build_object(
              'trace_id', md5('trace-' || (g / ${10 * EPISODES_PER_TRACE})),
              'span_id', substr(md5('span-' || g), 1, 16),
              'traceparent', '00-' || md5('trace-' || (g / ${10 * EPISODES_PER_TRACE})) || '-' || substr(md5('span-' || g), 1, 16) || '-01'))
          else jsonb_build_object('task', 'pick', 'episode', g) end,
        case when g % 10 = 0 then md5('trace-' || (g / ${10 * EPISODES_PER_TRACE})) end,
        case when g % 10 = 0 then substr(md5('span-' || g), 1, 16) end,
        ${SEED_BASE}::timestamptz + g * interval '${sql.raw(String(SEED_STEP_S))} seconds',
        case when (g * 37) % 100 >= 5
          then ${SEED_BASE}::timestamptz + g * interval '${sql.raw(String(SEED_STEP_S))} seconds' + (5 + (g % 60)) * interval '1 second' end
      from generate_series(${from}::int, ${to}::int) as g`);
    await db.execute(sql`
      insert into artifact (episode_id, kind, storage_key, content_type, size_bytes, uploaded_at)
      select (lpad(to_hex(g), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, 'video',
        'bench/' || g || '/video', 'video/mp4', 1000000 + g, now()
      from generate_series(${from}::int, ${to}::int) as g where g % 4 = 0`);
    log(
      `  seeded ${to.toLocaleString('en')} / ${rows.toLocaleString('en')} (${((Date.now() - started) / 1000).toFixed(0)} s)`,
    );
  }
  // VACUUM as well as ANALYZE: a bulk-loaded table is vacuumed by autovacuum within a minute or two (1M inserts
  // pass its insert threshold), and a page measured while that vacuum ran measured the load's aftermath (one full
  // PostgreSQL run: 3 of 300 git-sha searches over 500 ms, p95 5 ms). Done here, the pages meet a settled table,
  // as they would in a deployment.
  await db.execute(sql`vacuum (analyze) episode`);
  await db.execute(sql`vacuum (analyze) artifact`);
  return { projectId: project.id, otherProjectId: other.id };
}
