export * as apiRoutes from './api-routes.js';
export { API_ROUTES } from './api-routes.js';
export * from './common.js';
export * from './episodes.js';
export { buildOpenApiDocument } from './openapi.js';
export * from './otel.js';
export * from './route.js';
export * from './storage.js';
export * from './tracks.js';
