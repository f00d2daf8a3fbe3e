export * from './delete.js';
export * from './export.js';
export * from './references.js';
export * from './retention.js';
export * from './storage-deletions.js';
export * from './sweep.js';
export * from './usage.js';
