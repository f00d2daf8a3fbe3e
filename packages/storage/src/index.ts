export * from './local-disk.js';
export * from './port.js';
export * from './s3.js';
export * from './signing.js';
