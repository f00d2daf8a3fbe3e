export * from './common.js';
export * from './episodes.js';
export * from './otel.js';
export { buildOpenApiDocument } from './openapi.js';
