import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { type DemoEpisode, demoEpisodes } from '../../demo/episodes.js';
import { npz } from '../../demo/npz.js';
import { demoTracks } from '../../demo/tracks.js';
import { DEMO_CLIPS, demoVideo } from '../../demo/video.js';
import { cliClient } from '../client.js';
import { table } from '../format.js';
import { type CliIo, printJson, println } from '../io.js';

/** Writes one demo episode's files into dir: its fixture clip, and for rollouts sensors.npz and actions.npz. */
function writeFiles(dir: string, index: number, demo: DemoEpisode) {
  const video = join(dir, `rollout-${index + 1}.mp4`);
  writeFileSync(video, demoVideo(demo.clip));
  if (!demo.arm) return { video };
  const tracks = demoTracks(demo.arm, DEMO_CLIPS[demo.clip].mishap, demo.options.seed ?? index);
  const sensors = join(dir, `rollout-${index + 1}-sensors.npz`);
  const actions = join(dir, `rollout-${index + 1}-actions.npz`);
  writeFileSync(sensors, npz(tracks.sensors));
  writeFileSync(actions, npz(tracks.actions));
  return { video, sensors, actions };
}

export function registerDemo(program: Command, io: CliIo): void {
  program
    .command('demo')
    .description(
      'log sample episodes (sim and real, some failed, several under one OTel trace; video, sensor and action tracks) to explore the portal',
    )
    .option('--json', 'print the logged episodes as JSON')
    .action(async (flags: { json?: boolean }) => {
      const client = cliClient(io);
      const { traceId, episodes } = demoEpisodes();
      const dir = mkdtempSync(join(tmpdir(), 'robotrace-demo-'));
      const logged: Array<{
        id: string;
        name: string;
        status: string;
        source: string;
        portal_url: string;
        trace_id: string | null;
      }> = [];
      try {
        for (const [index, demo] of episodes.entries()) {
          const episode = await client.logEpisode({ ...demo.options, ...writeFiles(dir, index, demo) });
          const traced = (demo.options.metadata as { otel?: unknown } | undefined)?.otel !== undefined;
          logged.push({
            id: episode.id,
            name: demo.options.name ?? '',
            status: episode.status,
            source: demo.options.source ?? 'real',
            portal_url: episode.url,
            trace_id: traced ? traceId : null,
          });
          if (!flags.json)
            io.stderr.write(`  logged ${index + 1}/${episodes.length}: ${demo.options.name}\n`);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      const traceUrl = `${client.baseUrl}/portal/traces/${traceId}`;
      if (flags.json) return printJson(io, { trace_id: traceId, trace_url: traceUrl, episodes: logged });
      println(io.stdout, `Logged ${logged.length} demo episodes:\n`);
      println(
        io.stdout,
        table([
          ['STATUS', 'SOURCE', 'NAME', 'PORTAL'],
          ...logged.map((e) => [e.status, e.source, e.name, e.portal_url]),
        ]),
      );
      println(io.stdout, `\n${logged.filter((e) => e.trace_id).length} of them share OTel trace ${traceId}:`);
      println(io.stdout, `  ${traceUrl}`);
      println(io.stdout, `  robotrace trace ${traceId}`);
    });
}
