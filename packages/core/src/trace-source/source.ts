import { isAscii } from 'node:buffer';
import { type Agents, BodyTooLarge, type GetAnswer, httpGet, keepAliveAgents } from './http-get.js';
import { normalizeTrace, TraceFormatError } from './normalize.js';
import { transcodeOtlp } from './otlp-transcode.js';
import { SpanList } from './span-list.js';

/**
 * The team's trace backend, read through its query API (RoboTrace never receives or exports spans). Only the
 * configured origin is ever fetched: the trace id is checked as 32 hex digits before it enters a URL, redirects
 * are not followed, the body is read up to a byte limit, and the whole fetch is bounded by a timeout. Request
 * headers (API tokens) come from the configuration and are never logged or returned.
 */

export type TraceSourceKind = 'jaeger' | 'tempo' | 'otlp-json';

export interface TraceSourceConfig {
  kind: TraceSourceKind;
  /** Jaeger / Tempo: the base URL; otlp-json: a URL template with {trace_id} (and optional time placeholders). */
  url: string;
  headers: Record<string, string>;
  timeoutMs: number;
  /** Largest answer read into memory; a larger one is "unavailable" with that reason. */
  maxBytes: number;
  /** Spans kept per trace (the first by start time); more set `truncated`. */
  maxSpans: number;
  /** How long a found trace is cached; a not-found or unavailable answer is cached only `missTtlMs`. */
  ttlMs: number;
  missTtlMs: number;
  /**
   * Spans the cache holds at most over all its traces (about 1 KB each in memory: 500 traces of 10,000 spans would
   * be gigabytes); past it the oldest traces are dropped first.
   */
  maxCachedSpans?: number;
}

export const TRACE_SOURCE_DEFAULTS = {
  timeoutMs: 2_000,
  maxBytes: 64 * 1024 * 1024,
  maxSpans: 10_000,
  ttlMs: 60_000,
  // Exporters batch (5 s by default in the OTel SDKs): a trace looked up right after the episode may not be there yet.
  missTtlMs: 5_000,
  maxCachedSpans: 100_000,
} as const;

/** `jaeger:<base URL>` | `tempo:<base URL>` | `otlp-json:<URL template>` → kind + URL, or a one-line reason. */
export function parseTraceSource(value: string): { kind: TraceSourceKind; url: string } | { error: string } {
  const m = /^(jaeger|tempo|otlp-json):(.+)$/.exec(value.trim());
  if (!m)
    return {
      error: 'must be jaeger:<base URL>, tempo:<base URL> or otlp-json:<URL template with {trace_id}>',
    };
  const kind = m[1] as TraceSourceKind;
  const url = (m[2] ?? '').trim();
  let parsed: URL;
  try {
    parsed = new URL(url.replaceAll(/\{[a-z_]+\}/g, 'x'));
  } catch {
    return { error: `"${url}" is not a URL` };
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    return { error: 'only http:// and https:// URLs are allowed' };
  if (parsed.username || parsed.password)
    return { error: 'put credentials in ROBOTRACE_TRACE_SOURCE_HEADERS, not in the URL' };
  if (kind === 'otlp-json' && !url.includes('{trace_id}'))
    return { error: 'an otlp-json URL template needs {trace_id}' };
  if (kind !== 'otlp-json' && /\{[a-z_]+\}/.test(url))
    return { error: `a ${kind} base URL takes no placeholders` };
  return { kind, url: kind === 'otlp-json' ? url : url.replace(/\/+$/, '') };
}

/** The window to search, epoch seconds (Tempo's start/end; the otlp-json time placeholders). */
export interface TraceWindow {
  startS: number;
  endS: number;
}

export type TraceLookupResult =
  | { status: 'found'; spans: SpanList; truncated: boolean; total_spans: number }
  | { status: 'not_found'; reason: string }
  | { status: 'unavailable'; reason: string };

const TRACE_ID = /^[0-9a-f]{32}$/;

class Unavailable extends Error {}

type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** The body as bytes, at most `max`; past that the read stops and the fetch is abandoned. */
async function boundedBody(res: Response, max: number): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > max)
    throw new Unavailable(`the answer is larger than ${max} bytes`);
  if (!res.body) return Buffer.alloc(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      throw new Unavailable(`the answer is larger than ${max} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

function parseJson(body: Buffer): unknown {
  try {
    // An ASCII body (OTLP JSON almost always is: non-ASCII text comes \u-escaped or not at all) decodes as latin1,
    // several times cheaper than UTF-8 decoding and the same text.
    return JSON.parse(body.toString(isAscii(body) ? 'latin1' : 'utf8'));
  } catch {
    throw new Unavailable('the backend answered something that is not JSON');
  }
}

/** A GET through an injected fetch() (tests of callers may pass their own), in httpGet's terms. */
async function getWithFetch(
  fetchImpl: FetchLike,
  url: string,
  headers: Record<string, string>,
  signal: AbortSignal,
  maxBytes: number,
): Promise<GetAnswer> {
  const res = await fetchImpl(url, { headers, redirect: 'manual', signal });
  if (!res.ok) {
    await res.body?.cancel().catch(() => {});
    return { status: res.status, body: null };
  }
  try {
    return { status: res.status, body: await boundedBody(res, maxBytes) };
  } catch (err) {
    if (err instanceof Unavailable) throw new BodyTooLarge(err.message);
    throw err;
  }
}

/** A lookup's answer plus where it came from: the cache or a fetch, and when the backend answered (epoch ms). */
export type TraceLookupAnswer = TraceLookupResult & { cached: boolean; fetchedAtMs: number };

export class TraceSource {
  private readonly cache = new Map<string, { at: number; result: TraceLookupResult }>();
  /** Fetches under way: the Tracing card and the lane ask for one trace at once, the backend is asked once. */
  private readonly inflight = new Map<string, Promise<{ at: number; result: TraceLookupResult }>>();
  private static readonly CACHE_ENTRIES = 500;
  private cachedSpans = 0;
  private readonly agents: Agents = keepAliveAgents();

  /** `fetchImpl`: none (the default) reads through node:http(s) (http-get.ts: cheaper than fetch on big answers). */
  constructor(
    readonly config: TraceSourceConfig,
    private readonly fetchImpl?: FetchLike,
    private readonly nowMs: () => number = Date.now,
  ) {}

  private get(url: string, signal: AbortSignal): Promise<GetAnswer> {
    const headers = { accept: 'application/json', ...this.config.headers };
    const { maxBytes } = this.config;
    return this.fetchImpl
      ? getWithFetch(this.fetchImpl, url, headers, signal, maxBytes)
      : httpGet(url, { headers, signal, maxBytes }, this.agents);
  }

  /** What the backend has for this trace, cached (found: ttlMs; not found / unavailable: missTtlMs). */
  async lookup(traceId: string, window: TraceWindow): Promise<TraceLookupAnswer> {
    const id = traceId.toLowerCase();
    const now = this.nowMs();
    if (!TRACE_ID.test(id))
      return { status: 'not_found', reason: 'not a W3C trace id', cached: false, fetchedAtMs: now };
    const hit = this.cache.get(id);
    if (hit) {
      const ttl = hit.result.status === 'found' ? this.config.ttlMs : this.config.missTtlMs;
      if (now - hit.at < ttl) return { ...hit.result, cached: true, fetchedAtMs: hit.at };
    }
    let pending = this.inflight.get(id);
    if (!pending) {
      pending = this.fetchOnce(id, window).then((result) => {
        const entry = { at: this.nowMs(), result };
        this.remember(id, entry);
        return entry;
      });
      const settle = () => this.inflight.delete(id);
      pending.then(settle, settle);
      this.inflight.set(id, pending);
    }
    const entry = await pending;
    return { ...entry.result, cached: false, fetchedAtMs: entry.at };
  }

  private remember(id: string, entry: { at: number; result: TraceLookupResult }): void {
    const spansOf = (r: TraceLookupResult) => (r.status === 'found' ? r.spans.length : 0);
    const drop = (key: string) => {
      const old = this.cache.get(key);
      if (!old) return;
      this.cachedSpans -= spansOf(old.result);
      this.cache.delete(key);
    };
    drop(id);
    const size = spansOf(entry.result);
    const budget = this.config.maxCachedSpans ?? TRACE_SOURCE_DEFAULTS.maxCachedSpans;
    if (size > budget) return; // never cache what alone exceeds the budget
    while (
      this.cache.size > 0 &&
      (this.cache.size >= TraceSource.CACHE_ENTRIES || this.cachedSpans + size > budget)
    )
      drop(this.cache.keys().next().value as string);
    this.cache.set(id, entry);
    this.cachedSpans += size;
  }

  private async fetchOnce(id: string, window: TraceWindow): Promise<TraceLookupResult> {
    const signal = AbortSignal.timeout(this.config.timeoutMs);
    try {
      for (const url of this.urlsFor(id, window)) {
        const res = await this.get(url, signal);
        // Jaeger: an older query service has no /api/v3; try the classic API next.
        if (res.status === 404) continue;
        if (res.status >= 300 && res.status < 400)
          throw new Unavailable(`the backend answered a redirect (${res.status}), which is not followed`);
        if (!res.body) throw new Unavailable(`the backend answered HTTP ${res.status}`);
        // Read once the whole body is here: the answer comes in a burst after the backend's own work (5,000
        // spans: ~2 ms after a ~20 ms wait), so parsing while it arrives overlapped little and cost more — chunk
        // bookkeeping, and a stalled sender while we parsed (bench/trace/run.ts, docs/BENCHMARKS.md). OTLP JSON
        // is transcoded straight to the API's span JSON; an answer of another shape is parsed and normalised.
        const trace = transcodeOtlp(res.body, id, this.config.maxSpans) ?? this.parsedTrace(res.body, id);
        if (trace.total_spans === 0)
          return { status: 'not_found', reason: 'the backend has no spans for this trace' };
        return { status: 'found', ...trace };
      }
      return {
        status: 'not_found',
        reason: 'the backend does not have this trace (sampled out, expired, or not exported yet)',
      };
    } catch (err) {
      if (err instanceof Unavailable || err instanceof TraceFormatError || err instanceof BodyTooLarge)
        return { status: 'unavailable', reason: err.message };
      const e = err as {
        name?: string;
        code?: string;
        cause?: { code?: string; message?: string };
        message?: string;
      };
      if (e.name === 'TimeoutError' || e.name === 'AbortError')
        return {
          status: 'unavailable',
          reason: `the backend did not answer within ${this.config.timeoutMs} ms`,
        };
      const code = e.cause?.code ?? e.code ?? '';
      return { status: 'unavailable', reason: `cannot reach the backend${code ? ` (${code})` : ''}` };
    }
  }

  private parsedTrace(body: Buffer, id: string) {
    const { spans, ...rest } = normalizeTrace(parseJson(body), id, this.config.maxSpans);
    return { spans: SpanList.ofSpans(spans), ...rest };
  }

  /** The URLs tried in order for one trace; only ever the configured origin. */
  private urlsFor(id: string, w: TraceWindow): string[] {
    const { kind, url } = this.config;
    if (kind === 'jaeger') return [`${url}/api/v3/traces/${id}`, `${url}/api/traces/${id}`];
    const start = Math.floor(w.startS);
    const end = Math.ceil(w.endS);
    if (kind === 'tempo') return [`${url}/api/v2/traces/${id}?start=${start}&end=${end}`];
    const values: Record<string, string> = {
      trace_id: id,
      start_unix_s: String(start),
      end_unix_s: String(end),
      start_unix_ms: String(start * 1000),
      end_unix_ms: String(end * 1000),
      start_iso: new Date(start * 1000).toISOString(),
      end_iso: new Date(end * 1000).toISOString(),
    };
    return [
      url.replaceAll(/\{([a-z_]+)\}/g, (all, name: string) =>
        name in values ? encodeURIComponent(values[name] as string) : all,
      ),
    ];
  }
}
