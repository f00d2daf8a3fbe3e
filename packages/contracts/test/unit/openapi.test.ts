import { describe, expect, it } from 'vitest';
import {
  API_ROUTES,
  buildOpenApiDocument,
  errorStatusesOf,
  openApiPath,
  type RouteDef,
} from '../../src/index.js';

interface Operation {
  operationId: string;
  security?: unknown[];
  requestBody?: { required: boolean; content: Record<string, unknown> };
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
}
const doc = buildOpenApiDocument() as {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
};
const operationOf = (route: RouteDef): Operation | undefined =>
  doc.paths[openApiPath(route.path)]?.[route.method.toLowerCase()];

describe('the OpenAPI document is derived from the route table', () => {
  it("is OpenAPI 3.1 and has exactly the table's operations, no more", () => {
    expect(doc.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(API_ROUTES.map((r) => `${r.method} ${openApiPath(r.path)}`).sort());
    for (const route of API_ROUTES) expect(operationOf(route)?.operationId).toBe(route.operationId);
    expect(new Set(API_ROUTES.map((r) => r.operationId)).size).toBe(API_ROUTES.length);
  });

  it('lists 401, 429 and 503 on every key-authenticated route, and says it takes the key', () => {
    const keyed = API_ROUTES.filter((r) => r.auth === 'apiKey' || r.auth === 'apiKeyOrSession');
    expect(keyed.length).toBeGreaterThanOrEqual(6);
    for (const route of keyed) {
      const op = operationOf(route);
      expect(Object.keys(op?.responses ?? {}), route.operationId).toEqual(
        expect.arrayContaining(['401', '429', '503']),
      );
      expect(op?.security, route.operationId).toContainEqual({ apiKey: [] });
    }
    for (const route of API_ROUTES.filter((r) => r.auth === 'none' || r.auth === 'signedUrl'))
      expect(operationOf(route)?.security, route.operationId).toBeUndefined();
  });

  it('lists 400, 413 and 415 on every JSON body route, and documents the body as JSON only', () => {
    const withBody = API_ROUTES.filter((r) => r.body);
    expect(withBody.map((r) => r.operationId)).toEqual(
      expect.arrayContaining(['createEpisode', 'finalizeEpisode', 'refreshUploadUrl']),
    );
    const finalize = withBody.find((r) => r.operationId === 'finalizeEpisode') as RouteDef;
    expect(operationOf(finalize)?.requestBody?.required).toBe(true); // a finalize needs `status`
    for (const route of withBody) {
      const op = operationOf(route);
      expect(Object.keys(op?.responses ?? {}), route.operationId).toEqual(
        expect.arrayContaining(['400', '413', '415']),
      );
      expect(Object.keys(op?.requestBody?.content ?? {})).toEqual(['application/json']);
      // A bodiless POST is read as `{}`: the body is required exactly where `{}` is refused.
      expect(op?.requestBody?.required, route.operationId).toBe(!route.body?.safeParse({}).success);
    }
  });

  it('documents every error status with the one error body, and every declared status of a route', () => {
    for (const route of API_ROUTES) {
      const op = operationOf(route);
      const statuses = [...Object.keys(route.responses), ...errorStatusesOf(route).map(String)];
      expect(Object.keys(op?.responses ?? {}).sort(), route.operationId).toEqual(statuses.sort());
      for (const status of errorStatusesOf(route).filter((s) => s !== 416))
        expect(op?.responses[String(status)]?.content?.['application/json']?.schema).toEqual({
          $ref: '#/components/schemas/Error',
        });
    }
  });

  it('resolves every reference to a component', () => {
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs) {
      expect(ref).toMatch(/^#\/components\/schemas\/[A-Za-z]+$/);
      expect(doc.components.schemas, ref).toHaveProperty(ref.split('/').at(-1) ?? '');
    }
    expect(doc.components.schemas).not.toHaveProperty('__shared');
  });
});

describe('errorStatusesOf', () => {
  const base: RouteDef = {
    operationId: 'x',
    method: 'GET',
    path: '/api/x',
    auth: 'none',
    summary: 'x',
    responses: { 200: { description: 'ok' } },
    errors: [404],
  };
  it("adds what the auth kind and the inputs imply to the route's own errors", () => {
    expect(errorStatusesOf(base)).toEqual([404, 503]);
    expect(errorStatusesOf({ ...base, auth: 'apiKey' })).toEqual([401, 404, 429, 503]);
    expect(errorStatusesOf({ ...base, auth: 'signedUrl', errors: [403] })).toEqual([403, 503]);
    expect(errorStatusesOf({ ...base, body: API_ROUTES[2]?.body })).toEqual([400, 404, 413, 415, 503]);
  });
});
