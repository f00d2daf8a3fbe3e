// The low-level reader pieces the tests poke at directly (not part of the package's public surface).
export { openFileSource } from '../../../src/tracks/byte-source.js';
export { parseNpyHeader } from '../../../src/tracks/npy.js';
export { memberDataOffset as memberDataOffsetForTest, readZipDirectory } from '../../../src/tracks/zip.js';
