import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** spec/sdk-behaviour-vectors.json, read from the repository's spec/ directory (never copied). */
const path = fileURLToPath(new URL('../../../../spec/sdk-behaviour-vectors.json', import.meta.url));

export type Call = 'create' | 'finalize' | 'get' | 'upload_url' | 'upload';
/** A status, a status with a Retry-After header, a refused connection, or no answer at all. */
export type Answer = number | { status: number; retry_after: string } | 'network' | 'timeout';
export type Repeated = { repeat: string; times: number };

export interface BehaviourVectors {
  defaults: { max_retries: number; api_timeout_s: number; upload_idle_timeout_s: number };
  errors: {
    tree: Record<string, string | null>;
    status_cases: Array<{ status: number; code: string; class: string }>;
  };
  retry: {
    retried_statuses: number[];
    retried_status_range: [number, number];
    calls: Call[];
    cases: Array<{
      name: string;
      call: Call;
      answers: Answer[];
      max_retries?: number;
      expect: { attempts: number; error: string | null };
    }>;
    wait_cases: Array<{
      name: string;
      call: Call;
      random: number;
      answers: Answer[];
      expect: { attempts: number; waits_s: number[] };
    }>;
  };
  backoff: {
    base_s: number;
    cap_s: number;
    cases: Array<{ failed_attempts: number; random: number; expect_s: number }>;
  };
  retry_after: {
    cap_s: number;
    now: string;
    cases: Array<{ header: string | null; expect_s: number | null }>;
  };
  idempotency: { cases: Array<{ call: Call; answers: Answer[]; key: 'same' | 'absent' }> };
  arguments: {
    cases: Array<{
      call: 'create' | 'finalize';
      field: string;
      value: Repeated | { blob: Repeated };
      ok: boolean;
      bytes?: number;
    }>;
  };
}

export const behaviour = JSON.parse(readFileSync(path, 'utf8')) as BehaviourVectors;

/** `{repeat: "a", times: 3}` → "aaa"; `{blob: {...}}` → `{blob: "aaa"}` (vectors stay small on disk). */
export function expand(value: Repeated | { blob: Repeated }): string | { blob: string } {
  if ('blob' in value) return { blob: value.blob.repeat.repeat(value.blob.times) };
  return value.repeat.repeat(value.times);
}
