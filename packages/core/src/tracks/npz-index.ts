import { type ByteSource, readChunksReusing } from './byte-source.js';
import type { ColumnCache } from './column-cache.js';
import { ABSOLUTE_NS_THRESHOLD, type DataRef, type IndexedFile, type IndexedTrack } from './model.js';
import { MAX_NPY_HEADER, NpyError, type NpyHeader, parseNpyHeader } from './npy.js';
import { FiniteScan, TimeScan } from './scan.js';
import { memberChunks, memberDataOffset, readZipDirectory, type ZipEntry, ZipError } from './zip.js';

export interface IndexContext {
  /** How warnings name the file, e.g. `sensors.npz`. */
  label: string;
  /** Identifies this upload in the column cache. */
  artifactKey: string;
  cache: ColumnCache;
  /** Bytes of array data the indexer reads at most; past it the file is indexed partially. */
  maxIndexBytes: number;
}

interface Member {
  key: string;
  header: NpyHeader;
  ref: DataRef;
  nonFinite: number;
  time: TimeScan | null;
  names: string[] | null;
}

const TIME_FIELD = '_t_ns';
const NAMES_SUFFIX = '_names';
const MAX_NAMES_BYTES = 1 << 20;

const splitKey = (key: string) => {
  const at = key.lastIndexOf('/');
  return at < 0 ? { topic: '', field: key } : { topic: key.slice(0, at), field: key.slice(at + 1) };
};
const product = (dims: number[]) => dims.reduce((a, b) => a * b, 1);

/** Reads the header of a stored member in place, growing the read until the header is complete. */
async function storedHeader(source: ByteSource, at: number, limit: number): Promise<NpyHeader> {
  for (let want = 256; ; want *= 4) {
    const bytes = await source.read(at, Math.min(want, limit));
    const header = parseNpyHeader(bytes);
    if (header) return header;
    if (bytes.byteLength >= limit || want > MAX_NPY_HEADER) throw new NpyError('truncated header');
  }
}

function decodeNames(header: NpyHeader, bytes: Uint8Array): string[] | null {
  const m = /^([<>|=])([US])(\d+)$/.exec(header.descr);
  if (!m || header.shape.length !== 1) return null;
  const chars = Number(m[3]);
  const count = header.shape[0] ?? 0;
  const itemsize = m[2] === 'U' ? chars * 4 : chars;
  const out: string[] = [];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < count && (i + 1) * itemsize <= bytes.byteLength; i++) {
    let s = '';
    if (m[2] === 'U') {
      for (let c = 0; c < chars; c++) {
        const cp = dv.getUint32(i * itemsize + c * 4, m[1] !== '>');
        if (cp === 0) break;
        s += cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd';
      }
    } else {
      const raw = bytes.subarray(i * itemsize, (i + 1) * itemsize);
      const end = raw.indexOf(0);
      s = new TextDecoder().decode(end < 0 ? raw : raw.subarray(0, end));
    }
    out.push(s);
  }
  return out;
}

/** Scans one member: header, then values (NaN/Inf) or time stamps, caching a decoded copy of deflated data. */
async function readMember(
  source: ByteSource,
  entry: ZipEntry,
  key: string,
  ctx: IndexContext,
): Promise<Member> {
  const dataOffset = await memberDataOffset(source, entry);
  const isTime = key === TIME_FIELD || key.endsWith(`/${TIME_FIELD}`);
  const stored = entry.method === 0;
  let header: NpyHeader | null = null;
  let pending: AsyncGenerator<Uint8Array> | null = null;
  let head = new Uint8Array(0);
  if (stored) header = await storedHeader(source, dataOffset, entry.size);
  else {
    pending = memberChunks(source, entry, dataOffset);
    while (!header) {
      const next = await pending.next();
      if (next.done) throw new NpyError('truncated header');
      const grown = new Uint8Array(head.byteLength + next.value.byteLength);
      grown.set(head);
      grown.set(next.value, head.byteLength);
      head = grown;
      header = parseNpyHeader(head);
      if (!header && head.byteLength > MAX_NPY_HEADER + 12) throw new NpyError('header too long');
    }
  }
  const { dtype } = header;
  const expected = dtype ? product(header.shape) * dtype.itemsize : entry.size - header.headerBytes;
  if (dtype && entry.size - header.headerBytes < expected)
    throw new NpyError(`data is truncated (${entry.size - header.headerBytes} of ${expected} bytes)`);
  const ref: DataRef = {
    in: stored ? 'artifact' : 'cache',
    member: key,
    offset: stored ? dataOffset + header.headerBytes : 0,
    descr: header.descr,
    shape: header.shape,
    fortran: header.fortranOrder,
    ...(stored ? {} : { rebuild: { kind: 'zip-member' as const, entry, headerBytes: header.headerBytes } }),
  };
  const member: Member = { key, header, ref, nonFinite: 0, time: null, names: null };

  // The data bytes after the header, in chunks, whichever way the member is stored.
  const afterHeader = head.subarray(header.headerBytes);
  const gen = pending;
  async function* data(): AsyncGenerator<Uint8Array> {
    if (stored) {
      // One buffer refilled (the scan keeps nothing of a chunk): a stored member is only scanned, not copied.
      yield* readChunksReusing(source, dataOffset + (header as NpyHeader).headerBytes, expected);
      return;
    }
    let left = expected;
    if (afterHeader.byteLength) {
      yield afterHeader.subarray(0, left);
      left -= Math.min(left, afterHeader.byteLength);
    }
    if (!gen) return;
    for await (const chunk of gen) {
      if (left <= 0) continue; // drain (lets zlib verify the stream end)
      yield chunk.subarray(0, left);
      left -= Math.min(left, chunk.byteLength);
    }
  }

  if (!dtype) {
    if (key.endsWith(NAMES_SUFFIX) && expected <= MAX_NAMES_BYTES) {
      const parts: Uint8Array[] = [];
      for await (const c of data()) parts.push(new Uint8Array(c)); // a copy: stored chunks share one buffer
      member.names = decodeNames(header, Buffer.concat(parts));
    } else await gen?.return(undefined);
    return member;
  }
  const scan = isTime ? new TimeScan(dtype) : new FiniteScan(dtype);
  async function* scanned(): AsyncGenerator<Uint8Array> {
    for await (const chunk of data()) {
      scan.push(chunk);
      yield chunk;
    }
  }
  if (stored) for await (const _ of scanned());
  else await ctx.cache.write(ctx.artifactKey, key, scanned());
  if (scan instanceof TimeScan) member.time = scan;
  else member.nonFinite = scan.nonFinite;
  return member;
}

/** Members grouped so that a topic's `_t_ns` comes before its fields (a partial index keeps whole topics). */
function orderMembers(entries: ZipEntry[]): ZipEntry[] {
  const rank = (e: ZipEntry) => {
    const key = e.name.replace(/\.npy$/, '');
    const { topic, field } = splitKey(key);
    return `${topic}\u0000${field === TIME_FIELD ? 0 : 1}${field}`;
  };
  return [...entries].sort((a, b) => (rank(a) < rank(b) ? -1 : rank(a) > rank(b) ? 1 : 0));
}

/** Indexes an NPZ (numpy savez / savez_compressed) without reading it whole: directory, headers, one scan. */
export async function indexNpz(source: ByteSource, ctx: IndexContext): Promise<IndexedFile> {
  const warnings: string[] = [];
  let entries: ZipEntry[];
  try {
    entries = await readZipDirectory(source);
  } catch (err) {
    if (err instanceof ZipError)
      return { format: 'npz', tracks: [], warnings: [`${ctx.label}: ${err.message} — no tracks`] };
    throw err;
  }
  const members: Member[] = [];
  let budget = ctx.maxIndexBytes;
  const ordered = orderMembers(entries.filter((e) => !e.name.endsWith('/')));
  for (const [i, entry] of ordered.entries()) {
    if (!entry.name.endsWith('.npy')) {
      warnings.push(`${ctx.label}: member '${entry.name}' is not a .npy — skipped`);
      continue;
    }
    const key = entry.name.slice(0, -4);
    if (entry.size > budget) {
      warnings.push(
        `${ctx.label}: over the indexing limit of ${ctx.maxIndexBytes} bytes — indexed partially (${i} of ${ordered.length} members); '${key}' and the members after it are not shown`,
      );
      break;
    }
    budget -= entry.size;
    try {
      members.push(await readMember(source, entry, key, ctx));
    } catch (err) {
      if (!(err instanceof NpyError || err instanceof ZipError)) throw err;
      warnings.push(`${ctx.label}: member '${key}' is not a valid .npy (${err.message}) — skipped`);
    }
  }
  return { format: 'npz', tracks: tracksOf(members, ctx.label, warnings), warnings };
}

/** Indexes a bare `.npy` (one array) as a single track named after the artifact kind. */
export async function indexNpy(source: ByteSource, ctx: IndexContext, name: string): Promise<IndexedFile> {
  const entry: ZipEntry = {
    name: `${name}.npy`,
    method: 0,
    compressedSize: source.size,
    size: source.size,
    localHeaderOffset: -1,
  };
  const warnings: string[] = [];
  if (source.size > ctx.maxIndexBytes)
    return {
      format: 'npy',
      tracks: [],
      warnings: [`${ctx.label}: over the indexing limit of ${ctx.maxIndexBytes} bytes — not indexed`],
    };
  try {
    const header = await storedHeader(source, 0, source.size);
    const member = await readMemberAt(source, entry, name, header);
    return { format: 'npy', tracks: tracksOf([member], ctx.label, warnings), warnings };
  } catch (err) {
    if (!(err instanceof NpyError)) throw err;
    return {
      format: 'npy',
      tracks: [],
      warnings: [`${ctx.label}: not a valid .npy (${err.message}) — no tracks`],
    };
  }
}

async function readMemberAt(
  source: ByteSource,
  entry: ZipEntry,
  key: string,
  header: NpyHeader,
): Promise<Member> {
  const ref: DataRef = {
    in: 'artifact',
    member: key,
    offset: header.headerBytes,
    descr: header.descr,
    shape: header.shape,
    fortran: header.fortranOrder,
  };
  const member: Member = { key, header, ref, nonFinite: 0, time: null, names: null };
  if (!header.dtype) return member;
  const expected = product(header.shape) * header.dtype.itemsize;
  if (entry.size - header.headerBytes < expected) throw new NpyError('data is truncated');
  const scan = new FiniteScan(header.dtype);
  for await (const chunk of readChunksReusing(source, header.headerBytes, expected)) scan.push(chunk);
  member.nonFinite = scan.nonFinite;
  return member;
}

function columnNames(name: string, count: number, names: string[] | null | undefined): string[] {
  if (names && names.length === count) return names;
  if (count === 1) return [name];
  return Array.from({ length: count }, (_, i) => `${name}[${i}]`);
}

/** Groups members into tracks: topic = everything before the last `/`, its `_t_ns` as the time base. */
function tracksOf(members: Member[], label: string, warnings: string[]): IndexedTrack[] {
  const byKey = new Map(members.map((m) => [m.key, m]));
  const tracks: IndexedTrack[] = [];
  const stepsByTopic = new Map<string, Map<string, number>>();
  for (const m of members) {
    const { topic, field } = splitKey(m.key);
    if (field === TIME_FIELD || m.names) continue;
    if (!m.header.dtype) {
      warnings.push(
        m.header.unsupported?.startsWith('object')
          ? `${label}: member '${m.key}' is an object array (needs pickle) — skipped, never unpickled`
          : `${label}: member '${m.key}' has dtype '${m.header.descr}', which cannot be plotted — skipped`,
      );
      continue;
    }
    const trackWarnings: string[] = [];
    const samples = m.header.shape.length === 0 ? 1 : (m.header.shape[0] ?? 0);
    const columns = product(m.header.shape.slice(1));
    const steps = stepsByTopic.get(topic) ?? new Map<string, number>();
    steps.set(field, samples);
    stepsByTopic.set(topic, steps);
    const timeKey = topic ? `${topic}/${TIME_FIELD}` : TIME_FIELD;
    const t = byKey.get(timeKey);
    let time: IndexedTrack['time'] = null;
    if (t?.time && t.header.dtype) {
      const tDtype = t.header.dtype;
      const tSteps = t.header.shape[0] ?? 0;
      const flat = t.header.shape.length === 1 || (t.header.shape.length === 2 && t.header.shape[1] === 1);
      if (tDtype.kind !== 'i' && tDtype.kind !== 'u')
        trackWarnings.push(`${label}: member '${timeKey}' is not an integer array — plotted by step index`);
      else if (!flat)
        trackWarnings.push(`${label}: member '${timeKey}' is not one-dimensional — plotted by step index`);
      else if (!t.time.monotonic)
        trackWarnings.push(`${label}: member '${timeKey}' is not monotonic — plotted by step index`);
      else if (tSteps !== samples)
        trackWarnings.push(
          `${label}: '${m.key}' has ${samples} steps but '${timeKey}' has ${tSteps} — plotted by step index`,
        );
      else if (t.time.first !== null && t.time.last !== null)
        time = {
          data: t.ref,
          startNs: t.time.first.toString(),
          endNs: t.time.last.toString(),
          absolute: t.time.first >= ABSOLUTE_NS_THRESHOLD,
        };
    }
    if (samples === 0) trackWarnings.push(`${label}: '${m.key}' has 0 samples — nothing to plot`);
    if (m.nonFinite > 0)
      trackWarnings.push(`${label}: '${m.key}' has ${m.nonFinite} NaN/Inf values — drawn as gaps`);
    const names =
      byKey.get(`${m.key}${NAMES_SUFFIX}`)?.names ??
      byKey.get(topic ? `${topic}/${NAMES_SUFFIX}` : NAMES_SUFFIX)?.names;
    tracks.push({
      name: m.key,
      topic,
      field,
      columns: columnNames(m.key, columns, names),
      dtype: m.header.descr,
      samples,
      data: m.ref,
      time,
      warnings: trackWarnings,
    });
  }
  for (const [topic, steps] of stepsByTopic) {
    const counts = new Set(steps.values());
    if (counts.size > 1)
      warnings.push(
        `${label}: topic '${topic}' has fields with different step counts (${[...steps].map(([f, n]) => `${f}: ${n}`).join(', ')})`,
      );
  }
  // A problem with a shared `_t_ns` is reported once for the file too (the lanes repeat it).
  for (const w of new Set(tracks.flatMap((t) => t.warnings.filter((x) => x.includes('_t_ns')))))
    if (!warnings.includes(w)) warnings.push(w);
  return tracks;
}
