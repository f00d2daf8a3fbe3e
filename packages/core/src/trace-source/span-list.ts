import type { NormalizedSpan } from './normalize.js';

/** Where one span's own facts sit in the list's JSON, for the server's few reads of them (see SpanList.timesOf). */
export interface SpanOffsets {
  /** Offset of the span id's 16 hex digits. */
  idAt: Int32Array;
  /** Offset and length of the start and end decimal digits. */
  startAt: Int32Array;
  startLen: Int32Array;
  endAt: Int32Array;
  endLen: Int32Array;
}

/**
 * The spans of one trace as the API serves them. A fetched trace is transcoded straight from the backend's text
 * into this JSON (otlp-transcode.ts), never built as objects: the server itself only needs the episode's own span
 * (its start and end) and the count; the spans as objects are made only when asked for (the insights).
 */
export class SpanList {
  private objects: NormalizedSpan[] | undefined;
  private text: Buffer | undefined;

  private constructor(
    readonly length: number,
    text: Buffer | undefined,
    objects: NormalizedSpan[] | undefined,
    private readonly offsets: SpanOffsets | undefined,
  ) {
    this.text = text;
    this.objects = objects;
  }

  static readonly EMPTY = SpanList.ofSpans([]);

  /** A JSON array of NormalizedSpan, with where each span's id and times are in it. */
  static ofJson(json: Buffer, length: number, offsets: SpanOffsets): SpanList {
    return new SpanList(length, json, undefined, offsets);
  }

  static ofSpans(spans: NormalizedSpan[]): SpanList {
    return new SpanList(spans.length, undefined, spans, undefined);
  }

  /** The spans as a JSON array (written once, then the same bytes on every cached answer). */
  get json(): Buffer {
    this.text ??= Buffer.from(JSON.stringify(this.objects ?? []));
    return this.text;
  }

  /** The spans as objects (parsed once, on first use). */
  toArray(): NormalizedSpan[] {
    this.objects ??= JSON.parse(this.json.toString('utf8')) as NormalizedSpan[];
    return this.objects;
  }

  /** Start and end (unix ns, decimal) of the span with this id, or undefined. */
  timesOf(spanId: string): { start_unix_ns: string; end_unix_ns: string } | undefined {
    const o = this.offsets;
    if (!o || this.objects) {
      const s = this.toArray().find((x) => x.span_id === spanId);
      return s && { start_unix_ns: s.start_unix_ns, end_unix_ns: s.end_unix_ns };
    }
    if (!/^[0-9a-f]{16}$/.test(spanId)) return undefined;
    const json = this.json;
    const want = Buffer.from(spanId, 'latin1');
    for (let k = 0; k < this.length; k++) {
      const at = o.idAt[k] as number;
      if (json.compare(want, 0, 16, at, at + 16) !== 0) continue;
      const start = o.startAt[k] as number;
      const end = o.endAt[k] as number;
      return {
        start_unix_ns: json.toString('latin1', start, start + (o.startLen[k] as number)),
        end_unix_ns: json.toString('latin1', end, end + (o.endLen[k] as number)),
      };
    }
    return undefined;
  }
}
