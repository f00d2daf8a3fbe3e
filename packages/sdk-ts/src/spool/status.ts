import { readFile } from 'node:fs/promises';
import { recordSize } from './record.js';
import type { SpoolStore } from './store.js';

export interface SpoolEntry {
  id: string;
  name?: string | null;
  size?: number;
  created_at?: string;
  corrupt?: string;
  attempts?: number;
  last_error?: string | null;
  reason?: string;
}

/** What `robotrace spool status` shows (the same JSON from the Python CLI). */
export interface SpoolStatus {
  root: string;
  waiting: SpoolEntry[];
  parked: SpoolEntry[];
  delivered: number;
  last_delivered: Array<Record<string, unknown>>;
}

export async function spoolStatus(store: SpoolStore): Promise<SpoolStatus> {
  const status: SpoolStatus = {
    root: store.root,
    waiting: [],
    parked: [],
    delivered: 0,
    last_delivered: [],
  };
  for (const area of ['waiting', 'parked'] as const) {
    for (const id of store.ids(area)) {
      const state = await store.state(id, area);
      const entry: SpoolEntry = { id };
      try {
        const record = await store.load(id, area);
        entry.name = nameOf(record.createBody);
        entry.size = recordSize(record);
        entry.created_at = record.createdAt;
      } catch (error) {
        entry.corrupt = (error as Error).message;
      }
      if (area === 'waiting') {
        entry.attempts = state.attempts ?? 0;
        entry.last_error = state.last_error ?? null;
      } else entry.reason = state.parked_reason ?? '';
      status[area].push(entry);
    }
  }
  const receipts = store.ids('delivered');
  status.delivered = receipts.length;
  for (const name of receipts.slice(-5)) {
    try {
      status.last_delivered.push(JSON.parse(await readFile(store.dir('delivered', name), 'utf8')));
    } catch {
      status.last_delivered.push({ id: name.replace(/\.json$/, '') });
    }
  }
  return status;
}

function nameOf(createBody: string): string | null {
  try {
    const name = (JSON.parse(createBody) as { name?: unknown }).name;
    return typeof name === 'string' ? name : null;
  } catch {
    return null;
  }
}
