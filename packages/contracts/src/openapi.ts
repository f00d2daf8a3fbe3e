import { z } from 'zod';
import { API_ROUTES } from './api-routes.js';
import { ErrorBody } from './common.js';
import { errorStatusesOf, openApiPath, type RouteDef } from './route.js';

type JsonObject = Record<string, unknown>;

/** The reason phrases of the error statuses routes answer (no node:http here: contracts stay platform-free). */
const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
  507: 'Insufficient Storage',
};

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const idOf = (schema: z.ZodType): string | undefined =>
  z.globalRegistry.get(schema)?.id as string | undefined;

/**
 * Every schema with an id inside `schema` (itself included): a nested one left out of the components would
 * land in a `__shared` $defs block under a reference no OpenAPI tool resolves. Walks the definitions generically
 * (object shapes, array elements, wrapped and union members), so a new contract needs no list kept here.
 */
function collectIds(schema: z.ZodType, out: Set<z.ZodType>, seen = new Set<unknown>()): void {
  const visit = (value: unknown): void => {
    if (value === null || typeof value !== 'object' || seen.has(value)) return;
    seen.add(value);
    if (value instanceof z.ZodType) {
      if (idOf(value)) out.add(value);
      visit(value._zod.def);
    } else if (Array.isArray(value)) value.forEach(visit);
    else for (const v of Object.values(value)) visit(v);
  };
  visit(schema);
}

function schemaOf(schema: z.ZodType): JsonObject {
  const id = idOf(schema);
  if (id) return ref(id);
  const out = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonObject;
  delete out.$schema;
  return out;
}

/** Every schema with an id the document references, once, under #/components/schemas. */
function componentSchemas(): JsonObject {
  const found = new Set<z.ZodType>();
  collectIds(ErrorBody, found);
  for (const route of API_ROUTES) {
    // Parameters are inlined field by field (schemaOf), so only their fields' ids become components.
    const fields = [route.params, route.query].flatMap((o) => Object.values(o?.shape ?? {}) as z.ZodType[]);
    const bodies = [route.body, ...Object.values(route.responses).map((r) => r.schema)];
    for (const schema of [...fields, ...bodies]) if (schema) collectIds(schema, found);
  }
  const registry = z.registry<{ id: string }>();
  for (const schema of found) registry.add(schema, { id: idOf(schema) ?? '' });
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
  // One left out would land in a `__shared` $defs block under a reference no OpenAPI tool resolves.
  if ('__shared' in out.schemas) throw new Error('openapi: a referenced schema with an id is not registered');
  // What the core enforces beyond the Zod object (finalizeEpisode): failure_time_s only with status "failed".
  // (status is "failed") or (failure_time_s is null or absent)
  Object.assign(out.schemas.FinalizeEpisodeRequest ?? {}, {
    anyOf: [
      { properties: { status: { const: 'failed' } } },
      { properties: { failure_time_s: { type: 'null' } } },
    ],
  });
  // By name: the document reads (and diffs) the same whatever order the routes reach them in.
  return Object.fromEntries(Object.entries(out.schemas).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function parameters(route: RouteDef): JsonObject[] {
  const from = (where: 'path' | 'query', object: z.ZodObject | undefined) =>
    Object.entries(object?.shape ?? {}).map(([name, field]) => {
      const schema = schemaOf(field as z.ZodType);
      const description = schema.description;
      delete schema.description;
      return {
        name,
        in: where,
        required: where === 'path' || !(field as z.ZodType).safeParse(undefined).success,
        ...(description ? { description } : {}),
        schema,
      };
    });
  return [...from('path', route.params), ...from('query', route.query)];
}

function requestBody(route: RouteDef): JsonObject | undefined {
  // A POST without a body is read as `{}` (apps/web's http/body.ts): the body is optional where `{}` is valid.
  if (route.body)
    return {
      required: !route.body.safeParse({}).success,
      content: { 'application/json': { schema: schemaOf(route.body) } },
    };
  if (route.rawBody)
    return {
      required: true,
      description: route.rawBody.description,
      content: Object.fromEntries(
        route.rawBody.contentTypes.map((t) => [t, { schema: { type: 'string', format: 'binary' } }]),
      ),
    };
  return undefined;
}

function responses(route: RouteDef): JsonObject {
  const out: JsonObject = {};
  for (const [status, r] of Object.entries(route.responses)) {
    const content = r.schema
      ? { 'application/json': { schema: schemaOf(r.schema) } }
      : r.contentType
        ? { [r.contentType]: { schema: { type: 'string', format: 'binary' } } }
        : undefined;
    out[status] = {
      description: r.description,
      ...(content ? { content } : {}),
      ...(r.links ? { links: r.links } : {}),
    };
  }
  for (const status of errorStatusesOf(route))
    out[String(status)] = {
      description: REASONS[status] ?? 'Error',
      // A 416 carries only Content-Range; every other error answers the one error body.
      ...(status === 416 ? {} : { content: { 'application/json': { schema: ref('Error') } } }),
    };
  return out;
}

const SECURITY: Record<RouteDef['auth'], JsonObject[] | undefined> = {
  apiKey: [{ apiKey: [] }],
  apiKeyOrSession: [{ apiKey: [] }, { session: [] }],
  signedUrl: undefined,
  none: undefined,
};

function operation(route: RouteDef): JsonObject {
  const params = parameters(route);
  const body = requestBody(route);
  const security = SECURITY[route.auth];
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    ...(security ? { security } : {}),
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(body ? { requestBody: body } : {}),
    responses: responses(route),
  };
}

/** The OpenAPI 3.1 document of the HTTP API, derived from the route table (served at /api/openapi.json). */
export function buildOpenApiDocument(serverUrl?: string): JsonObject {
  const paths: Record<string, JsonObject> = {};
  for (const route of API_ROUTES) {
    const path = openApiPath(route.path);
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation(route) };
  }
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
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'rt_… API key' },
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: 'robotrace.session_token',
          description: 'The portal session (the <video> player and download links)',
        },
      },
    },
    paths,
  };
}
