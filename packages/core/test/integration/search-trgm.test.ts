import { episode } from '@robotrace/db';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createEpisode, episodeFilters, listEpisodes } from '../../src/episodes.js';
import { createProject } from '../../src/projects.js';
import { coreOn, DATABASE_KINDS } from '../support/each-database.js';

const ctx = { baseUrl: 'http://rt.test' };

/**
 * The search box (`q=`): a fragment of name, robot, policy version or git sha, case-insensitive, backed by the
 * trigram index (migration 0006). The plan is checked on a table big enough that reading every row would be
 * the planner's worst choice.
 */
describe.each(DATABASE_KINDS)('text search on the trigram index (%s)', (kind) => {
  const core = coreOn(kind);

  it('matches a fragment of any of the four fields, case-insensitively, with LIKE wildcards taken literally', async () => {
    const { deps } = core();
    const scope = { projectId: (await createProject(deps, `search-${kind}`)).id };
    const other = { projectId: (await createProject(deps, `search-other-${kind}`)).id };
    const make = (s: typeof scope, name: string, extra: Record<string, string> = {}) =>
      createEpisode(deps, s, { source: 'sim', name, ...extra }, ctx);
    await make(scope, 'Pick-Cube-7', { robot: 'franka-2', policy_version: 'pi-0.3.1', git_sha: '9f1c2ab' });
    await make(scope, 'pour_water 100%');
    await make(scope, 'pourXwater');
    await make(other, 'pick-cube-other');
    const names = async (q: string) =>
      (await listEpisodes(deps, scope, { q, limit: 50 }, ctx)).data.map((e) => e.name).sort();
    expect(await names('cube')).toEqual(['Pick-Cube-7']);
    expect(await names('PICK-c')).toEqual(['Pick-Cube-7']);
    expect(await names('anka-')).toEqual(['Pick-Cube-7']); // robot
    expect(await names('0.3')).toEqual(['Pick-Cube-7']); // policy version
    expect(await names('9f1c2')).toEqual(['Pick-Cube-7']); // a short git sha
    expect(await names('pour_')).toEqual(['pour_water 100%']); // `_` is not a wildcard
    expect(await names('100%')).toEqual(['pour_water 100%']);
    expect(await names('zebra')).toEqual([]);
  });

  it('EXPLAIN of a search at 60k episodes uses episode_search_trgm_idx, also for a sha its statistics hold', async () => {
    const { deps } = core();
    const project = await createProject(deps, `search-plan-${kind}`);
    await deps.db.execute(sql`
      insert into episode (id, project_id, name, source, status, robot, policy_version, git_sha, metadata, created_at)
      select gen_random_uuid(), ${project.id}::uuid,
        (array['pick-cube','place-cube','open-drawer','stack-blocks','pour'])[1 + g % 5] || '-' || g,
        'sim', 'ready', 'robot-' || (g % 20), 'pi-0.' || (g % 40), substr(md5('sha' || (g / 100)), 1, 7), '{}',
        '2026-01-01T00:00:00Z'::timestamptz + g * interval '15 seconds'
      from generate_series(1, 60000) as g`);
    await deps.db.execute(sql`analyze episode`);
    const planOf = async (q: string) => {
      const query = deps.db
        .select()
        .from(episode)
        .where(episodeFilters({ projectId: project.id }, { q }))
        .orderBy(sql`${episode.createdAt} desc nulls last`, sql`${episode.id} desc nulls last`) // as listEpisodes
        .limit(51);
      const result = (await deps.db.execute(sql`explain ${query}`)) as unknown as {
        rows: { 'QUERY PLAN': string }[];
      };
      return result.rows.map((r) => r['QUERY PLAN']).join('\n');
    };
    const plan = await planOf('blocks-4711');
    expect(plan).toContain('episode_search_trgm_idx');
    expect(plan).not.toMatch(/Seq Scan on episode/);
    // A short git sha (100 episodes share one) that one of the histogram's bounds happens to contain: with the
    // default 101 bounds it was priced at 1 % of the rows and walked the newest-first index (migration 0012).
    const stats = (await deps.db.execute(
      sql`select histogram_bounds::text::text[] as bounds from pg_stats where tablename = 'episode_search_trgm_idx'`,
    )) as unknown as { rows: { bounds: string[] }[] };
    const shas = (stats.rows[0]?.bounds ?? []).map((b) => b.slice(-7)).filter((t) => /^[0-9a-f]{7}$/.test(t));
    expect(shas.length).toBeGreaterThan(100);
    for (const sha of shas.slice(0, 5)) expect(await planOf(sha)).toContain('episode_search_trgm_idx');
    const found = await listEpisodes(deps, { projectId: project.id }, { q: 'blocks-4711', limit: 50 }, ctx);
    // Names are stack-blocks-g for g ≡ 3 (mod 5): of 4711 and 47110–47119 that is 47113 and 47118.
    expect(found.data.map((e) => e.name).sort()).toEqual(['stack-blocks-47113', 'stack-blocks-47118']);
  });
});
