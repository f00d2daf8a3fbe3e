export * from './common.js';
export * from './episodes.js';
export { buildOpenApiDocument } from './openapi.js';
export * from './otel.js';
