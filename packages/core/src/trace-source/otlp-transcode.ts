import { isAscii, isUtf8 } from 'node:buffer';
import { Out } from './byte-out.js';
import {
  Bail,
  bail,
  CLOSE_ARRAY,
  CLOSE_OBJECT,
  COLON,
  COMMA,
  JsonReader,
  OPEN_ARRAY,
  OPEN_OBJECT,
  QUOTE,
  Tok,
} from './json-reader.js';
import {
  anyValue,
  fromOtlp,
  isObject,
  KINDS,
  kindOf,
  type NormalizedSpan,
  serviceOfResourceSpans,
  spanFromOtlp,
  statusOf,
} from './normalize.js';
import { transcodeCompact } from './otlp-compact.js';
import { RECORD_FIELDS, type SpanSegments, spansFromSegments } from './span-list.js';

/**
 * OTLP JSON text → the API's span JSON, without building the backend's objects. JSON.parse of a 5,000-span answer
 * (1.7 MB) and normalising the objects took longer than the budget the span lane has after the backend's own
 * answer (bench/trace/run.ts); this reads the bytes once and writes the normalised spans as it goes.
 *
 * Two readers, one result. The compact layout OTLP's JSON marshaller writes (Jaeger v2, the Collector) goes through
 * WebAssembly (otlp-compact.ts, wasm/otlp_compact.c: in JavaScript every byte read and written costs ~2.5 ns here).
 * Whatever that declines is read here in JavaScript, in any key order and whitespace, and every element of another form (an attribute, an event list, a status, a span) is sliced out,
 * JSON.parsed alone and normalised by normalize.ts's own functions. An answer whose overall shape is unusual
 * (another envelope, duplicate keys at the top, not UTF-8, not valid JSON) returns null, and the caller parses it
 * whole. Both must give exactly what `normalizeTrace` gives: test/unit/trace-source/otlp-transcode.test.ts compares
 * each with it on generated answers of every shape.
 */
export function transcodeOtlp(body: Buffer, traceId: string, maxSpans: number): TranscodedTrace | null {
  const ascii = isAscii(body);
  // An all-zero id is no id (otlpId): the object path reads what such an answer means.
  if ((!ascii && !isUtf8(body)) || /^0+$/.test(traceId)) return null;
  return transcodeCompact(body, traceId, maxSpans) ?? transcodeOtlpScript(body, traceId, maxSpans, ascii);
}

/** The same in JavaScript (the answers the WebAssembly module declines, and a test of both). */
export function transcodeOtlpScript(
  body: Buffer,
  traceId: string,
  maxSpans: number,
  ascii = isAscii(body),
): TranscodedTrace | null {
  if ((!ascii && !isUtf8(body)) || /^0+$/.test(traceId)) return null;
  try {
    const t = new Transcoder(body, ascii, traceId);
    t.document();
    return t.finish(maxSpans);
  } catch (err) {
    if (err instanceof Bail) return null;
    throw err;
  }
}

export type TranscodedTrace = SpanSegments;

/** Text as a plain Uint8Array: every byte run the transcoder copies is one type, so its copy loop stays monomorphic. */
const utf8 = (s: string) => new Uint8Array(Buffer.from(s));
const bytes = utf8;
const utf8concat = (parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
const keyTable = (...names: string[]) => names.map(bytes);

// Keys, by where they occur. A key is matched on its raw bytes; a key written with escapes is never matched and
// sends its element to the object path (it may be a known key in disguise).
const TOP_KEYS = keyTable('resourceSpans', 'batches', 'result', 'trace', 'data');
// (2 and 3, result and trace, are the envelopes with resourceSpans inside.)
const [K_RESOURCE_SPANS, K_BATCHES, K_DATA] = [0, 1, 4];
const INNER_KEYS = keyTable('resourceSpans');
const RS_KEYS = keyTable('resource', 'scopeSpans', 'instrumentationLibrarySpans');
const [R_RESOURCE, R_SCOPE, R_LIBRARY] = [0, 1, 2];
const SS_KEYS = keyTable('spans');
const SPAN_KEYS = keyTable(
  'traceId',
  'spanId',
  'parentSpanId',
  'name',
  'kind',
  'startTimeUnixNano',
  'endTimeUnixNano',
  'attributes',
  'events',
  'status',
);
const [S_TRACE, S_SPAN, S_PARENT, S_NAME, S_KIND, S_START, S_END, S_ATTRS, S_EVENTS, S_STATUS] = [
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
];
const KV_KEYS = keyTable('key', 'value');
const [K_KEY, K_VALUE] = [0, 1];
const [WROTE, SKIPPED, NOT_FAST] = [1, 0, -1];
const VALUE_KEYS = keyTable(
  'stringValue',
  'boolValue',
  'intValue',
  'doubleValue',
  'bytesValue',
  'arrayValue',
  'kvlistValue',
);
const [V_STRING, V_BOOL, V_INT, V_BYTES] = [0, 1, 2, 4];
const EVENT_KEYS = keyTable('timeUnixNano', 'name', 'attributes');
const [E_TIME, E_ATTRS] = [0, 2];

const UNKNOWN_SERVICE = bytes('"unknown"');

/** Per span kept: where its JSON is in the output, when it starts (for the sort), where its id and times are. */
class Kept {
  segStart: number[] = [];
  segEnd: number[] = [];
  /** The start as two exact numbers (seconds part, nanoseconds part): ordered like the decimal strings. */
  startHi: number[] = [];
  startLo: number[] = [];
  /** Offsets relative to the span's own segment. */
  idAt: number[] = [];
  startAt: number[] = [];
  startLen: number[] = [];
  endAt: number[] = [];
  endLen: number[] = [];
  get count(): number {
    return this.segStart.length;
  }
  truncate(n: number): void {
    for (const list of [
      this.segStart,
      this.segEnd,
      this.startHi,
      this.startLo,
      this.idAt,
      this.startAt,
      this.startLen,
      this.endAt,
      this.endLen,
    ])
      list.length = n;
  }
}

const TIME_DIGITS_MAX = 20;
/** Byte → 1 for a lowercase hex digit (a table load instead of four comparisons per byte). */
const LOWER_HEX = new Uint8Array(256);
for (const c of '0123456789abcdef') LOWER_HEX[c.charCodeAt(0)] = 1;

class Transcoder extends JsonReader {
  private readonly out: Out;
  private readonly kept = new Kept();
  private readonly target: Uint8Array;
  /** `"trace_id":"<the trace>","span_id":"`: every kept span starts so. */
  private readonly head: Uint8Array;
  private readonly serviceKinds = new Map<Uint8Array, Uint8Array[]>();

  constructor(
    body: Buffer,
    ascii: boolean,
    private readonly traceId: string,
  ) {
    super(body, ascii);
    // The output is about the input's size (attribute lists shrink, the service is repeated per span).
    this.out = new Out(body.length * 2 + 1024);
    this.target = bytes(traceId);
    this.head = bytes(`"trace_id":"${traceId}","span_id":"`);
  }

  // ---- the document ----

  document(): void {
    let envelope = -1;
    let more = this.enterObject();
    while (more) {
      const k = this.key(TOP_KEYS);
      if (k === -2) bail(); // an escaped key may be an envelope's
      if (k === -1) this.value();
      else {
        // One envelope only: with two, which one normalizeTrace reads depends on their order of precedence.
        if (envelope !== -1 || k === K_DATA) bail();
        envelope = k;
        if (k === K_RESOURCE_SPANS || k === K_BATCHES) this.resourceSpansList();
        else this.envelope();
      }
      more = this.nextMember();
    }
    this.ws();
    if (envelope === -1 || this.p !== this.b.length) bail();
  }

  /** `{result: {resourceSpans}}` (Jaeger v3) or `{trace: {resourceSpans}}` (Tempo v2). */
  private envelope(): void {
    let seen = false;
    let more = this.enterObject();
    while (more) {
      const k = this.key(INNER_KEYS);
      if (k === -2 || (k === 0 && seen)) bail();
      if (k === 0) {
        seen = true;
        this.resourceSpansList();
      } else this.value();
      more = this.nextMember();
    }
    if (!seen) bail();
  }

  private resourceSpansList(): void {
    if (this.peek() !== OPEN_ARRAY) bail();
    let more = this.enterArray();
    while (more) {
      if (this.b[this.p] === OPEN_OBJECT) this.resourceSpans();
      else this.value();
      more = this.nextItem();
    }
  }

  /**
   * One resourceSpans element. Its spans are written as they are read when its resource came first (every
   * exporter's order); otherwise they are read again once the service is known. A duplicate key sends the whole
   * element to the object path, since JSON.parse keeps the last one.
   */
  private resourceSpans(): void {
    const at = this.p;
    const mark = { o: this.out.o, kept: this.kept.count };
    if (!this.resourceSpansFast()) {
      this.rollback(mark);
      this.p = at;
      this.value();
      fromOtlp([this.parsed(at, this.p)], (span) => this.keepObject(span));
    }
  }

  private resourceSpansFast(): boolean {
    let service: Uint8Array | null = null;
    let scopeAt = -1;
    let libraryAt = -1;
    let seen = 0;
    let more = this.enterObject();
    while (more) {
      const k = this.key(RS_KEYS);
      if (k === -2) return false;
      if (k >= 0) {
        if (seen & (1 << k)) return false;
        seen |= 1 << k;
      }
      if (k === R_RESOURCE) {
        const s = this.p;
        this.value();
        const resource = this.parsed(s, this.p);
        service = utf8(JSON.stringify(serviceOfResourceSpans({ resource })));
      } else if (k === R_SCOPE && service) {
        if (!this.scopeList(service)) return false;
      } else {
        if (k === R_SCOPE) scopeAt = this.p;
        else if (k === R_LIBRARY) libraryAt = this.p;
        this.value();
      }
      more = this.nextMember();
    }
    const end = this.p;
    const known = service ?? UNKNOWN_SERVICE;
    // Spans of scopeSpans before those of instrumentationLibrarySpans, as normalizeTrace reads them.
    for (const list of [scopeAt, libraryAt]) {
      if (list < 0) continue;
      this.p = list;
      if (!this.scopeList(known)) return false;
    }
    this.p = end;
    return true;
  }

  private rollback(mark: { o: number; kept: number }): void {
    this.out.o = mark.o;
    this.kept.truncate(mark.kept);
  }

  /** A scopeSpans (or instrumentationLibrarySpans) list; false: a duplicate key, take the object path. */
  private scopeList(service: Uint8Array): boolean {
    if (this.b[this.p] !== OPEN_ARRAY) {
      this.value();
      return true;
    }
    let more = this.enterArray();
    while (more) {
      if (this.b[this.p] !== OPEN_OBJECT) this.value();
      else {
        let seen = false;
        let members = this.enterObject();
        while (members) {
          const k = this.key(SS_KEYS);
          if (k === -2 || (k === 0 && seen)) return false;
          if (k === 0 && this.b[this.p] === OPEN_ARRAY) {
            seen = true;
            let spans = this.enterArray();
            while (spans) {
              if (this.b[this.p] === OPEN_OBJECT) this.span(service);
              else this.value();
              spans = this.nextItem();
            }
          } else {
            if (k === 0) seen = true;
            this.value();
          }
          members = this.nextMember();
        }
      }
      more = this.nextItem();
    }
    return true;
  }

  // ---- one span ----

  /** One span object: written in the fast form, or sliced and normalised as an object. */
  private span(service: Uint8Array): void {
    const at = this.p;
    const mark = this.out.o;
    if (this.spanFast(service)) return;
    this.out.o = mark;
    this.p = at;
    this.value();
    const span = spanFromOtlp(
      this.parsed(at, this.p),
      JSON.parse(Buffer.from(service).toString('utf8')) as string,
    );
    if (span) this.keepObject(span);
  }

  /** A span normalised as an object: kept when it is of the trace. */
  private keepObject(span: NormalizedSpan): void {
    if (span.trace_id !== this.traceId) return;
    const out = this.out;
    const seg = out.o;
    out.text(`{"trace_id":"${span.trace_id}","span_id":"`);
    const idAt = out.o - seg;
    out.text(`${span.span_id}","start_unix_ns":"`);
    const startAt = out.o - seg;
    out.text(`${span.start_unix_ns}","end_unix_ns":"`);
    const endAt = out.o - seg;
    const { trace_id, span_id, start_unix_ns, end_unix_ns, ...rest } = span;
    out.text(`${end_unix_ns}",${JSON.stringify(rest).slice(1)}`);
    this.record(seg, idAt, startAt, start_unix_ns.length, endAt, end_unix_ns.length);
  }

  private record(
    seg: number,
    idAt: number,
    startAt: number,
    startLen: number,
    endAt: number,
    endLen: number,
  ): void {
    const k = this.kept;
    k.segStart.push(seg);
    k.segEnd.push(this.out.o);
    k.idAt.push(idAt);
    k.startAt.push(startAt);
    k.startLen.push(startLen);
    k.endAt.push(endAt);
    k.endLen.push(endLen);
    // The start's digits (in the output by now) as seconds and nanoseconds parts, each exact as a double.
    const buf = this.out.buf;
    const s = seg + startAt;
    const cut = s + Math.max(0, startLen - 9);
    let hi = 0;
    let lo = 0;
    for (let i = s; i < cut; i++) hi = hi * 10 + ((buf[i] as number) - 0x30);
    for (let i = cut; i < s + startLen; i++) lo = lo * 10 + ((buf[i] as number) - 0x30);
    k.startHi.push(hi);
    k.startLo.push(lo);
  }

  /**
   * The span in the common shape, written as it is read: attributes and events inline, the scalar fields at
   * the end (their defaults depend on each other). False: something outside the fast form (a duplicate key, an
   * id that is not lowercase hex, a time that is not a decimal string…) — the caller takes the object path.
   */
  private spanFast(service: Uint8Array): boolean {
    const out = this.out;
    const b = this.b;
    const seg = out.o;
    out.byte(OPEN_OBJECT);
    let seen = 0;
    let traceS = -1;
    let spanS = -1;
    let parentS = -1;
    let nameS = -1;
    let nameE = -1;
    let kind = 0;
    let startS = -1;
    let startE = -1;
    let endS = -1;
    let endE = -1;
    let statusS = -1;
    let statusE = -1;
    let more = this.enterObject();
    while (more) {
      const k = this.key(SPAN_KEYS);
      if (k === -2) return false;
      if (k >= 0) {
        if (seen & (1 << k)) return false;
        seen |= 1 << k;
      }
      if (k === S_ATTRS) {
        out.put(ATTRS_OPEN);
        if (!this.attributes()) return false;
        out.byte(COMMA);
      } else if (k === S_EVENTS) {
        out.put(EVENTS_OPEN);
        if (!this.events()) return false;
        out.byte(COMMA);
      } else if (k === -1) this.value();
      else {
        const s = this.p;
        const tok = this.value();
        const e = this.p;
        if (k === S_TRACE || k === S_SPAN || k === S_PARENT) {
          if (tok !== Tok.String || this.escaped) return false;
          const n = e - s - 2;
          // An empty parent id is no parent; any other id must be lowercase hex of its length.
          if (!(k === S_PARENT && n === 0)) {
            if (n !== (k === S_TRACE ? 32 : 16) || !this.lowerHex(s + 1, e - 1)) return false;
            if (k === S_TRACE) traceS = s + 1;
            else if (k === S_SPAN) spanS = s + 1;
            else parentS = s + 1;
          }
        } else if (k === S_NAME) {
          if (tok !== Tok.String) return false;
          nameS = s;
          nameE = e;
        } else if (k === S_KIND) {
          if (tok === Tok.Number && e - s === 1)
            kind = b[s] === 0x30 || (b[s] as number) > 0x35 ? 0 : (b[s] as number) - 0x30;
          else if (tok === Tok.Number || (tok === Tok.String && !this.escaped))
            kind = KINDS.indexOf(
              kindOf(tok === Tok.Number ? Number(this.latin1(s, e)) : this.latin1(s + 1, e - 1)),
            );
          else return false;
        } else if (k === S_START || k === S_END) {
          if (tok !== Tok.String || !this.decimal(s + 1, e - 1)) return false;
          if (k === S_START) [startS, startE] = this.canonical(s + 1, e - 1);
          else [endS, endE] = this.canonical(s + 1, e - 1);
        } else if (k === S_STATUS) {
          statusS = s;
          statusE = e;
        }
      }
      more = this.nextMember();
    }
    // Kept only with a trace id, span id and start (else the object path decides); a zero trace id is no id.
    if (traceS < 0 || spanS < 0 || startS < 0 || this.zeros(spanS, spanS + 16)) return false;
    if (!this.isTarget(traceS)) {
      out.o = seg;
      return true;
    }
    if (!(seen & (1 << S_ATTRS))) out.put(ATTRS_EMPTY);
    if (!(seen & (1 << S_EVENTS))) out.put(EVENTS_EMPTY);
    this.writeScalars(
      seg,
      spanS,
      parentS,
      nameS,
      nameE,
      service,
      kind,
      startS,
      startE,
      endS,
      endE,
      statusS,
      statusE,
    );
    return true;
  }

  /**
   * A kept span's scalar fields (after its attributes and events) and closing brace, then records it. The times
   * are canonical; no end, or an end before the start, is the start. A status other than `{}` is parsed alone.
   */
  private writeScalars(
    seg: number,
    spanS: number,
    parentS: number,
    nameS: number,
    nameE: number,
    service: Uint8Array,
    kind: number,
    startS: number,
    startE: number,
    endS: number,
    endE: number,
    statusS: number,
    statusE: number,
  ): void {
    const out = this.out;
    const b = this.b;
    // Only spans of the trace asked for get here: the trace id is the one asked for.
    out.put(this.head);
    const idAt = out.o - seg;
    out.copy(b, spanS, spanS + 16);
    if (parentS >= 0 && !this.zeros(parentS, parentS + 16)) {
      out.put(KEY_PARENT);
      out.copy(b, parentS, parentS + 16);
      out.byte(QUOTE);
    } else out.put(NO_PARENT);
    out.put(this.serviceAndKind(service, kind));
    if (endS < 0 || this.decimalLess(endS, endE, startS, startE)) [endS, endE] = [startS, startE];
    const startAt = out.o - seg;
    out.copy(b, startS, startE);
    out.put(KEY_END);
    const endAt = out.o - seg;
    out.copy(b, endS, endE);
    out.put(KEY_NAME);
    if (nameS < 0 || nameE - nameS === 2) out.put(UNNAMED);
    else out.copy(b, nameS, nameE);
    if (statusS < 0 || this.isEmptyObject(statusS, statusE)) out.put(UNSET_STATUS_END);
    else out.text(`,"status":${JSON.stringify(statusOf(this.parsed(statusS, statusE)))}}`);
    this.record(seg, idAt, startAt, startE - startS, endAt, endE - endS);
  }

  /** `,"service":…,"kind":"…","start_unix_ns":"` for this service and kind, written once per resource. */
  private serviceAndKind(service: Uint8Array, kind: number): Uint8Array {
    let byKind = this.serviceKinds.get(service);
    if (!byKind) {
      byKind = KINDS.map((k) =>
        utf8concat([KEY_SERVICE, service, bytes(`,"kind":"${k}","start_unix_ns":"`)]),
      );
      this.serviceKinds.set(service, byKind);
    }
    return byKind[kind] as Uint8Array;
  }

  /** The 32 hex digits at `s` are the trace asked for. */
  private isTarget(s: number): boolean {
    const b = this.b;
    const t = this.target;
    for (let i = 0; i < 32; i++) if (b[s + i] !== t[i]) return false;
    return true;
  }

  private lowerHex(s: number, e: number): boolean {
    const b = this.b;
    for (let i = s; i < e; i++) if (LOWER_HEX[b[i] as number] === 0) return false;
    return true;
  }

  private zeros(s: number, e: number): boolean {
    const b = this.b;
    for (let i = s; i < e; i++) if (b[i] !== 0x30) return false;
    return true;
  }

  /** 1–20 ASCII digits (the only form nanos() reads without trimming). */
  private decimal(s: number, e: number): boolean {
    if (e - s < 1 || e - s > TIME_DIGITS_MAX) return false;
    const b = this.b;
    for (let i = s; i < e; i++) {
      const c = b[i] as number;
      if (c < 0x30 || c > 0x39) return false;
    }
    return true;
  }

  /** Without leading zeros, as nanos() gives it. */
  private canonical(s: number, e: number): [number, number] {
    while (e - s > 1 && this.b[s] === 0x30) s++;
    return [s, e];
  }

  /** Canonical decimal [as, ae) < [bs, be). */
  private decimalLess(as: number, ae: number, bs: number, be: number): boolean {
    if (ae - as !== be - bs) return ae - as < be - bs;
    const b = this.b;
    for (let i = 0; i < ae - as; i++) {
      const x = b[as + i] as number;
      const y = b[bs + i] as number;
      if (x !== y) return x < y;
    }
    return false;
  }

  private isEmptyObject(s: number, e: number): boolean {
    if (this.b[s] !== OPEN_OBJECT) return false;
    for (let i = s + 1; i < e - 1; i++) {
      const c = this.b[i];
      if (!(c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)) return false;
    }
    return this.b[e - 1] === CLOSE_OBJECT;
  }

  private latin1(s: number, e: number): string {
    return this.body.toString('latin1', s, e);
  }

  // ---- attributes and events ----

  /**
   * An attribute list (p at its value) written as a JSON object's members, then its closing brace. Anything but an
   * array is no attributes (keyValues). A key/value pair of another form is parsed alone.
   */
  private attributes(): boolean {
    const out = this.out;
    if (this.b[this.p] !== OPEN_ARRAY) {
      this.value();
      out.byte(CLOSE_OBJECT);
      return true;
    }
    let first = true;
    let more = this.enterArray();
    while (more) {
      const at = this.p;
      if (this.b[at] !== OPEN_OBJECT)
        this.value(); // not an object: skipped
      else {
        const mark = out.o;
        if (!first) out.byte(COMMA);
        const wrote = this.keyValueFast();
        if (wrote === WROTE) first = false;
        else {
          out.o = mark;
          if (wrote === NOT_FAST) {
            this.p = at;
            this.value();
            const kv = this.parsed(at, this.p);
            if (isObject(kv) && typeof kv.key === 'string') {
              if (!first) out.byte(COMMA);
              out.text(`${JSON.stringify(kv.key)}:${JSON.stringify(anyValue(kv.value, 0))}`);
              first = false;
            }
          }
        }
      }
      more = this.nextItem();
    }
    out.byte(CLOSE_OBJECT);
    return true;
  }

  /** One `{key, value}` pair: WROTE, SKIPPED (no key) or NOT_FAST (nothing usable written, p anywhere in it). */
  private keyValueFast(): number {
    const out = this.out;
    let hasKey = false;
    let hasValue = false;
    let more = this.enterObject();
    while (more) {
      const k = this.key(KV_KEYS);
      if (k === -2) return NOT_FAST;
      if (k === K_KEY) {
        // The key comes first in every exporter's output; a second key, or one after the value, is another form.
        if (hasKey || hasValue) return NOT_FAST;
        const s = this.p;
        if (this.value() !== Tok.String) return NOT_FAST;
        hasKey = true;
        out.copy(this.b, s, this.p);
        out.byte(COLON);
      } else if (k === K_VALUE) {
        if (!hasKey || hasValue || !this.anyValueFast()) return NOT_FAST;
        hasValue = true;
      } else this.value();
      more = this.nextMember();
    }
    if (!hasKey) return hasValue ? NOT_FAST : SKIPPED;
    if (!hasValue) out.put(NULL);
    return WROTE;
  }

  /** An AnyValue of one scalar member, written as plain JSON; false: another form. */
  private anyValueFast(): boolean {
    const out = this.out;
    if (this.b[this.p] !== OPEN_OBJECT) return false;
    let kind = -1;
    let s = -1;
    let e = -1;
    let tok: Tok = Tok.Null;
    let escaped = false;
    let more = this.enterObject();
    while (more) {
      const k = this.key(VALUE_KEYS);
      if (k < 0 || kind >= 0 || k > V_BYTES) return false;
      kind = k;
      s = this.p;
      tok = this.value();
      escaped = this.escaped;
      e = this.p;
      more = this.nextMember();
    }
    if (kind < 0) {
      out.put(NULL); // an AnyValue with no value
      return true;
    }
    if (kind === V_STRING || kind === V_BYTES) {
      if (tok !== Tok.String) return false;
      out.copy(this.b, s, e);
    } else if (kind === V_BOOL) out.put(tok === Tok.True ? TRUE : FALSE);
    else if (kind === V_INT) {
      if (tok === Tok.String ? escaped : tok !== Tok.Number) return false;
      const text = tok === Tok.String ? this.latin1(s + 1, e - 1) : this.latin1(s, e);
      const n = Number(text);
      if (Number.isSafeInteger(n)) out.text(String(n));
      else if (tok === Tok.String) out.copy(this.b, s, e);
      else out.text(JSON.stringify(String(n))); // str() of the number JSON.parse made
    } else {
      if (tok !== Tok.Number) return false;
      out.text(JSON.stringify(Number(this.latin1(s, e))));
    }
    return true;
  }

  /** An event list (p at its value), written as a JSON array, then its closing bracket; false: the object path. */
  private events(): boolean {
    const out = this.out;
    if (this.b[this.p] !== OPEN_ARRAY) {
      this.value();
      out.byte(CLOSE_ARRAY);
      return true;
    }
    let first = true;
    let more = this.enterArray();
    while (more) {
      if (this.b[this.p] !== OPEN_OBJECT) this.value();
      else {
        if (!first) out.byte(COMMA);
        first = false;
        if (!this.eventFast()) return false;
      }
      more = this.nextItem();
    }
    out.byte(CLOSE_ARRAY);
    return true;
  }

  private eventFast(): boolean {
    const out = this.out;
    out.byte(OPEN_OBJECT);
    let seen = 0;
    let timeS = -1;
    let timeE = -1;
    let nameS = -1;
    let nameE = -1;
    let more = this.enterObject();
    while (more) {
      const k = this.key(EVENT_KEYS);
      if (k === -2) return false;
      if (k >= 0) {
        if (seen & (1 << k)) return false;
        seen |= 1 << k;
      }
      if (k === E_ATTRS) {
        out.put(ATTRS_OPEN);
        if (!this.attributes()) return false;
        out.byte(COMMA);
      } else if (k === -1) this.value();
      else {
        const s = this.p;
        if (this.value() !== Tok.String) return false;
        if (k === E_TIME) {
          // An event without a readable time takes its span's start: the object path knows it.
          if (!this.decimal(s + 1, this.p - 1)) return false;
          [timeS, timeE] = this.canonical(s + 1, this.p - 1);
        } else [nameS, nameE] = [s, this.p];
      }
      more = this.nextMember();
    }
    if (timeS < 0) return false;
    if (!(seen & (1 << E_ATTRS))) out.put(ATTRS_EMPTY);
    out.put(KEY_EVENT_NAME);
    if (nameS < 0) out.put(EMPTY_STRING);
    else out.copy(this.b, nameS, nameE);
    out.put(KEY_EVENT_TIME);
    out.copy(this.b, timeS, timeE);
    out.put(QUOTE_CLOSE);
    return true;
  }

  // ---- the result ----

  finish(maxSpans: number): TranscodedTrace {
    const k = this.kept;
    const total = k.count;
    const records = new Int32Array(total * RECORD_FIELDS);
    const starts = new Float64Array(total * 2);
    for (let i = 0; i < total; i++) {
      const r = i * RECORD_FIELDS;
      records[r] = k.segStart[i] as number;
      records[r + 1] = k.segEnd[i] as number;
      records[r + 2] = k.idAt[i] as number;
      records[r + 3] = k.startAt[i] as number;
      records[r + 4] = k.startLen[i] as number;
      records[r + 5] = k.endAt[i] as number;
      records[r + 6] = k.endLen[i] as number;
      starts[2 * i] = k.startHi[i] as number;
      starts[2 * i + 1] = k.startLo[i] as number;
    }
    return spansFromSegments(this.out.view(), records, starts, total, maxSpans);
  }
}

const ATTRS_OPEN = bytes('"attributes":{');
const ATTRS_EMPTY = bytes('"attributes":{},');
const EVENTS_OPEN = bytes('"events":[');
const EVENTS_EMPTY = bytes('"events":[],');
const KEY_PARENT = bytes('","parent_span_id":"');
const NO_PARENT = bytes('","parent_span_id":null');
const KEY_NAME = bytes('","name":');
const KEY_SERVICE = bytes(',"service":');
const UNSET_STATUS_END = bytes(',"status":{"code":"unset"}}');
const KEY_END = bytes('","end_unix_ns":"');
const KEY_EVENT_NAME = bytes('"name":');
const KEY_EVENT_TIME = bytes(',"time_unix_ns":"');
const QUOTE_CLOSE = bytes('"}');
const UNNAMED = bytes('"(unnamed)"');
const NULL = bytes('null');
const TRUE = bytes('true');
const FALSE = bytes('false');
const EMPTY_STRING = bytes('""');
