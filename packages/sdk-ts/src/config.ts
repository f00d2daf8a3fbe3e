import { credentialsPath, DEFAULT_PROFILE, type Env, readCredentials } from './credentials.js';
import { ConfigurationError } from './errors.js';
import { DEFAULT_MAX_RETRIES } from './http/retry.js';
import { DEFAULT_MULTIPART_THRESHOLD } from './spool/multipart.js';
import { DEFAULT_MAX_AGE_S, DEFAULT_MAX_BYTES, spoolRoot } from './spool/record.js';

export interface OtelOptions {
  /** Drop the trace block when the active span is not sampled. Env `ROBOTRACE_OTEL_RESPECT_SAMPLED=1`. */
  respectSampled?: boolean;
  /** After creating an episode, set `robotrace.episode_id` / `robotrace.episode_url` on the still-recording span. Env `ROBOTRACE_OTEL_LINK_SPAN=1`. */
  linkSpan?: boolean;
}

export interface RoboTraceOptions {
  /** API key (`rt_…`). Default: `ROBOTRACE_API_KEY`, then the credentials file. */
  apiKey?: string;
  /** Server URL, e.g. `http://localhost:3000`. Default: `ROBOTRACE_BASE_URL`, then the credentials file. */
  baseUrl?: string;
  /** A `fetch` implementation (tests, proxies). Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** Per-attempt timeout of API calls in ms (default 30 000). */
  timeoutMs?: number;
  /**
   * Idle timeout of a file upload in ms (default 120 000): an attempt fails when no bytes moved for this long.
   * There is no whole-transfer deadline, so a large file on a slow link still succeeds.
   */
  uploadTimeoutMs?: number;
  /** Retries after the first attempt of each call (default 3; 0 = never retry). */
  maxRetries?: number;
  otel?: OtelOptions;
  /** Never print the portal URL. Env `ROBOTRACE_QUIET=1`. */
  quiet?: boolean;
  /** Profile of the credentials file (default `default`). */
  profile?: string;
  /** Where `ROBOTRACE_*` variables are read from (default `process.env`). */
  env?: Env;
  /** Appended to the User-Agent (the CLI names itself here). */
  userAgentSuffix?: string;
  /**
   * `background`: `logEpisode` writes the episode to a durable spool and resolves at once; a worker delivers
   * it (`await episode.delivered()`, `await rt.flush()`). Default `ROBOTRACE_DELIVERY`, else `blocking`.
   */
  delivery?: 'blocking' | 'background';
  /** The spool directory. Default `ROBOTRACE_SPOOL_DIR`, else `$ROBOTRACE_HOME/spool`, else `~/.robotrace/spool`. */
  spoolDir?: string;
  /** How long the exit flush (and `close()`) may take, in ms (default 5 000). */
  flushTimeoutMs?: number;
  /**
   * Background delivery sends files from this size on in resumable parts (default 128 MiB). Env
   * `ROBOTRACE_MULTIPART_THRESHOLD_BYTES`.
   */
  multipartThresholdBytes?: number;
  /** Where background delivery's one-per-problem warnings go (default `console`). */
  logger?: { warn(message: string): void };
}

export interface ResolvedConfig {
  apiKey: string;
  baseUrl: string;
  timeoutMs: number;
  uploadTimeoutMs: number;
  maxRetries: number;
  respectSampled: boolean;
  linkSpan: boolean;
  quiet: boolean;
  /** Where the key came from, for `robotrace whoami`. */
  apiKeySource: string;
  delivery: 'blocking' | 'background';
  spoolDir: string;
  flushTimeoutMs: number;
  /** `ROBOTRACE_SPOOL_MAX_BYTES` (default 10 GiB) and `ROBOTRACE_SPOOL_MAX_AGE_S` (default 7 days). */
  spoolMaxBytes: number;
  spoolMaxAgeS: number;
  multipartThresholdBytes: number;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_UPLOAD_TIMEOUT_MS = 120_000;
export const DEFAULT_FLUSH_TIMEOUT_MS = 5_000;

const HOW_TO_SET_KEY =
  'set ROBOTRACE_API_KEY, pass { apiKey } to new RoboTrace(), or run `robotrace login` (keys look like rt_…; create one in the portal or with `npm run admin -- create-key`)';
const HOW_TO_SET_URL = 'set ROBOTRACE_BASE_URL, pass { baseUrl }, or run `robotrace login`';

/** Options first, then environment, then the credentials file. Fails with one actionable message. */
export function resolveConfig(options: RoboTraceOptions = {}): ResolvedConfig {
  const env = options.env ?? process.env;
  const profileName = options.profile ?? DEFAULT_PROFILE;
  const needsFile = !clean(options.apiKey) || !clean(options.baseUrl);
  const path = credentialsPath(env);
  let file: Map<string, string> | undefined;
  if (needsFile) {
    try {
      file = readCredentials(path).get(profileName);
    } catch (error) {
      throw new ConfigurationError(`cannot read ${path}: ${(error as Error).message}`);
    }
  }

  const key = pick([
    [clean(options.apiKey), 'option apiKey'],
    [clean(env.ROBOTRACE_API_KEY), 'ROBOTRACE_API_KEY'],
    [clean(file?.get('api_key')), `${path} [${profileName}]`],
  ]);
  if (!key) throw new ConfigurationError(`no RoboTrace API key: ${HOW_TO_SET_KEY}`);
  if (!/^rt_\S+$/.test(key.value)) {
    throw new ConfigurationError(`the API key from ${key.source} does not look like a RoboTrace key (rt_…)`);
  }

  const url = pick([
    [clean(options.baseUrl), 'option baseUrl'],
    [clean(env.ROBOTRACE_BASE_URL), 'ROBOTRACE_BASE_URL'],
    [clean(file?.get('base_url')), `${path} [${profileName}]`],
  ]);
  if (!url) throw new ConfigurationError(`no RoboTrace server URL: ${HOW_TO_SET_URL}`);

  return {
    apiKey: key.value,
    baseUrl: normalizeBaseUrl(url.value, url.source),
    timeoutMs: positive(options.timeoutMs, DEFAULT_TIMEOUT_MS, 'timeoutMs'),
    uploadTimeoutMs: positive(options.uploadTimeoutMs, DEFAULT_UPLOAD_TIMEOUT_MS, 'uploadTimeoutMs'),
    maxRetries: retryCount(options.maxRetries),
    respectSampled: options.otel?.respectSampled ?? envFlag(env.ROBOTRACE_OTEL_RESPECT_SAMPLED),
    linkSpan: options.otel?.linkSpan ?? envFlag(env.ROBOTRACE_OTEL_LINK_SPAN),
    quiet: options.quiet ?? envFlag(env.ROBOTRACE_QUIET),
    apiKeySource: key.source,
    delivery: deliveryMode(options.delivery ?? clean(env.ROBOTRACE_DELIVERY)?.toLowerCase()),
    spoolDir: spoolRoot(clean(options.spoolDir), env),
    flushTimeoutMs:
      options.flushTimeoutMs === 0
        ? 0
        : positive(options.flushTimeoutMs, DEFAULT_FLUSH_TIMEOUT_MS, 'flushTimeoutMs'),
    spoolMaxBytes: envPositive(env.ROBOTRACE_SPOOL_MAX_BYTES, DEFAULT_MAX_BYTES),
    spoolMaxAgeS: envPositive(env.ROBOTRACE_SPOOL_MAX_AGE_S, DEFAULT_MAX_AGE_S),
    multipartThresholdBytes:
      options.multipartThresholdBytes ??
      envPositive(env.ROBOTRACE_MULTIPART_THRESHOLD_BYTES, DEFAULT_MULTIPART_THRESHOLD),
  };
}

function deliveryMode(value: string | undefined): 'blocking' | 'background' {
  if (value === undefined || value === 'blocking' || value === 'background') return value ?? 'blocking';
  throw new ConfigurationError(`delivery must be 'blocking' or 'background' (got ${JSON.stringify(value)})`);
}

/** A bound from the environment; an unreadable value keeps the default (never fails the run). */
function envPositive(value: string | undefined, fallback: number): number {
  const n = Number(value?.trim() || Number.NaN);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

/** `http(s)://host[:port][/prefix]` without a trailing slash. */
export function normalizeBaseUrl(value: string, source = 'baseUrl'): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigurationError(`the server URL from ${source} is not a URL: ${value}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigurationError(
      `the server URL from ${source} must start with http:// or https://: ${value}`,
    );
  }
  if (url.search || url.hash) {
    throw new ConfigurationError(
      `the server URL from ${source} must not carry a query or fragment: ${value}`,
    );
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

export function envFlag(value: string | undefined): boolean {
  return value !== undefined && ['1', 'true', 'yes', 'on'].includes(value.trim().toLowerCase());
}

function clean(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function pick(
  candidates: Array<[string | undefined, string]>,
): { value: string; source: string } | undefined {
  for (const [value, source] of candidates) if (value !== undefined) return { value, source };
  return undefined;
}

function retryCount(value: number | undefined): number {
  if (value === undefined) return DEFAULT_MAX_RETRIES;
  if (!Number.isSafeInteger(value) || value < 0)
    throw new ConfigurationError(`maxRetries must be a whole number ≥ 0 (got ${String(value)})`);
  return value;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0)
    throw new ConfigurationError(`${name} must be a positive number of ms`);
  return value;
}
