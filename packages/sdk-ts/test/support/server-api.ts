import { Episode as EpisodeSchema, ListEpisodesResponse } from '@robotrace/contracts';
import type { EpisodePage, EpisodeRecord } from '../../src/wire.js';

/** Reads the server directly (not through the SDK under test) and checks each answer against the contracts. */
export function serverApi(baseUrl: string, apiKey: string) {
  const get = async (path: string, init: RequestInit = {}) =>
    fetch(`${baseUrl}${path}`, { ...init, headers: { authorization: `Bearer ${apiKey}` } });
  return {
    async episode(id: string): Promise<EpisodeRecord> {
      const response = await get(`/api/episodes/${id}`);
      if (response.status !== 200)
        throw new Error(`GET episode ${id}: ${response.status} ${await response.text()}`);
      return EpisodeSchema.parse(await response.json()) as EpisodeRecord;
    },
    async list(query: Record<string, string>): Promise<EpisodePage> {
      const response = await get(`/api/episodes?${new URLSearchParams(query)}`);
      if (response.status !== 200)
        throw new Error(`GET episodes: ${response.status} ${await response.text()}`);
      return ListEpisodesResponse.parse(await response.json()) as EpisodePage;
    },
    /** The artifact bytes, through the 302 to the signed URL as a browser would follow it. */
    async artifact(id: string, kind: string): Promise<{ redirect: number; location: string; bytes: Buffer }> {
      const response = await get(`/api/episodes/${id}/artifact/${kind}`, { redirect: 'manual' });
      const location = response.headers.get('location') ?? '';
      const file = await fetch(new URL(location, baseUrl));
      if (file.status !== 200) throw new Error(`GET ${location}: ${file.status}`);
      return { redirect: response.status, location, bytes: Buffer.from(await file.arrayBuffer()) };
    },
  };
}
