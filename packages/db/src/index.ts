export * from './client.js';
export * from './dir-lock.js';
export * from './migration-status.js';
export * from './schema.js';
