export * from './client.js';
export * from './dir-lock.js';
export * from './schema.js';
