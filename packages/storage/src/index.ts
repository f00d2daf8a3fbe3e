export * from './local-disk.js';
export * from './local-multipart.js';
export * from './port.js';
export * from './s3.js';
export * from './s3-multipart.js';
export * from './signing.js';
