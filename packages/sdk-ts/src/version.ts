/** Kept equal to package.json's version by a unit test (a JSON import would complicate the published build). */
export const SDK_VERSION = '0.1.0';
