import type { H264Stream } from './h264.js';

/**
 * Wraps an H.264 stream in an MP4 file (ISO BMFF): `ftyp`, then `moov` with one video track, then `mdat`.
 * The index comes first ("fast start"), so a browser can play it while it downloads.
 */
export function muxMp4(stream: H264Stream, width: number, height: number, fps: number): Uint8Array {
  const samples = stream.frames.map(lengthPrefixed);
  const sizes = samples.map((s) => s.length);
  const ftyp = box(
    'ftyp',
    ascii('isom'),
    u32(0x200),
    ascii('isom'),
    ascii('iso2'),
    ascii('avc1'),
    ascii('mp41'),
  );
  // moov's size does not depend on the chunk offset value, so build it once to learn where mdat starts.
  const moovFor = (mdatStart: number) => moov(stream, sizes, width, height, fps, mdatStart + 8);
  const mdatStart = ftyp.length + moovFor(0).length;
  return concat([ftyp, moovFor(mdatStart), box('mdat', ...samples)]);
}

function moov(
  stream: H264Stream,
  sizes: number[],
  width: number,
  height: number,
  fps: number,
  chunkOffset: number,
): Uint8Array {
  const count = sizes.length;
  const timescale = fps * 1000;
  const duration = count * 1000; // in timescale units: each frame lasts 1000
  const movieDuration = Math.round((count / fps) * 1000); // mvhd uses a 1000 Hz timescale
  const matrix = [0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000];
  const mvhd = fullBox(
    'mvhd',
    0,
    0,
    u32(0),
    u32(0),
    u32(1000),
    u32(movieDuration),
    u32(0x10000),
    u16(0x100),
    zeros(10),
    ...matrix.map(u32),
    zeros(24),
    u32(2),
  );
  const tkhd = fullBox(
    'tkhd',
    0,
    3,
    u32(0),
    u32(0),
    u32(1),
    u32(0),
    u32(movieDuration),
    zeros(8),
    u16(0),
    u16(0),
    u16(0),
    u16(0),
    ...matrix.map(u32),
    u32(width << 16),
    u32(height << 16),
  );
  const mdhd = fullBox(
    'mdhd',
    0,
    0,
    u32(0),
    u32(0),
    u32(timescale),
    u32(duration),
    u16(0x55c4 /* 'und' */),
    u16(0),
  );
  const hdlr = fullBox('hdlr', 0, 0, u32(0), ascii('vide'), zeros(12), ascii('RoboTrace demo\0'));
  const vmhd = fullBox('vmhd', 0, 1, zeros(8));
  const dinf = box('dinf', fullBox('dref', 0, 0, u32(1), fullBox('url ', 0, 1)));
  const stbl = box(
    'stbl',
    fullBox('stsd', 0, 0, u32(1), avc1(stream, width, height)),
    fullBox('stts', 0, 0, u32(1), u32(count), u32(1000)),
    fullBox(
      'stss',
      0,
      0,
      u32(stream.keyframes.filter(Boolean).length),
      ...stream.keyframes.flatMap((k, i) => (k ? [u32(i + 1)] : [])),
    ),
    fullBox('stsc', 0, 0, u32(1), u32(1), u32(count), u32(1)),
    fullBox('stsz', 0, 0, u32(0), u32(count), ...sizes.map(u32)),
    fullBox('stco', 0, 0, u32(1), u32(chunkOffset)),
  );
  const minf = box('minf', vmhd, dinf, stbl);
  const trak = box('trak', tkhd, box('mdia', mdhd, hdlr, minf));
  return box('moov', mvhd, trak);
}

function avc1(stream: H264Stream, width: number, height: number): Uint8Array {
  const sps = stream.sps;
  const avcC = box(
    'avcC',
    Uint8Array.of(1, sps[1] ?? 66, sps[2] ?? 0, sps[3] ?? 30, 0xff /* 4-byte lengths */, 0xe1 /* one SPS */),
    u16(sps.length),
    sps,
    Uint8Array.of(1),
    u16(stream.pps.length),
    stream.pps,
  );
  const compressor = new Uint8Array(32);
  return box(
    'avc1',
    zeros(6),
    u16(1), // data_reference_index
    zeros(16),
    u16(width),
    u16(height),
    u32(0x00480000),
    u32(0x00480000), // 72 dpi
    u32(0),
    u16(1), // frame_count
    compressor,
    u16(0x18), // depth
    u16(0xffff), // pre_defined = -1
    avcC,
  );
}

function lengthPrefixed(nal: Uint8Array): Uint8Array {
  return concat([u32(nal.length), nal]);
}

function box(type: string, ...parts: Uint8Array[]): Uint8Array {
  const body = concat(parts);
  return concat([u32(body.length + 8), ascii(type), body]);
}

function fullBox(type: string, version: number, flags: number, ...parts: Uint8Array[]): Uint8Array {
  return box(type, Uint8Array.of(version, (flags >> 16) & 0xff, (flags >> 8) & 0xff, flags & 0xff), ...parts);
}

function u32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value >>> 0);
  return out;
}

function u16(value: number): Uint8Array {
  const out = new Uint8Array(2);
  new DataView(out.buffer).setUint16(0, value & 0xffff);
  return out;
}

function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function zeros(count: number): Uint8Array {
  return new Uint8Array(count);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
