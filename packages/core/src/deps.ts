import type { ArtifactKind } from '@robotrace/contracts';
import type { Database } from '@robotrace/db';
import type { ArtifactStore } from '@robotrace/storage';

export interface Clock {
  now: () => Date;
}

export const systemClock: Clock = { now: () => new Date() };

export interface CoreLimits {
  /** Lifetime of a signed upload URL. */
  uploadUrlTtlS: number;
  /** Lifetime of a signed download URL (artifact redirects). */
  downloadUrlTtlS: number;
  /** Largest artifact of a kind; applied at finalize to uploads that bypass the app (S3). Absent = no cap. */
  maxUploadBytes?: (kind: ArtifactKind) => number;
}

/** The ports the domain runs on; nothing here knows about HTTP or a framework. */
export interface CoreDeps {
  db: Database;
  store: ArtifactStore;
  clock: Clock;
  limits: CoreLimits;
  /** The team's trace backend (ROBOTRACE_TRACE_SOURCE); absent: the span lane says "not configured". */
  traceSource?: import('./trace-source/source.js').TraceSource | undefined;
  /**
   * Copies this instance derived from stored files (the replay's decoded columns on disk): told when a file is
   * removed for good, so a deleted episode's data does not outlive it here. Absent: nothing derived is kept.
   */
  derivedCopies?: { forgetFile(storageKey: string): Promise<void> } | undefined;
}

/** What a function needs that only reads or writes rows (no storage, no time). */
export type DbDeps = Pick<CoreDeps, 'db'>;
/** What a function needs that also stamps or compares times. */
export type DbClockDeps = Pick<CoreDeps, 'db' | 'clock'>;

/** Every tenant-owned query takes this: the project the caller's key or session belongs to. */
export interface ProjectScope {
  projectId: string;
}

/** Where the caller reaches us, for the URLs we hand back (portal links, local signed URLs). */
export interface RequestContext {
  baseUrl: string;
}
