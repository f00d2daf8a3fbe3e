/**
 * What a pasted string refers to (TRACE_CONTEXT.md §4), for the portal's search and `?trace_id` lookups. One
 * parser for the server and the CLI, so both read every lookup vector identically: it lives in the SDK
 * (packages/sdk-ts/src/lookup.ts, dependency-free) because the SDK is published and may depend only on the
 * wire, never on core. It is imported by path, not as `@robotrace/sdk`: that package's exports point at its
 * build (dist/), while the server is type-checked, tested and bundled from sources.
 */
export { parseTraceLookup, type TraceLookup } from '../../sdk-ts/src/lookup.js';
