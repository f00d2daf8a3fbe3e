import { parseTraceLinkConfig, type TraceLinkConfig } from '@robotrace/core';
import { runtimeEnv } from '../env.js';
import type { Logger } from '../log.js';

/**
 * Reads NEXT_PUBLIC_TRACE_URL_TEMPLATE and ROBOTRACE_TRACE_LINKS when the server starts (by computed name, so
 * no bundler inlines them): a restart applies a change, a rebuild is never needed. Refused templates and a
 * malformed ROBOTRACE_TRACE_LINKS are reported in the log here, and on the settings page.
 */
export function loadTraceLinkConfig(log: Logger, source: NodeJS.ProcessEnv = process.env): TraceLinkConfig {
  const config = parseTraceLinkConfig({
    urlTemplate: runtimeEnv('NEXT_PUBLIC_TRACE_URL_TEMPLATE', source),
    links: runtimeEnv('ROBOTRACE_TRACE_LINKS', source),
  });
  for (const message of config.errors) log.error(`trace links: ${message}`);
  for (const t of config.templates) {
    if (t.error !== null)
      log.error(`trace links: refused ${t.source}: ${t.error}; no "${t.name}" button will be shown`, {
        template: t.template,
      });
  }
  const usable = config.templates.filter((t) => t.error === null).map((t) => t.name);
  if (usable.length > 0) log.info('trace links configured', { buttons: usable });
  return config;
}
