import { OTLP_COMPACT_WASM } from './otlp-compact-wasm.js';
import { RECORD_FIELDS, type SpanSegments, spansFromSegments } from './span-list.js';

/**
 * Runs wasm/otlp_compact.c: the compact OTLP JSON layout (Jaeger v2, the Collector) transcoded at native speed.
 * null when it declines (another layout) or WebAssembly is not available: the caller then parses and normalises
 * the answer as objects (normalize.ts), which gives the same spans.
 */

/**
 * Answers up to this size use one long-lived instance (its memory never shrinks: about 3× this stays reserved);
 * a larger one gets an instance of its own, dropped after the call.
 */
export const SHARED_MAX_BYTES = 4 * 1024 * 1024;

interface Instance {
  memory: WebAssembly.Memory;
  transcode: (...offsets: number[]) => number;
  heapBase: number;
}

let compiled: WebAssembly.Module | null | undefined;
let shared: Instance | undefined;

function instantiate(): Instance | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(Buffer.from(OTLP_COMPACT_WASM, 'base64'));
    } catch {
      compiled = null;
    }
  }
  if (!compiled) return null;
  const e = new WebAssembly.Instance(compiled).exports as {
    memory: WebAssembly.Memory;
    transcode: Instance['transcode'];
    __heap_base: WebAssembly.Global;
  };
  return { memory: e.memory, transcode: e.transcode, heapBase: Number(e.__heap_base.value) };
}

function instanceFor(bytes: number): Instance | null {
  if (bytes > SHARED_MAX_BYTES) return instantiate();
  shared ??= instantiate() ?? undefined;
  return shared ?? null;
}

const align8 = (n: number) => (n + 7) & ~7;

export function transcodeCompact(body: Buffer, traceId: string, maxSpans: number): SpanSegments | null {
  const m = instanceFor(body.length);
  if (!m) return null;
  // The layout the C side documents: answer + a 0 byte, output, records, starts, the trace id.
  const inAt = align8(m.heapBase);
  const outAt = align8(inAt + body.length + 1);
  const outCap = 2 * body.length + 65_536;
  // A span in the compact layout takes well over 100 bytes: this many records always suffice.
  const recCap = Math.ceil(body.length / 100) + 16;
  const recAt = align8(outAt + outCap);
  const startsAt = align8(recAt + recCap * RECORD_FIELDS * 4);
  const targetAt = startsAt + recCap * 16;
  const end = targetAt + 32;
  const pages = Math.ceil(end / 65_536) - m.memory.buffer.byteLength / 65_536;
  try {
    if (pages > 0) m.memory.grow(pages);
  } catch {
    return null; // no memory for it here: the JavaScript reader grows its buffers as it goes
  }
  const mem = new Uint8Array(m.memory.buffer);
  mem.set(body, inAt);
  mem[inAt + body.length] = 0;
  Buffer.from(m.memory.buffer, targetAt, 32).write(traceId, 'latin1');
  const kept = m.transcode(inAt, body.length, outAt, outCap, recAt, startsAt, recCap, targetAt);
  if (kept < 0) return null;
  return spansFromSegments(
    new Uint8Array(m.memory.buffer, outAt, outCap),
    new Int32Array(m.memory.buffer, recAt, kept * RECORD_FIELDS),
    new Float64Array(m.memory.buffer, startsAt, kept * 2),
    kept,
    maxSpans,
  );
}
