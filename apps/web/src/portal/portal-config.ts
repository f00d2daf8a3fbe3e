import type { TraceLinkConfig } from '@robotrace/core';

/** What the portal reads once at start (a restart applies a change). */
export interface PortalConfig {
  traceLinks: TraceLinkConfig;
}
