import { describe, expect, it } from 'vitest';
import { parseTraceLookup as sdkParser } from '../../../sdk-ts/src/lookup.js';
import { parseTraceLookup } from '../../src/index.js';
import { vectors } from './vectors.js';

// The server's lookup (portal search, ?q=) through core's public entry point; the CLI runs the same vectors
// in packages/sdk-ts/test/unit/lookup-vectors.test.ts.
describe('lookup vectors (TRACE_CONTEXT.md §4), as the server reads them', () => {
  it('has the cases of the shared spec, the two newest included', () => {
    const inputs = vectors.lookup.cases.map((c) => c.input);
    expect(inputs).toContain('4bf9 2f35 77b3 4da6 a3ce 929d 0e0e 4736');
    expect(inputs).toContain('traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
  });

  for (const c of vectors.lookup.cases) {
    it(JSON.stringify(c.input), () => expect(parseTraceLookup(c.input)).toEqual(c.expect));
  }

  it('is the CLI parser itself, not a second algorithm', () => {
    expect(parseTraceLookup).toBe(sdkParser);
  });

  it('accepts a dashed UUID form and keeps only the trace id of a traceparent inside a URL', () => {
    expect(parseTraceLookup('4bf92f35-77b3-4da6-a3ce-929d0e0e4736')).toEqual({
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
    });
    expect(
      parseTraceLookup(
        'https://x.example.com/replay?tp=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      ),
    ).toEqual({ trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' });
  });

  it('finds a trace id inside a log line, and nothing in an all-zero or version-ff traceparent', () => {
    expect(parseTraceLookup('ERROR grasp failed trace=4bf92f3577b34da6a3ce929d0e0e4736 x')).toEqual({
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
    });
    expect(parseTraceLookup('ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toBeNull();
    expect(parseTraceLookup(`00-${'0'.repeat(32)}-00f067aa0ba902b7-01`)).toBeNull();
  });
});
