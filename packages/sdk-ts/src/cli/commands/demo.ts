import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { demoEpisodes } from '../../demo/episodes.js';
import { demoVideo } from '../../demo/video.js';
import { cliClient } from '../client.js';
import { table } from '../format.js';
import { type CliIo, printJson, println } from '../io.js';

export function registerDemo(program: Command, io: CliIo): void {
  program
    .command('demo')
    .description(
      'log sample episodes (sim and real, some failed, several under one OTel trace) to explore the portal',
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
          const video = join(dir, `rollout-${index + 1}.mp4`);
          writeFileSync(video, demoVideo(demo.video));
          const episode = await client.logEpisode({ ...demo.options, video });
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
