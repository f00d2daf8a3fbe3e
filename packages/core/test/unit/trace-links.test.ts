import { describe, expect, it } from 'vitest';
import {
  episodeWindow,
  parseTraceLinkConfig,
  resolveTraceLink,
  type TraceLinkInput,
  traceLinksFor,
  unsafeLinkReason,
} from '../../src/trace-links.js';
import { vectors } from './vectors.js';

// The vectors' episode (see links.about): the window is derived from these times, never hard-coded here.
const EPISODE = {
  id: '0b0c6f2e-6a59-4a43-9d8e-1f2d3c4b5a69',
  created_at: '2026-11-24T10:00:00Z',
  duration_s: 12.5,
  finalized_at: '2026-11-24T10:00:20Z',
};

const inputFor = (otel: Record<string, string>): TraceLinkInput => ({
  episodeId: EPISODE.id,
  otel,
  window: episodeWindow(EPISODE),
});

describe('links vectors (TRACE_CONTEXT.md §3)', () => {
  it('covers the whole section', () => expect(vectors.links.cases.length).toBeGreaterThanOrEqual(13));
  for (const c of vectors.links.cases) {
    it(c.name, () => {
      const result = resolveTraceLink(c.template, inputFor(c.otel ?? vectors.links.otel));
      if (c.expect !== null) expect(result).toEqual({ kind: 'link', url: c.expect });
      else expect(result.kind).toBe(c.config_error ? 'config_error' : 'missing');
      // What a server sees at start: a config error is reported for the template itself, otherwise nothing.
      const config = parseTraceLinkConfig({ urlTemplate: c.template });
      expect(config.templates[0]?.error !== null).toBe(Boolean(c.config_error));
      const buttons = traceLinksFor(config, inputFor(c.otel ?? vectors.links.otel));
      expect(buttons).toEqual(c.expect === null ? [] : [{ name: 'Open trace', url: c.expect }]);
    });
  }
});

describe('window', () => {
  it('ends at created_at + 300 s when the episode is not finalized, and treats a missing duration as 0', () => {
    const w = episodeWindow({ created_at: '2026-11-24T10:00:00Z', duration_s: null, finalized_at: null });
    expect(new Date(w.startMs).toISOString()).toBe('2026-11-24T09:55:00.000Z');
    expect(new Date(w.endMs).toISOString()).toBe('2026-11-24T10:05:00.000Z');
  });
});

describe('refused results', () => {
  it.each([
    ['data:text/html,<script>alert(1)</script>', 'data:'],
    ['JAVASCRIPT:alert(1)', 'javascript:'],
    ['//evil.example.com/{trace_id}', 'absolute'],
    [' https://x.example.com/{trace_id}', 'whitespace'],
    ['https://x.example.com/\n{trace_id}', 'whitespace'],
    ['https:///path', 'host'],
    ['ftp://x.example.com/{trace_id}', 'ftp:'],
    ['{trace_id}', 'absolute'],
  ])('%j is a configuration error', (template, why) => {
    const result = resolveTraceLink(template, inputFor(vectors.links.otel));
    expect(result.kind).toBe('config_error');
    if (result.kind === 'config_error') expect(result.message).toContain(why);
  });

  it('accepts http and https with a host', () => {
    expect(unsafeLinkReason('http://jaeger.local:16686/trace/abc')).toBeNull();
    expect(unsafeLinkReason('HTTPS://Example.com')).toBeNull();
  });

  it('percent-encodes substituted values, so they cannot add a scheme, a path or a query', () => {
    const url = resolveTraceLink('https://x.example.com/t/{trace_id}?q={span_id}', {
      otel: { trace_id: 'a/b?c=d#e', span_id: '"><script>' },
      window: { startMs: 0, endMs: 0 },
    });
    expect(url).toEqual({
      kind: 'link',
      url: 'https://x.example.com/t/a%2Fb%3Fc%3Dd%23e?q=%22%3E%3Cscript%3E',
    });
  });
});

describe('ROBOTRACE_TRACE_LINKS', () => {
  it('keeps the single template first, then every entry in order, and names refused ones', () => {
    const config = parseTraceLinkConfig({
      urlTemplate: 'https://jaeger.example.com/trace/{trace_id}',
      links: JSON.stringify([
        { name: 'Honeycomb', url: 'https://ui.honeycomb.io/t?trace_id={trace_id}' },
        { name: 'Evil', url: 'javascript:alert(1)//{trace_id}' },
      ]),
    });
    expect(config.errors).toEqual([]);
    expect(config.templates.map((t) => [t.name, t.source, t.error === null])).toEqual([
      ['Open trace', 'NEXT_PUBLIC_TRACE_URL_TEMPLATE', true],
      ['Honeycomb', 'ROBOTRACE_TRACE_LINKS[0] "Honeycomb"', true],
      ['Evil', 'ROBOTRACE_TRACE_LINKS[1] "Evil"', false],
    ]);
    expect(config.templates[2]?.error).toContain('"javascript:" scheme');
    expect(config.templates[1]?.preview).toBe(
      'https://ui.honeycomb.io/t?trace_id=4bf92f3577b34da6a3ce929d0e0e4736',
    );
    expect(traceLinksFor(config, inputFor(vectors.links.otel)).map((l) => l.name)).toEqual([
      'Open trace',
      'Honeycomb',
    ]);
  });

  it.each([
    ['{not json', 'is not valid JSON'],
    ['{"name":"x","url":"https://x.example.com"}', 'must be a JSON array'],
    ['["https://x.example.com"]', 'ROBOTRACE_TRACE_LINKS[0] must be an object'],
    ['[{"url":"https://x.example.com"}]', 'ROBOTRACE_TRACE_LINKS[0].name must be a non-empty string'],
    ['[{"name":"X"}]', 'ROBOTRACE_TRACE_LINKS[0].url must be a non-empty string'],
  ])('%s → a clear error', (links, message) => {
    const config = parseTraceLinkConfig({ links });
    expect(config.templates).toEqual([]);
    expect(config.errors).toHaveLength(1);
    expect(config.errors[0]).toContain(message);
  });

  it('nothing configured → no templates and no errors', () => {
    expect(parseTraceLinkConfig({ urlTemplate: '  ', links: '' })).toEqual({ templates: [], errors: [] });
  });
});
