import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * `~/.robotrace/credentials`: the TOML file the Python SDK reads too. Sections per profile (`[default]`), string
 * values `api_key`, `base_url`, `client_id`, `user_email`, `written_at`. Only that small subset of TOML is
 * written; reading also accepts literal strings and comments, and keeps unknown values as text.
 */
/** Environment variables, as `process.env` holds them. */
export type Env = Record<string, string | undefined>;

export type CredentialProfiles = Map<string, Map<string, string>>;

export const DEFAULT_PROFILE = 'default';

/** `ROBOTRACE_HOME` if set, else `~/.robotrace`. */
export function credentialsDir(env: Env = process.env): string {
  const home = env.ROBOTRACE_HOME?.trim();
  return home ? home : join(env.HOME?.trim() || homedir(), '.robotrace');
}

export function credentialsPath(env: Env = process.env): string {
  return join(credentialsDir(env), 'credentials');
}

/** The profiles in the file, or an empty map when there is no file. */
export function readCredentials(path: string): CredentialProfiles {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw error;
  }
  return parseCredentials(text);
}

export function parseCredentials(text: string): CredentialProfiles {
  const profiles: CredentialProfiles = new Map();
  let current: Map<string, string> | undefined;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const section = /^\[\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_.-]+)\s*\]\s*(?:#.*)?$/.exec(line);
    if (section?.[1]) {
      const name = unquoteKey(section[1]);
      current = profiles.get(name) ?? new Map();
      profiles.set(name, current);
      continue;
    }
    const pair = /^("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)\s*=\s*(.*)$/.exec(line);
    if (!pair?.[1] || pair[2] === undefined || current === undefined) continue;
    current.set(unquoteKey(pair[1]), parseValue(pair[2]));
  }
  return profiles;
}

export function serializeCredentials(profiles: CredentialProfiles): string {
  const lines = ['# RoboTrace credentials (written by `robotrace login`). Keep this file private.'];
  for (const [name, values] of profiles) {
    lines.push('', `[${/^[A-Za-z0-9_-]+$/.test(name) ? name : basicString(name)}]`);
    for (const [key, value] of values) lines.push(`${key} = ${basicString(value)}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Sets keys of one profile, keeping every other profile and key. The directory is 0700, the file 0600, and the
 * write is atomic (temp file in the same directory, fsync, rename) so a crash never leaves half a key.
 */
export function updateCredentials(path: string, profile: string, values: Record<string, string>): void {
  const dir = join(path, '..');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const profiles = readCredentials(path);
  const section = profiles.get(profile) ?? new Map<string, string>();
  for (const [key, value] of Object.entries(values)) section.set(key, value);
  profiles.set(profile, section);
  const temp = join(dir, `.credentials.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx', 0o600);
  try {
    writeSync(fd, serializeCredentials(profiles));
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  closeSync(fd);
  renameSync(temp, path);
  chmodSync(path, 0o600);
}

function basicString(value: string): string {
  let out = '"';
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '\\') out += '\\\\';
    else if (ch === '"') out += '\\"';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    // TOML basic strings may not contain other control characters raw.
    else if (code < 0x20 || code === 0x7f) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

function unquoteKey(key: string): string {
  if (key.startsWith('"')) return unescapeBasic(key.slice(1, -1));
  if (key.startsWith("'")) return key.slice(1, -1);
  return key;
}

function parseValue(raw: string): string {
  const basic = /^"((?:[^"\\]|\\.)*)"\s*(?:#.*)?$/.exec(raw);
  if (basic) return unescapeBasic(basic[1] ?? '');
  const literal = /^'([^']*)'\s*(?:#.*)?$/.exec(raw);
  if (literal) return literal[1] ?? '';
  return raw.replace(/\s+#.*$/, '').trim();
}

const ESCAPES: Record<string, string> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', '"': '"', '\\': '\\' };

function unescapeBasic(text: string): string {
  return text.replace(/\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)/g, (whole, code: string) => {
    if (code.length > 1) return String.fromCodePoint(Number.parseInt(code.slice(1), 16));
    return ESCAPES[code] ?? whole;
  });
}
