import type { ExportEpisodesQuery, ExportedEpisode } from '@robotrace/contracts';
import type { CoreDeps } from '../deps.js';
import { listEpisodes } from '../episodes.js';

/** Episodes read per page while exporting: bounded memory whatever the project holds. */
const PAGE = 200;

/**
 * Every episode matching the list's filters, newest first, as GET /api/episodes/{id} answers it, with one
 * entry per stored file (its absolute download URL). Pages through the list's keyset, so an export of a
 * million episodes holds one page at a time.
 */
export async function* exportEpisodes(
  deps: CoreDeps,
  input: { projectId: string; filters: ExportEpisodesQuery; baseUrl: string },
): AsyncGenerator<ExportedEpisode> {
  let cursor: string | undefined;
  do {
    const page = await listEpisodes(
      deps,
      { projectId: input.projectId },
      { ...input.filters, limit: PAGE, cursor },
      { baseUrl: input.baseUrl },
    );
    for (const ep of page.data)
      yield {
        ...ep,
        artifacts: ep.artifacts
          .filter((a) => a.uploaded)
          .map((a) => ({ kind: a.kind, url: a.url, bytes: a.size_bytes, content_type: a.content_type })),
      };
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
}
