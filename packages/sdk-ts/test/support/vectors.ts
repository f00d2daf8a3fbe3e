import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The shared vectors, read from the repository's spec/ directory (never copied). */
const path = fileURLToPath(new URL('../../../../spec/trace-context-vectors.json', import.meta.url));

export interface CaptureCase {
  name: string;
  respect_sampled?: boolean;
  span_context: { trace_id: string; span_id: string; trace_flags: number; trace_state: string };
  expect: Record<string, string> | null;
}

export interface LookupCase {
  input: string;
  expect: { trace_id?: string; span_id?: string } | null;
}

interface Vectors {
  capture: { cases: CaptureCase[] };
  lookup: { cases: LookupCase[] };
}

export const vectors = JSON.parse(readFileSync(path, 'utf8')) as Vectors;
