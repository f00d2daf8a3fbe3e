import { describe, expect, it } from 'vitest';
import { parseTraceLookup } from '../../src/lookup.js';
import { vectors } from '../support/vectors.js';

const T = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('lookup vectors (TRACE_CONTEXT.md §4)', () => {
  it('has cases to run', () => {
    expect(vectors.lookup.cases.length).toBeGreaterThan(0);
  });

  it.each(vectors.lookup.cases.map((c) => [JSON.stringify(c.input), c] as const))('%s', (_name, c) => {
    expect(parseTraceLookup(c.input)).toEqual(c.expect);
  });
});

describe('lookup: other pastes people make', () => {
  it.each([
    ['a trace id in UUID form', '4bf92f35-77b3-4da6-a3ce-929d0e0e4736', { trace_id: T }],
    ['a Jaeger URL', `https://jaeger.example.com/trace/${T}?uiFind=00f067aa0ba902b7`, { trace_id: T }],
    [
      'a Grafana Explore URL',
      `https://grafana.example.com/explore?left=%7B%22queries%22%3A%5B%7B%22query%22%3A%22${T}%22%7D%5D%7D`,
      { trace_id: T },
    ],
    [
      'an AWS X-Ray console URL',
      'https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#xray:traces/1-4bf92f35-77b34da6a3ce929d0e0e4736',
      { trace_id: T },
    ],
    [
      'a traceparent with upper-case hex',
      '00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01',
      { trace_id: T, span_id: '00f067aa0ba902b7' },
    ],
    ['an all-zero span id', '0000000000000000', null],
    ['a version ff traceparent', `ff-${T}-00f067aa0ba902b7-01`, null],
    ['a URL without a trace id', 'https://app.datadoghq.com/apm/traces', null],
    ['empty text', '   ', null],
  ])('%s', (_name, input, expected) => {
    expect(parseTraceLookup(input)).toEqual(expected);
  });
});
