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
    if (!o) {
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

/** A trace's spans from the transcoder: the list, and how many the backend had. */
export interface SpanSegments {
  spans: SpanList;
  truncated: boolean;
  total_spans: number;
}

/**
 * Int32 per span record of the transcoder (wasm/otlp_compact.c): its JSON's start and end in
 * the output, then, relative to that start, where its id's 16 hex digits are, and the offset and length of its
 * start's and end's digits.
 */
export const RECORD_FIELDS = 7;

/**
 * The transcoder's spans (`total` JSON objects in `out`, in the answer's order) as one sorted JSON array of at
 * most `maxSpans`. `starts` holds each span's start as two exact numbers (whole seconds, nanoseconds), ordered
 * like the decimal; the sort is stable, like normalizeTrace's over the same spans in the same order.
 */
export function spansFromSegments(
  out: Uint8Array,
  records: Int32Array,
  starts: Float64Array,
  total: number,
  maxSpans: number,
): SpanSegments {
  const order = Array.from({ length: total }, (_, i) => i);
  order.sort(
    (x, y) =>
      (starts[2 * x] as number) - (starts[2 * y] as number) ||
      (starts[2 * x + 1] as number) - (starts[2 * y + 1] as number),
  );
  const n = Math.min(total, maxSpans);
  const offsets: SpanOffsets = {
    idAt: new Int32Array(n),
    startAt: new Int32Array(n),
    startLen: new Int32Array(n),
    endAt: new Int32Array(n),
    endLen: new Int32Array(n),
  };
  let size = n === 0 ? 2 : n + 1;
  for (let i = 0; i < n; i++) {
    const r = (order[i] as number) * RECORD_FIELDS;
    size += (records[r + 1] as number) - (records[r] as number);
  }
  // A native copy per span between plain Uint8Array views (a Buffer's subarray is a Buffer, several times dearer).
  const json = Buffer.allocUnsafe(size);
  const dst = new Uint8Array(json.buffer, json.byteOffset, size);
  let o = 0;
  dst[o++] = 0x5b; // [
  for (let i = 0; i < n; i++) {
    const r = (order[i] as number) * RECORD_FIELDS;
    if (i > 0) dst[o++] = 0x2c; // ,
    const s = records[r] as number;
    const e = records[r + 1] as number;
    dst.set(out.subarray(s, e), o);
    offsets.idAt[i] = o + (records[r + 2] as number);
    offsets.startAt[i] = o + (records[r + 3] as number);
    offsets.startLen[i] = records[r + 4] as number;
    offsets.endAt[i] = o + (records[r + 5] as number);
    offsets.endLen[i] = records[r + 6] as number;
    o += e - s;
  }
  dst[o++] = 0x5d; // ]
  return { spans: SpanList.ofJson(json, n, offsets), truncated: total > maxSpans, total_spans: total };
}
