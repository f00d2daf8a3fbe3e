import { readFileSync } from 'node:fs';

/** The shared, language-neutral vectors (spec/trace-context-vectors.json), read from the repo's spec/ dir. */
export interface Vectors {
  capture: { cases: Array<{ name: string; expect: unknown }> };
  ingest: {
    cases: Array<{
      name: string;
      otel?: unknown;
      metadata?: Record<string, unknown>;
      stored: unknown;
      warning: boolean;
    }>;
  };
  links: {
    otel: Record<string, string>;
    cases: Array<{
      name: string;
      template: string;
      expect: string | null;
      config_error?: boolean;
      otel?: Record<string, string>;
    }>;
  };
  lookup: { cases: Array<{ input: string; expect: Record<string, string> | null }> };
}

export const vectors: Vectors = JSON.parse(
  readFileSync(new URL('../../../../spec/trace-context-vectors.json', import.meta.url), 'utf8'),
);
