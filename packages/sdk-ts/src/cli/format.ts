import type { EpisodeRecord } from '../wire.js';

/** Left-aligned columns sized to their content, for terminal tables. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows
    .map((row) =>
      row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '),
    )
    .join('\n');
}

/** `2026-11-24 10:00:00` in UTC: sortable, and the same whatever the reader's time zone. */
export function shortTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toISOString().replace('T', ' ').slice(0, 19);
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
}

export function episodeRows(episodes: EpisodeRecord[], withUrl: boolean): string[][] {
  const header = ['ID', 'STATUS', 'SOURCE', 'CREATED (UTC)', 'NAME'];
  if (withUrl) header.push('PORTAL');
  return [
    header,
    ...episodes.map((e) => {
      const row = [e.id, e.status, e.source, shortTime(e.created_at), e.name ?? '-'];
      if (withUrl) row.push(e.portal_url);
      return row;
    }),
  ];
}

/** Every field a person looks at on one episode, as `label  value` lines. */
export function episodeDetails(e: EpisodeRecord): string {
  const rows: string[][] = [
    ['id', e.id],
    ['name', e.name ?? '-'],
    ['status', e.status],
    ['source', e.source],
    ['robot', e.robot ?? '-'],
    ['policy_version', e.policy_version ?? '-'],
    ['env_version', e.env_version ?? '-'],
    ['git_sha', e.git_sha ?? '-'],
    ['seed', e.seed === null ? '-' : String(e.seed)],
    ['fps', e.fps === null ? '-' : String(e.fps)],
    ['duration_s', e.duration_s === null ? '-' : String(e.duration_s)],
    ['created_at', e.created_at],
    ['finalized_at', e.finalized_at ?? '-'],
  ];
  const reason = e.metadata?.failure_reason;
  if (typeof reason === 'string') rows.push(['failure_reason', reason]);
  if (e.otel) {
    rows.push(['trace_id', e.otel.trace_id], ['span_id', e.otel.span_id]);
    if (e.otel.traceparent) rows.push(['traceparent', e.otel.traceparent]);
    if (e.otel.tracestate) rows.push(['tracestate', e.otel.tracestate]);
  }
  for (const artifact of e.artifacts ?? []) {
    const size = artifact.size_bytes === null ? '' : ` ${formatBytes(artifact.size_bytes)}`;
    rows.push([`artifact.${artifact.kind}`, artifact.uploaded ? `uploaded${size}` : 'not uploaded']);
  }
  rows.push(['portal', e.portal_url]);
  return table(rows);
}
