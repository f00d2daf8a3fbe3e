import { createHash, randomBytes } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** Any key we accept: `rt_` then 20–120 of [A-Za-z0-9_] (operators may inject their own from a vault). */
export const API_KEY_FORMAT = /^rt_[A-Za-z0-9_]{20,120}$/;
const GENERATED_FORMAT = /^rt_([A-Za-z0-9]{10})_([A-Za-z0-9]{32})([A-Za-z0-9]{6})$/;

function base62(bytes: Buffer, length: number): string {
  let out = '';
  for (const b of bytes) {
    if (out.length === length) break;
    if (b < 248) out += BASE62[b % 62]; // rejection sampling keeps the alphabet uniform
  }
  return out.length === length ? out : out + base62(randomBytes(length), length - out.length);
}

function crc32(text: string): number {
  let crc = 0xffffffff;
  for (const byte of Buffer.from(text)) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function checksum(body: string): string {
  let n = crc32(body);
  let out = '';
  for (let i = 0; i < 6; i++) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

/**
 * A new key `rt_<10 id>_<32 secret><6 checksum>`: ~190 random bits, and a CRC32 checksum so secret scanners
 * can recognise one, and a refused key's error can say it was mistyped rather than revoked.
 */
export function generateApiKey(): string {
  const body = `rt_${base62(randomBytes(16), 10)}_${base62(randomBytes(48), 32)}`;
  return `${body}${checksum(body)}`;
}

/** Whether a key has the generated shape and its checksum matches. */
export function isGeneratedKeyChecksumValid(key: string): boolean {
  const m = GENERATED_FORMAT.exec(key);
  if (!m) return false;
  return checksum(key.slice(0, -6)) === m[3];
}

/**
 * A key in the generated shape whose checksum does not match: mistyped, never issued. Used only to word the
 * 401 of a key the lookup did not find; an operator may inject a key of any shape (API_KEY_FORMAT), so the
 * checksum never refuses a key by itself.
 */
export function hasBadChecksum(key: string): boolean {
  return GENERATED_FORMAT.test(key) && !isGeneratedKeyChecksumValid(key);
}

export function isWellFormedApiKey(key: string): boolean {
  return API_KEY_FORMAT.test(key);
}

/** Only this digest is stored. Keys are high-entropy, so an unsalted SHA-256 is the standard choice. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** The non-secret part the portal shows to tell keys apart. */
export function apiKeyPrefix(key: string): string {
  return `${key.slice(0, 10)}…`;
}
