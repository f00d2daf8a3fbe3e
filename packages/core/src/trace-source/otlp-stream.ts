import {
  finishTrace,
  type NormalizedSpan,
  type NormalizedTrace,
  normalizeTrace,
  resourceSpansOf,
  serviceOfResourceSpans,
  spanFromOtlp,
  spanListsOf,
} from './normalize.js';

/**
 * A trace backend's answer parsed while it arrives. Why: JSON.parse of a 5,000-span answer (1.7 MB) is most of our
 * own cost, and it used to start only after the last byte, though the body takes several ms to arrive
 * (bench/trace/run.ts). Here each chunk's complete runs of span objects are parsed at once, with one native
 * JSON.parse per run (a per-span parse or a JavaScript scanner measured slower than parsing everything at the end).
 *
 * How a run is found without scanning JSON in JavaScript: span objects as Jaeger and the OTel exporters write them
 * start with `{"traceId":"`, and two neighbours in one `spans` array are joined by `},` — so the text between two
 * such starts joined that way is one whole span plus its comma. A run of those, wrapped in `[…]`, is parsed natively;
 * if the guess was wrong (e.g. a span link, which also starts with traceId), JSON.parse rejects the run and its text
 * simply stays where it was. What is not parsed in runs — the envelope, resources, each list's last span, anything
 * unusual — is the "rest": the original text with each run replaced by a placeholder object, parsed at the end.
 * Each run is normalised as soon as it is parsed (its raw objects die young: keeping them measured costlier in
 * garbage collection than the parse itself), and the rest gives each run its resource's service.name. The rest,
 * placeholders expanded, is exactly the original document, so the answer is the whole-body parse's answer; when
 * the rest is not OTLP or a placeholder is out of place, `finish` says 'whole' and the caller reads the whole
 * body the ordinary way (normalizeTrace), which also judges every odd case.
 */

const START = Buffer.from('{"traceId":"');
const COMMA = 0x2c;
const RBRACE = 0x7d;
const PLACEHOLDER = '\u0000robotrace.run';

export class OtlpStreamParser {
  /** Bytes not yet assigned to a run or to the rest (they start at a span start, or hold no complete piece). */
  private pending: Buffer = Buffer.alloc(0);
  /** Where to look for the next span start in `pending` (a start may straddle two chunks). */
  private searchFrom = 0;
  /** `pending` begins with a span start whose piece has not ended yet. */
  private openRun = false;
  private readonly rest: string[] = [];
  /** Per run: its spans of this trace, normalised (service filled in at the end), and how many objects it had. */
  private readonly runs: { spans: NormalizedSpan[]; objects: number }[] = [];

  constructor(private readonly traceId: string) {}

  /** Span objects parsed before the end of the body (in runs). */
  get earlySpans(): number {
    let n = 0;
    for (const r of this.runs) n += r.objects;
    return n;
  }

  push(chunk: Buffer): void {
    const buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let consumed = 0; // buf[0, consumed) is in the rest or in runs
    let runStart = this.openRun ? 0 : -1; // a span start whose run has not been parsed yet
    let runEnd = runStart; // end of that run's last whole piece (a span start; runStart while there is none)
    let at = buf.indexOf(START, this.searchFrom);
    while (at >= 0) {
      const joined = at >= 2 && buf[at - 1] === COMMA && buf[at - 2] === RBRACE;
      if (runStart >= 0 && joined) runEnd = at;
      else {
        this.flushRun(buf, runStart, runEnd);
        if (runStart >= 0) consumed = runEnd;
        this.rest.push(buf.toString('utf8', consumed, at));
        consumed = at;
        runStart = at;
        runEnd = at;
      }
      at = buf.indexOf(START, at + START.length);
    }
    // Parse the whole pieces now (that is the overlap with the body's arrival); the last piece waits for its end.
    this.openRun = runStart >= 0;
    if (this.openRun) {
      this.flushRun(buf, runStart, runEnd);
      consumed = runEnd;
    }
    this.pending = buf.subarray(consumed);
    // Past the start `pending` may begin with, and early enough to catch one cut in two by the next chunk.
    this.searchFrom = Math.max(this.openRun ? START.length : 0, this.pending.length - START.length + 1);
  }

  /**
   * The normalised trace; null when the body is not JSON at all (the caller says so); 'whole' when the body must be
   * read the ordinary way (its shape is not what the runs assumed).
   */
  finish(maxSpans: number): NormalizedTrace | null | 'whole' {
    this.rest.push(this.pending.toString('utf8'));
    let doc: unknown;
    try {
      doc = JSON.parse(this.rest.join(''));
    } catch {
      return null;
    }
    if (this.runs.length === 0) return normalizeTrace(doc, this.traceId, maxSpans); // nothing was parsed early
    const list = resourceSpansOf(doc);
    if (!list) return 'whole';
    const spans: NormalizedSpan[] = [];
    const used = new Set<number>();
    for (const rs of list) {
      const service = serviceOfResourceSpans(rs);
      for (const items of spanListsOf(rs))
        for (const item of items) {
          const run = this.runOf(item);
          if (run === null) {
            const span = spanFromOtlp(item, service);
            if (span && span.trace_id === this.traceId) spans.push(span);
          } else if (!used.has(run)) {
            used.add(run);
            for (const span of this.runs[run]?.spans ?? []) {
              span.service = service;
              spans.push(span);
            }
          }
        }
    }
    // A run outside the span lists (a guess that JSON still accepted): read the document as written.
    if (used.size !== this.runs.length) return 'whole';
    return finishTrace(spans, maxSpans);
  }

  private flushRun(buf: Buffer, start: number, end: number): void {
    if (start < 0 || end <= start) return;
    const text = buf.toString('utf8', start, end); // whole spans, each followed by its comma
    let parsed: unknown;
    try {
      parsed = JSON.parse(`[${text.slice(0, -1)}]`);
    } catch {
      this.rest.push(text); // not a run of spans after all: it stays in the document as it was
      return;
    }
    const spans: NormalizedSpan[] = [];
    const objects = Array.isArray(parsed) ? parsed : [];
    for (const raw of objects) {
      const span = spanFromOtlp(raw, '');
      if (span && span.trace_id === this.traceId) spans.push(span);
    }
    this.rest.push(`{"\\u0000robotrace.run":${this.runs.length}},`);
    this.runs.push({ spans, objects: objects.length });
  }

  private runOf(item: unknown): number | null {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return null;
    const keys = Object.keys(item);
    if (keys.length !== 1 || keys[0] !== PLACEHOLDER) return null;
    const n = (item as Record<string, unknown>)[PLACEHOLDER];
    return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n < this.runs.length ? n : null;
  }
}
