import type { Command } from 'commander';
import type { RoboTrace } from '../../client.js';
import type { TraceLookup } from '../../lookup.js';
import type { EpisodeRecord } from '../../wire.js';
import { cliClient } from '../client.js';
import { shortTime, table } from '../format.js';
import { type CliIo, printJson, println } from '../io.js';
import * as parse from '../options.js';

export function registerTrace(program: Command, io: CliIo): void {
  program
    .command('trace')
    .description('every episode of one trace, in time order, with portal URLs')
    .argument(
      '<ref>',
      'trace id, traceparent, X-Ray id, span id, or an APM URL containing a trace id',
      parse.traceLookup,
    )
    .option('--json', 'print {trace_id, portal_url, episodes} as JSON')
    .action(async (ref: TraceLookup, flags: { json?: boolean }) => {
      const client = cliClient(io);
      const traceId = ref.trace_id ?? (await traceOfSpan(client, ref.span_id ?? ''));
      const episodes = traceId ? await episodesOfTrace(client, traceId) : [];
      const traceUrl = traceId ? `${client.baseUrl}/portal/traces/${traceId}` : null;
      if (flags.json) return printJson(io, { trace_id: traceId ?? null, portal_url: traceUrl, episodes });
      if (!traceId) return println(io.stdout, `No episode carries span ${ref.span_id}.`);
      if (episodes.length === 0) return println(io.stdout, `No episodes carry trace ${traceId}.`);
      println(
        io.stdout,
        `Trace ${traceId}: ${episodes.length} episode${episodes.length === 1 ? '' : 's'}  ${traceUrl}\n`,
      );
      const rows = episodes.map((e) => [
        shortTime(e.created_at),
        e.status,
        e.source,
        e.name ?? '-',
        `span ${e.otel?.span_id ?? '-'}`,
        e.portal_url,
      ]);
      println(io.stdout, table([['CREATED (UTC)', 'STATUS', 'SOURCE', 'NAME', 'SPAN', 'PORTAL'], ...rows]));
    });
}

/** A span id alone names one trace: find it through an episode that carries the span. */
async function traceOfSpan(client: RoboTrace, spanId: string): Promise<string | undefined> {
  const page = await client.listEpisodes({ span_id: spanId, limit: 1 });
  return page.data[0]?.otel?.trace_id;
}

async function episodesOfTrace(client: RoboTrace, traceId: string): Promise<EpisodeRecord[]> {
  const episodes: EpisodeRecord[] = [];
  for await (const episode of client.iterateEpisodes({ trace_id: traceId, limit: 200 }))
    episodes.push(episode);
  return episodes.sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at));
}
