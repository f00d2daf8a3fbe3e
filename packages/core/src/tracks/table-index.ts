import { type AsyncRecordBatchFileReader, DataType, RecordBatchReader, type Vector } from 'apache-arrow';
import { type AsyncBuffer, type FileMetaData, parquetMetadataAsync, parquetRead } from 'hyparquet';
import type { ByteSource } from './byte-source.js';
import type { CacheWriter } from './column-cache.js';
import { ABSOLUTE_NS_THRESHOLD, type IndexedFile, type IndexedTrack } from './model.js';
import type { IndexContext } from './npz-index.js';

/** Column names taken as integer nanoseconds, then as seconds (float) — the first present wins. */
const NS_NAMES = ['_t_ns', 't_ns', 'timestamp_ns', 'time_ns'];
const S_NAMES = ['timestamp', 'time', 't', 't_s', 'time_s'];
/** Cache member names: the time column and `col:<name>` for values, so no column name can clash with time. */
const TIME_MEMBER = 'time';
const valueMember = (name: string) => `col:${name}`;

interface Column {
  name: string;
  kind: 'value' | 'time';
  /** ns per unit of the stored value (time columns): 1 for ns, 1e9 for seconds… */
  scale: number;
}

/** Accumulates one column into the cache while checking values (NaN/Inf) or times (monotonic, range). */
class ColumnSink {
  nonFinite = 0;
  rows = 0;
  first: bigint | null = null;
  last: bigint | null = null;
  monotonic = true;
  constructor(
    readonly column: Column,
    readonly out: CacheWriter,
  ) {}

  async push(
    values: ArrayLike<number | bigint | null | undefined | boolean>,
    valid?: (i: number) => boolean,
  ) {
    const n = values.length;
    if (this.column.kind === 'time') {
      const buf = new BigInt64Array(n);
      for (let i = 0; i < n; i++) {
        const raw = values[i];
        const ns =
          typeof raw === 'bigint'
            ? raw * BigInt(this.column.scale)
            : BigInt(Math.round(Number(raw ?? Number.NaN) * this.column.scale || 0));
        buf[i] = ns;
        if (this.last !== null && ns < this.last) this.monotonic = false;
        if (this.first === null) this.first = ns;
        this.last = ns;
      }
      await this.out.write(new Uint8Array(buf.buffer));
    } else {
      const buf = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const raw = values[i];
        const v =
          valid && !valid(i) ? Number.NaN : raw === null || raw === undefined ? Number.NaN : Number(raw);
        if (!Number.isFinite(v)) this.nonFinite++;
        buf[i] = v;
      }
      await this.out.write(new Uint8Array(buf.buffer));
    }
    this.rows += n;
  }
}

function pickTime(names: { name: string; integer: boolean; timestampScale: number | null }[]): Column | null {
  for (const want of NS_NAMES) {
    const c = names.find((x) => x.name === want && x.integer);
    if (c) return { name: c.name, kind: 'time', scale: 1 };
  }
  const ts = names.find((x) => x.timestampScale !== null);
  if (ts) return { name: ts.name, kind: 'time', scale: ts.timestampScale ?? 1 };
  for (const want of S_NAMES) {
    const c = names.find((x) => x.name === want);
    if (c) return { name: c.name, kind: 'time', scale: c.integer ? 1 : 1e9 };
  }
  return null;
}

/** Turns finished sinks into tracks: one per value column, all on the table's time column. */
function tracksOf(label: string, kindName: string, sinks: ColumnSink[], warnings: string[]): IndexedTrack[] {
  const time = sinks.find((s) => s.column.kind === 'time');
  let timeRef: IndexedTrack['time'] = null;
  if (!time)
    warnings.push(
      `${label}: no time column (${[...NS_NAMES, ...S_NAMES].join(', ')}) — plotted by step index`,
    );
  else if (!time.monotonic)
    warnings.push(`${label}: column '${time.column.name}' is not monotonic — plotted by step index`);
  else if (time.first !== null && time.last !== null)
    timeRef = {
      data: {
        in: 'cache',
        member: TIME_MEMBER,
        offset: 0,
        descr: '<i8',
        shape: [time.rows],
        fortran: false,
        rebuild: { kind: 'table' },
      },
      startNs: time.first.toString(),
      endNs: time.last.toString(),
      absolute: time.first >= ABSOLUTE_NS_THRESHOLD,
    };
  return sinks
    .filter((s) => s.column.kind === 'value')
    .map((s) => {
      const name = s.column.name;
      const at = name.lastIndexOf('/');
      const trackWarnings: string[] = [];
      if (s.rows === 0) trackWarnings.push(`${label}: '${name}' has 0 samples — nothing to plot`);
      if (s.nonFinite > 0)
        trackWarnings.push(`${label}: '${name}' has ${s.nonFinite} NaN/Inf/null values — drawn as gaps`);
      return {
        name,
        topic: at < 0 ? kindName : name.slice(0, at),
        field: at < 0 ? name : name.slice(at + 1),
        columns: [name],
        dtype: '<f8',
        samples: s.rows,
        data: {
          in: 'cache',
          member: valueMember(name),
          offset: 0,
          descr: '<f8',
          shape: [s.rows],
          fortran: false,
          rebuild: { kind: 'table' },
        },
        time: timeRef,
        warnings: trackWarnings,
      } satisfies IndexedTrack;
    });
}

async function openSinks(ctx: IndexContext, columns: Column[]): Promise<ColumnSink[]> {
  const sinks: ColumnSink[] = [];
  for (const c of columns)
    sinks.push(
      new ColumnSink(
        c,
        await ctx.cache.writer(ctx.artifactKey, c.kind === 'time' ? TIME_MEMBER : valueMember(c.name)),
      ),
    );
  return sinks;
}

async function finish(sinks: ColumnSink[], ok: boolean): Promise<void> {
  for (const s of sinks) await (ok ? s.out.close() : s.out.abort());
}

const sliceOf = <T>(data: ArrayLike<T>, from: number, to: number): ArrayLike<T> =>
  from === 0 && to === data.length
    ? data
    : 'subarray' in data
      ? (data as unknown as { subarray(a: number, b: number): ArrayLike<T> }).subarray(from, to)
      : Array.prototype.slice.call(data, from, to);

const asyncBuffer = (source: ByteSource): AsyncBuffer => ({
  byteLength: source.size,
  slice: async (start, end) => {
    const bytes = await source.read(start, (end ?? source.size) - start);
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  },
});

/** Parquet: footer metadata by ranged read, then one column chunk of one row group at a time. */
export async function indexParquet(
  source: ByteSource,
  ctx: IndexContext,
  kindName: string,
): Promise<IndexedFile> {
  const warnings: string[] = [];
  const file = asyncBuffer(source);
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(file);
  } catch (err) {
    return {
      format: 'parquet',
      tracks: [],
      warnings: [`${ctx.label}: not a readable Parquet file (${(err as Error).message}) — no tracks`],
    };
  }
  // Only root-level leaves are tracks: a nested (list/struct) column and its children are skipped with a note.
  const top = metadata.schema.slice(1);
  const leaves: { name: string; integer: boolean; numeric: boolean; timestampScale: number | null }[] = [];
  let depth = 0;
  for (const el of top) {
    if (depth > 0) {
      depth += (el.num_children ?? 0) - 1;
      continue;
    }
    if (el.num_children) {
      warnings.push(`${ctx.label}: column '${el.name}' is nested — skipped`);
      depth = el.num_children;
      continue;
    }
    const lt = el.logical_type;
    const timestampScale =
      lt?.type === 'TIMESTAMP'
        ? ({ NANOS: 1, MICROS: 1e3, MILLIS: 1e6 } as const)[lt.unit]
        : el.converted_type === 'TIMESTAMP_MILLIS'
          ? 1e6
          : el.converted_type === 'TIMESTAMP_MICROS'
            ? 1e3
            : null;
    const integer = el.type === 'INT32' || el.type === 'INT64';
    const numeric = integer || el.type === 'FLOAT' || el.type === 'DOUBLE' || el.type === 'BOOLEAN';
    if (!numeric) warnings.push(`${ctx.label}: column '${el.name}' is not numeric — skipped`);
    else leaves.push({ name: el.name, integer, numeric, timestampScale });
  }
  const time = pickTime(leaves);
  const columns: Column[] = [
    ...(time ? [time] : []),
    ...leaves
      .filter((l) => l.name !== time?.name)
      .map((l) => ({ name: l.name, kind: 'value' as const, scale: 1 })),
  ];
  let rows = 0;
  for (const rg of metadata.row_groups) rows += Number(rg.num_rows);
  const rowBytes = columns.length * 8;
  const maxRows = Math.floor(ctx.maxIndexBytes / Math.max(1, rowBytes));
  const sinks = await openSinks(ctx, columns);
  let ok = false;
  try {
    let rowStart = 0;
    for (const rg of metadata.row_groups) {
      const rgRows = Number(rg.num_rows);
      if (rowStart + rgRows > maxRows) {
        warnings.push(
          `${ctx.label}: over the indexing limit of ${ctx.maxIndexBytes} bytes — indexed partially (the first ${rowStart} of ${rows} rows)`,
        );
        break;
      }
      for (const sink of sinks) {
        // Column chunks as decoded (typed arrays where the type allows), never assembled into row objects.
        const parts: { start: number; data: ArrayLike<number | bigint> }[] = [];
        const rgStart = rowStart;
        await parquetRead({
          file,
          metadata,
          columns: [sink.column.name],
          rowStart: rgStart,
          rowEnd: rgStart + rgRows,
          parsers: {
            timestampFromNanoseconds: (n) => n,
            timestampFromMicroseconds: (n) => n,
            timestampFromMilliseconds: (n) => n,
          },
          onChunk: (chunk) => {
            parts.push({ start: chunk.rowStart, data: chunk.columnData as ArrayLike<number | bigint> });
          },
        });
        // A chunk may reach outside the rows asked for: keep only this row group's rows, in order.
        parts.sort((a, b) => a.start - b.start);
        for (const part of parts) {
          const from = Math.max(0, rgStart - part.start);
          const to = Math.min(part.data.length, rgStart + rgRows - part.start);
          if (to > from) await sink.push(sliceOf(part.data, from, to));
        }
      }
      rowStart += rgRows;
    }
    ok = true;
  } finally {
    await finish(sinks, ok);
  }
  return { format: 'parquet', tracks: tracksOf(ctx.label, kindName, sinks, warnings), warnings };
}

/** A FileHandle look-alike so apache-arrow reads the IPC file by ranges (footer, then one batch at a time). */
function fileHandleOf(source: ByteSource) {
  return {
    fd: -1,
    stat: async () => ({ size: source.size }),
    read: async (buffer: Uint8Array, offset: number, length: number, position: number) => {
      const bytes = await source.read(position, length);
      buffer.set(bytes, offset);
      return { bytesRead: bytes.byteLength, buffer };
    },
    close: async () => {},
  };
}

const TIME_UNIT_NS = [1e9, 1e6, 1e3, 1];

/** Feather v2 / Arrow IPC (file or stream format): record batches one at a time. */
export async function indexArrow(
  source: ByteSource,
  ctx: IndexContext,
  kindName: string,
): Promise<IndexedFile> {
  const warnings: string[] = [];
  let reader: AsyncRecordBatchFileReader;
  try {
    reader = (await RecordBatchReader.from(
      fileHandleOf(source) as never,
    )) as unknown as AsyncRecordBatchFileReader;
    await reader.open();
  } catch (err) {
    return {
      format: 'arrow',
      tracks: [],
      warnings: [`${ctx.label}: not a readable Arrow/Feather file (${(err as Error).message}) — no tracks`],
    };
  }
  const fields = reader.schema.fields;
  const leaves: {
    name: string;
    integer: boolean;
    numeric: boolean;
    timestampScale: number | null;
    index: number;
  }[] = [];
  fields.forEach((f, index) => {
    const t = f.type;
    const timestampScale = DataType.isTimestamp(t) ? (TIME_UNIT_NS[t.unit] ?? 1) : null;
    const integer = DataType.isInt(t);
    const numeric = integer || DataType.isFloat(t) || DataType.isBool(t) || timestampScale !== null;
    if (!numeric)
      warnings.push(
        `${ctx.label}: column '${f.name}' is ${DataType.isList(t) || DataType.isStruct(t) || DataType.isFixedSizeList(t) ? 'nested' : 'not numeric'} — skipped`,
      );
    else leaves.push({ name: f.name, integer, numeric, timestampScale, index });
  });
  const time = pickTime(leaves);
  const columns: Column[] = [
    ...(time ? [time] : []),
    ...leaves
      .filter((l) => l.name !== time?.name)
      .map((l) => ({ name: l.name, kind: 'value' as const, scale: 1 })),
  ];
  const indexOf = new Map(leaves.map((l) => [l.name, l.index]));
  const maxRows = Math.floor(ctx.maxIndexBytes / Math.max(1, columns.length * 8));
  const sinks = await openSinks(ctx, columns);
  let ok = false;
  let rows = 0;
  try {
    for await (const batch of reader) {
      if (rows + batch.numRows > maxRows) {
        warnings.push(
          `${ctx.label}: over the indexing limit of ${ctx.maxIndexBytes} bytes — indexed partially (the first ${rows} rows)`,
        );
        break;
      }
      for (const sink of sinks) {
        const vector = batch.getChildAt(indexOf.get(sink.column.name) ?? -1) as Vector | null;
        if (!vector) continue;
        const values = vector.toArray() as ArrayLike<number | bigint>;
        await sink.push(values, vector.nullCount > 0 ? (i) => vector.isValid(i) : undefined);
      }
      rows += batch.numRows;
    }
    ok = true;
  } finally {
    await finish(sinks, ok);
  }
  return { format: 'arrow', tracks: tracksOf(ctx.label, kindName, sinks, warnings), warnings };
}
