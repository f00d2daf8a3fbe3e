import { z } from 'zod';
import { ErrorBody } from './common.js';
import {
  Artifact,
  CreateEpisodeRequest,
  CreateEpisodeResponse,
  Episode,
  FinalizeEpisodeRequest,
  FinalizeEpisodeResponse,
  HealthResponse,
  ListEpisodesQuery,
  ListEpisodesResponse,
  UploadUrl,
  UploadUrlRequest,
} from './episodes.js';
import { OtelBlock } from './otel.js';

type JsonObject = Record<string, unknown>;

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const json = (id: string) => ({ 'application/json': { schema: ref(id) } });
const errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [String(s), { description: 'Error', content: json('Error') }]));
const bearer = [{ apiKey: [] }];
/**
 * Where a created episode's id leads (OpenAPI links, followed by clients and by the fuzzer's stateful phase).
 * Not to an artifact or an upload URL: those name a slot too, and a slot the create did not request is a 404.
 */
const episodeId = { episode_id: '$response.body#/episode_id' };
const episodeLinks = {
  getEpisode: { operationId: 'getEpisode', parameters: episodeId },
  finalizeEpisode: { operationId: 'finalizeEpisode', parameters: episodeId },
};
const episodeIdParam = {
  name: 'episode_id',
  in: 'path',
  required: true,
  schema: { type: 'string', format: 'uuid' },
};

function componentSchemas(): JsonObject {
  // Every schema with an id that the documents reference: one left out would land in a `__shared` $defs
  // block under a `#/components/schemas/__shared#/…` reference that no OpenAPI tool resolves.
  const schemas = [
    ErrorBody,
    CreateEpisodeRequest,
    CreateEpisodeResponse,
    UploadUrl,
    UploadUrlRequest,
    FinalizeEpisodeRequest,
    FinalizeEpisodeResponse,
    Artifact,
    Episode,
    OtelBlock,
    ListEpisodesResponse,
    HealthResponse,
  ];
  const registry = z.registry<{ id: string }>();
  for (const schema of schemas) {
    const id = z.globalRegistry.get(schema)?.id;
    if (id) registry.add(schema, { id });
  }
  const out = z.toJSONSchema(registry, {
    uri: (id) => `#/components/schemas/${id}`,
    io: 'input',
    unrepresentable: 'any',
  }) as { schemas: Record<string, JsonObject> };
  for (const schema of Object.values(out.schemas)) {
    // A component is named by its key; `$id` with a fragment is not a valid JSON Schema identifier.
    delete schema.$schema;
    delete schema.$id;
  }
  if ('__shared' in out.schemas) throw new Error('openapi: a referenced schema with an id is not registered');
  // What the core enforces beyond the Zod object (finalizeEpisode): failure_time_s only with status "failed".
  // (status is "failed") or (failure_time_s is null or absent)
  Object.assign(out.schemas.FinalizeEpisodeRequest ?? {}, {
    anyOf: [
      { properties: { status: { const: 'failed' } } },
      { properties: { failure_time_s: { type: 'null' } } },
    ],
  });
  return out.schemas;
}

function queryParameters(): JsonObject[] {
  const shape = ListEpisodesQuery.shape;
  return Object.keys(shape).map((name) => {
    const schema = z.toJSONSchema(shape[name as keyof typeof shape], { io: 'input', unrepresentable: 'any' });
    delete (schema as JsonObject).$schema;
    return { name, in: 'query', required: false, schema };
  });
}

/** The OpenAPI 3.1 document of the HTTP API, generated from the Zod contracts (served at /api/openapi.json). */
export function buildOpenApiDocument(serverUrl?: string): JsonObject {
  return {
    openapi: '3.1.0',
    info: {
      title: 'RoboTrace API',
      version: '0.1.0',
      description: 'Episode ingest and read API, wire-compatible with the robotrace-dev SDK.',
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    components: {
      schemas: componentSchemas(),
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'rt_… API key' } },
    },
    paths: {
      '/api/health': {
        get: {
          operationId: 'health',
          responses: { '200': { description: 'Ready', content: json('Health') }, ...errors(503) },
        },
      },
      '/api/ingest/episode': {
        post: {
          operationId: 'createEpisode',
          security: bearer,
          requestBody: { required: true, content: json('CreateEpisodeRequest') },
          responses: {
            '201': { description: 'Created', content: json('CreateEpisodeResponse'), links: episodeLinks },
            ...errors(400, 401, 409, 413, 429, 503),
          },
        },
      },
      '/api/ingest/episode/{episode_id}/finalize': {
        post: {
          operationId: 'finalizeEpisode',
          security: bearer,
          parameters: [episodeIdParam],
          requestBody: { required: true, content: json('FinalizeEpisodeRequest') },
          responses: {
            '200': { description: 'Finalized', content: json('FinalizeEpisodeResponse') },
            ...errors(400, 401, 404, 409, 413, 429, 503),
          },
        },
      },
      '/api/ingest/episode/{episode_id}/upload-url': {
        post: {
          operationId: 'refreshUploadUrl',
          description:
            'A fresh signed upload URL for one slot of a recording episode (the first one expired).',
          security: bearer,
          parameters: [episodeIdParam],
          requestBody: { required: true, content: json('UploadUrlRequest') },
          responses: {
            '200': { description: 'A signed upload URL', content: json('UploadUrl') },
            ...errors(400, 401, 404, 409, 413, 429, 503),
          },
        },
      },
      '/api/episodes': {
        get: {
          operationId: 'listEpisodes',
          security: bearer,
          parameters: queryParameters(),
          responses: {
            '200': { description: 'A page of episodes, newest first', content: json('ListEpisodesResponse') },
            ...errors(400, 401, 429),
          },
        },
      },
      '/api/episodes/{episode_id}': {
        get: {
          operationId: 'getEpisode',
          security: bearer,
          parameters: [episodeIdParam],
          responses: {
            '200': { description: 'The episode', content: json('Episode') },
            ...errors(400, 401, 404),
          },
        },
      },
      '/api/episodes/{episode_id}/artifact/{kind}': {
        get: {
          operationId: 'getArtifact',
          security: bearer,
          parameters: [
            episodeIdParam,
            {
              name: 'kind',
              in: 'path',
              required: true,
              schema: { type: 'string', enum: ['video', 'sensors', 'actions'] },
            },
          ],
          responses: {
            '302': { description: 'Redirect to a short-lived signed download URL' },
            ...errors(400, 401, 404),
          },
        },
      },
    },
  };
}
