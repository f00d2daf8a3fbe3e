import { readFileSync } from 'node:fs';
import {
  CreateEpisodeRequest,
  type DeleteEpisodeResponse,
  type EpisodeReferences as EpisodeReferencesSchema,
  type Episode as EpisodeSchema,
  type ExportEpisodesQuery as ExportEpisodesQuerySchema,
  type ExportedEpisode as ExportedEpisodeSchema,
  FinalizeEpisodeRequest,
  type ListEpisodesResponse,
} from '@robotrace/contracts';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import { RoboTrace } from '../../src/client.js';
import { SDK_VERSION } from '../../src/version.js';
import type {
  CreateEpisodeBody,
  DeleteEpisodeResult,
  EpisodePage,
  EpisodeRecord,
  EpisodeReferences,
  ExportEpisodesQuery,
  ExportedEpisode,
  FinalizeEpisodeBody,
} from '../../src/wire.js';
import { BASE, ingestFake, KEY } from '../support/fake-fetch.js';

describe('package', () => {
  it('reports the version in package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(SDK_VERSION).toBe(pkg.version);
  });
});

describe('wire types stay in line with @robotrace/contracts', () => {
  it('request bodies the SDK builds are valid contract requests', async () => {
    expectTypeOf<CreateEpisodeBody>().toExtend<z.input<typeof CreateEpisodeRequest>>();
    expectTypeOf<FinalizeEpisodeBody>().toExtend<z.input<typeof FinalizeEpisodeRequest>>();
    const fetch = ingestFake();
    const rt = new RoboTrace({ apiKey: KEY, baseUrl: BASE, fetch, env: {}, quiet: true });
    await rt.logEpisode({
      name: 'n',
      source: 'replay',
      seed: 1,
      fps: 10,
      durationS: 2,
      status: 'failed',
      failureReason: 'r',
      failureTimeS: 1,
      metadata: { a: 1 },
    });
    expect(() => CreateEpisodeRequest.parse(fetch.requests[0]?.json())).not.toThrow();
    expect(() => FinalizeEpisodeRequest.parse(fetch.requests[1]?.json())).not.toThrow();
  });

  it('response types match the contract shapes', () => {
    expectTypeOf<z.output<typeof EpisodeSchema>>().toExtend<EpisodeRecord>();
    expectTypeOf<z.output<typeof ListEpisodesResponse>>().toExtend<EpisodePage>();
  });

  it('the data lifecycle shapes (delete, its 409 details, export) match the contract', () => {
    expectTypeOf<z.output<typeof DeleteEpisodeResponse>>().toExtend<DeleteEpisodeResult>();
    expectTypeOf<z.output<typeof EpisodeReferencesSchema>>().toExtend<EpisodeReferences>();
    expectTypeOf<z.output<typeof ExportedEpisodeSchema>>().toExtend<ExportedEpisode>();
    expectTypeOf<ExportEpisodesQuery>().toExtend<z.input<typeof ExportEpisodesQuerySchema>>();
  });
});
