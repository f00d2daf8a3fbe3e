export * from './local-disk.js';
export * from './port.js';
export * from './signing.js';
