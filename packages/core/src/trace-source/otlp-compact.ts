import { OTLP_COMPACT_WASM } from './otlp-compact-wasm.js';
import { RECORD_FIELDS, type SpanSegments, spansFromSegments } from './span-list.js';

/**
 * Runs wasm/otlp_compact.c: the compact OTLP JSON layout (Jaeger v2, the Collector) transcoded at native speed.
 * null when it declines (another layout), the answer is past `MAX_BYTES`, or WebAssembly is not available: the
 * caller then reads it in JavaScript (otlp-transcode.ts), which gives the same spans.
 */

/** Answers up to this size go through the module (its memory never shrinks: about 4× this stays reserved). */
export const COMPACT_MAX_BYTES = 4 * 1024 * 1024;

interface Module {
  memory: WebAssembly.Memory;
  transcode: (...offsets: number[]) => number;
  heapBase: number;
}

let loaded: Module | null | undefined;

function load(): Module | null {
  if (loaded !== undefined) return loaded;
  try {
    const instance = new WebAssembly.Instance(
      new WebAssembly.Module(Buffer.from(OTLP_COMPACT_WASM, 'base64')),
    );
    const e = instance.exports as {
      memory: WebAssembly.Memory;
      transcode: Module['transcode'];
      __heap_base: WebAssembly.Global;
    };
    loaded = { memory: e.memory, transcode: e.transcode, heapBase: Number(e.__heap_base.value) };
  } catch {
    loaded = null;
  }
  return loaded;
}

const align8 = (n: number) => (n + 7) & ~7;

export function transcodeCompact(body: Buffer, traceId: string, maxSpans: number): SpanSegments | null {
  if (body.length > COMPACT_MAX_BYTES) return null;
  const m = load();
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
  if (pages > 0) m.memory.grow(pages);
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
