import { z } from 'zod';
import { cliAuthPoll, cliAuthRevoke, cliAuthStart } from './cli-auth.js';
import { ArtifactKind } from './common.js';
import {
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
import { createEvalRun, finalizeEvalRun, recordEvalResult } from './evals.js';
import {
  deleteEpisodeRoute,
  exportEpisodesRoute,
  getRetentionRoute,
  setRetentionRoute,
  storageUsageRoute,
} from './lifecycle.js';
import {
  completeMultipartUpload,
  getMultipartUpload,
  signMultipartParts,
  startMultipartUpload,
  uploadPart,
} from './multipart.js';
import { defineRoute, type RouteDef } from './route.js';
import { SignedUrlQuery, UploadStoredResponse } from './storage.js';
import { getEpisodeTraceRoute, getTraceRoute } from './trace.js';
import { getTrackWindowRoute, listTracksRoute } from './tracks.js';
import { checkGate, promoteScenario, recordVerifyResult } from './verify.js';

/**
 * The HTTP API, one definition per route (see route.ts). Adding a route: a definition here (and in API_ROUTES),
 * a handler bound to it in apps/web/src/routes/. Portal pages and Better Auth's /api/auth/* are not listed:
 * they are HTML and form posts, not the JSON API.
 */

/** Ids are UUIDs (any version, as core's isUuid reads them); anything else names no episode: 404. */
const EpisodeIdParams = z.object({ episode_id: z.guid() });

const OpenApiDocument = z.record(z.string(), z.unknown()).meta({ id: 'OpenApiDocument' });

/**
 * Where a created episode's id leads. Not to an artifact or an upload URL: those name a slot too, and a slot
 * the create did not request is a 404. Not to the delete either: schemathesis counts a DELETE only against the
 * paths below the one it targets, so a finalize after the delete (/api/ingest/episode/{id}/finalize — rightly a 404)
 * reads to it as "created resource not found". The delete is covered by the app tests (404 twice, replays).
 */
const episodeId = { episode_id: '$response.body#/episode_id' };
const episodeLinks = {
  getEpisode: { operationId: 'getEpisode', parameters: episodeId },
  finalizeEpisode: { operationId: 'finalizeEpisode', parameters: episodeId },
};

export const health = defineRoute({
  operationId: 'health',
  method: 'GET',
  path: '/api/health',
  auth: 'none',
  summary: 'Ready when the database and storage answer',
  responses: { 200: { description: 'Ready', schema: HealthResponse } },
  errors: [],
});

export const openApi = defineRoute({
  operationId: 'openApi',
  method: 'GET',
  path: '/api/openapi.json',
  auth: 'none',
  summary: 'This document (OpenAPI 3.1, derived from the route table)',
  responses: { 200: { description: 'The OpenAPI document', schema: OpenApiDocument } },
  errors: [],
});

export const createEpisode = defineRoute({
  operationId: 'createEpisode',
  method: 'POST',
  path: '/api/ingest/episode',
  auth: 'apiKey',
  summary: 'Create an episode and its signed upload URLs',
  body: CreateEpisodeRequest,
  responses: { 201: { description: 'Created', schema: CreateEpisodeResponse, links: episodeLinks } },
  errors: [409],
});

export const finalizeEpisode = defineRoute({
  operationId: 'finalizeEpisode',
  method: 'POST',
  path: '/api/ingest/episode/{episode_id}/finalize',
  auth: 'apiKey',
  summary: 'Finalize a recording episode (ready or failed)',
  params: EpisodeIdParams,
  body: FinalizeEpisodeRequest,
  responses: { 200: { description: 'Finalized', schema: FinalizeEpisodeResponse } },
  errors: [404, 409],
});

export const refreshUploadUrl = defineRoute({
  operationId: 'refreshUploadUrl',
  method: 'POST',
  path: '/api/ingest/episode/{episode_id}/upload-url',
  auth: 'apiKey',
  summary: 'A fresh signed upload URL for one slot of a recording episode (the first one expired)',
  params: EpisodeIdParams,
  body: UploadUrlRequest,
  responses: { 200: { description: 'A signed upload URL', schema: UploadUrl } },
  errors: [404, 409],
});

export const listEpisodes = defineRoute({
  operationId: 'listEpisodes',
  method: 'GET',
  path: '/api/episodes',
  auth: 'apiKey',
  summary: 'A page of episodes, newest first (filters, trace lookup, keyset pagination)',
  query: ListEpisodesQuery,
  responses: { 200: { description: 'A page of episodes, newest first', schema: ListEpisodesResponse } },
  errors: [],
});

export const getEpisode = defineRoute({
  operationId: 'getEpisode',
  method: 'GET',
  path: '/api/episodes/{episode_id}',
  auth: 'apiKey',
  summary: 'One episode: its repro fields, metadata, trace context and artifacts',
  params: EpisodeIdParams,
  responses: { 200: { description: 'The episode', schema: Episode } },
  errors: [404],
});

export const getArtifact = defineRoute({
  operationId: 'getArtifact',
  method: 'GET',
  path: '/api/episodes/{episode_id}/artifact/{kind}',
  auth: 'apiKeyOrSession',
  summary: "Redirect to a short-lived signed download URL of one of an episode's artifacts",
  params: EpisodeIdParams.extend({ kind: ArtifactKind }),
  responses: { 302: { description: 'Redirect to a short-lived signed download URL' } },
  errors: [404],
});

const localOnly = 'Served by the app only when artifacts live on the local disk (S3 serves its own URLs).';

export const uploadArtifact = defineRoute({
  operationId: 'uploadArtifact',
  method: 'PUT',
  path: '/api/storage/{key*}',
  auth: 'signedUrl',
  summary: 'Upload an artifact to a signed URL the create (or upload-url) handed out',
  description: localOnly,
  params: z.object({ key: z.string() }),
  query: SignedUrlQuery,
  rawBody: {
    contentTypes: ['video/mp4', 'application/octet-stream'],
    description:
      "The file, with its slot's Content-Type (video/mp4 for video, else application/octet-stream)",
  },
  responses: { 200: { description: 'Stored', schema: UploadStoredResponse } },
  errors: [400, 403, 404, 409, 413, 415, 507],
});

export const downloadArtifact = defineRoute({
  operationId: 'downloadArtifact',
  method: 'GET',
  path: '/api/storage/{key*}',
  auth: 'signedUrl',
  summary: 'Download an artifact from a signed URL (Range supported)',
  description: localOnly,
  params: z.object({ key: z.string() }),
  query: SignedUrlQuery,
  responses: {
    200: { description: 'The artifact', contentType: 'application/octet-stream' },
    206: { description: 'The requested range', contentType: 'application/octet-stream' },
  },
  errors: [403, 404, 416],
});

/** Every API route, in the order the router tries them and the document lists them. */
export const API_ROUTES: readonly RouteDef[] = [
  health,
  openApi,
  createEpisode,
  finalizeEpisode,
  refreshUploadUrl,
  // Resumable uploads of large files (multipart.ts).
  startMultipartUpload,
  getMultipartUpload,
  signMultipartParts,
  completeMultipartUpload,
  listEpisodes,
  // Before getEpisode: `export` is not an episode id.
  exportEpisodesRoute,
  getEpisode,
  deleteEpisodeRoute,
  getArtifact,
  listTracksRoute,
  getTrackWindowRoute,
  getEpisodeTraceRoute,
  getTraceRoute,
  // The other pillars (OFFICIAL_PILLARS.md §1–§3).
  createEvalRun,
  recordEvalResult,
  finalizeEvalRun,
  promoteScenario,
  recordVerifyResult,
  checkGate,
  // Data lifecycle (issue 20): storage used and retention.
  storageUsageRoute,
  getRetentionRoute,
  setRetentionRoute,
  cliAuthStart,
  cliAuthPoll,
  cliAuthRevoke,
  uploadArtifact,
  downloadArtifact,
  uploadPart,
];
