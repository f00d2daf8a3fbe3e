import { parseTraceSource, type TraceSourceKind } from '@robotrace/core';
import { z } from 'zod';

/**
 * The only place that reads process.env for the server. Every knob is listed in docs/CONFIGURATION.md;
 * a bad value stops the start with one line naming the variable.
 */

const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', ''])
  .transform((v) => v === '1' || v === 'true' || v === 'yes');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

/** `jaeger:<URL>` | `tempo:<URL>` | `otlp-json:<template>` (core's parser says what is wrong in one line). */
const traceSource = optionalText.transform((v, ctx): { kind: TraceSourceKind; url: string } | undefined => {
  if (v === undefined) return undefined;
  const parsed = parseTraceSource(v);
  if ('error' in parsed) {
    ctx.addIssue({ code: 'custom', message: parsed.error });
    return z.NEVER;
  }
  return parsed;
});

/** A JSON object of request headers for the trace backend (API tokens): names and values are strings. */
const traceSourceHeaders = optionalText.transform((v, ctx): Record<string, string> => {
  if (v === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    parsed = undefined;
  }
  const valid =
    typeof parsed === 'object' &&
    parsed !== null &&
    !Array.isArray(parsed) &&
    Object.entries(parsed).every(
      ([name, value]) =>
        /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) && typeof value === 'string' && !/[\r\n]/.test(value),
    );
  if (!valid) {
    ctx.addIssue({ code: 'custom', message: 'must be a JSON object of header names to string values' });
    return z.NEVER;
  }
  return { ...(parsed as Record<string, string>) };
});

const EnvSchema = z.object({
  PORT: int(0, 65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  ROBOTRACE_DATA_DIR: z.string().min(1).default('./.robotrace'),
  DATABASE_URL: optionalText.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
  ),
  ROBOTRACE_DB_POOL_MAX: int(1, 500).default(10),
  ROBOTRACE_SECRET: optionalText.pipe(
    z.string().min(32, 'must be at least 32 characters (e.g. `openssl rand -hex 32`)').optional(),
  ),
  ROBOTRACE_PUBLIC_URL: optionalText.pipe(
    z
      .url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' })
      .transform((u) => u.replace(/\/+$/, ''))
      .optional(),
  ),
  ROBOTRACE_TRUST_PROXY: bool.default(false),
  ROBOTRACE_STORAGE: z.enum(['local', 's3']).default('local'),
  S3_BUCKET: optionalText.pipe(
    z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name (3–63 of a-z 0-9 . -)')
      .optional(),
  ),
  S3_REGION: optionalText.pipe(z.string().optional()).transform((v) => v ?? 'us-east-1'),
  S3_ENDPOINT: optionalText.pipe(
    z.url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' }).optional(),
  ),
  S3_PUBLIC_ENDPOINT: optionalText.pipe(
    z.url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' }).optional(),
  ),
  S3_ACCESS_KEY_ID: optionalText,
  S3_SECRET_ACCESS_KEY: optionalText,
  S3_FORCE_PATH_STYLE: bool.default(false),
  ROBOTRACE_MIGRATE_ON_START: optionalText.pipe(bool.optional()),
  ROBOTRACE_MAX_UPLOAD_BYTES: int(1, Number.MAX_SAFE_INTEGER).default(5 * 1024 ** 3),
  ROBOTRACE_MAX_BODY_BYTES: int(1024, 64 * 1024 ** 2).default(2 * 1024 ** 2),
  ROBOTRACE_MAX_UPLOAD_BYTES_VIDEO: int(1, Number.MAX_SAFE_INTEGER).optional(),
  ROBOTRACE_MAX_UPLOAD_BYTES_SENSORS: int(1, Number.MAX_SAFE_INTEGER).optional(),
  ROBOTRACE_MAX_UPLOAD_BYTES_ACTIONS: int(1, Number.MAX_SAFE_INTEGER).optional(),
  // Replay: array bytes one sensors/actions file's indexing reads at most (past it: indexed partially, with a note).
  ROBOTRACE_TRACK_INDEX_MAX_BYTES: int(1, Number.MAX_SAFE_INTEGER).default(2 * 1024 ** 3),
  ROBOTRACE_MAX_CONCURRENT_UPLOADS: int(1, 10_000).default(64),
  ROBOTRACE_MAX_INFLIGHT: int(1, 100_000).default(1024),
  // Group commit of creates and finalizes (docs/CONFIGURATION.md): how long a partial batch waits while another
  // is being written, and the most requests per batch (1 writes each on its own).
  ROBOTRACE_GROUP_COMMIT_WINDOW_MS: int(0, 1000).default(2),
  ROBOTRACE_GROUP_COMMIT_MAX_BATCH: int(1, 1000).default(64),
  // With DATABASE_URL: how long a verified API key is trusted without a lookup; bounds how long a key revoked
  // through another instance keeps working here (this instance's own revocations apply at once). 0 = no cache.
  ROBOTRACE_API_KEY_CACHE_MS: int(0, 60_000).default(1000),
  ROBOTRACE_RATE_LIMIT_PER_MINUTE: int(0, 10_000_000).default(0),
  ROBOTRACE_PROJECT_RATE_LIMIT_PER_MINUTE: int(0, 10_000_000).default(0),
  ROBOTRACE_UPLOAD_URL_TTL_S: int(10, 7 * 24 * 3600).default(900),
  ROBOTRACE_DOWNLOAD_URL_TTL_S: int(10, 7 * 24 * 3600).default(300),
  // Local storage: a resumable upload nothing was written to for this long is deleted (its parts free the disk).
  ROBOTRACE_ABANDONED_UPLOAD_MAX_AGE_S: int(60, 365 * 86_400).default(7 * 86_400),
  // Data lifecycle (docs/CONFIGURATION.md): how often the retention sweeper runs (0: only at start) and the most
  // episodes one batch deletes (a backlog goes in several batches, one transaction each).
  ROBOTRACE_SWEEP_INTERVAL_S: int(0, 86_400).default(300),
  ROBOTRACE_SWEEP_BATCH_SIZE: int(1, 10_000).default(100),
  ROBOTRACE_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  ROBOTRACE_ALLOW_SIGNUP: bool.default(false),
  ROBOTRACE_SIGNIN_ATTEMPTS_PER_MINUTE: int(0, 100_000).default(10),
  ROBOTRACE_TRACE_SOURCE: traceSource,
  ROBOTRACE_TRACE_SOURCE_HEADERS: traceSourceHeaders,
  ROBOTRACE_TRACE_SOURCE_TIMEOUT_MS: int(1, 60_000).default(2_000),
  ROBOTRACE_TRACE_SOURCE_CACHE_TTL_S: int(0, 86_400).default(60),
  ROBOTRACE_INIT_EMAIL: optionalText.pipe(z.email('must be an email address').optional()),
  ROBOTRACE_INIT_PASSWORD: optionalText.pipe(z.string().min(8, 'must be at least 8 characters').optional()),
  ROBOTRACE_INIT_PROJECT: optionalText.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,62}$/, "must be 1–63 letters, digits, spaces, '.', '_' or '-'")
      .optional(),
  ),
  ROBOTRACE_INIT_API_KEY: optionalText.pipe(
    z
      .string()
      .regex(/^rt_[A-Za-z0-9_]{20,120}$/, 'must be rt_ followed by 20–120 characters of [A-Za-z0-9_]')
      .optional(),
  ),
});

export type Env = z.infer<typeof EnvSchema>;

export class ConfigError extends Error {}

/** Parses the environment; throws ConfigError with one line naming the first bad variable. */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const parsed = EnvSchema.safeParse(source);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0] ?? 'environment');
    const raw = source[name];
    const shown =
      raw === undefined || /SECRET|PASSWORD|API_KEY|DATABASE_URL|ACCESS_KEY|TRACE_SOURCE/.test(name)
        ? ''
        : ` (got "${raw}")`;
    throw new ConfigError(`invalid configuration: ${name} ${issue?.message ?? 'is invalid'}${shown}`);
  }
  const env = parsed.data;
  if (Boolean(env.ROBOTRACE_INIT_EMAIL) !== Boolean(env.ROBOTRACE_INIT_PASSWORD))
    throw new ConfigError(
      'invalid configuration: ROBOTRACE_INIT_EMAIL and ROBOTRACE_INIT_PASSWORD go together (set both, or neither)',
    );
  if (env.ROBOTRACE_INIT_EMAIL && !env.ROBOTRACE_INIT_PROJECT)
    throw new ConfigError(
      "invalid configuration: ROBOTRACE_INIT_EMAIL needs ROBOTRACE_INIT_PROJECT (the user's project)",
    );
  if (env.ROBOTRACE_INIT_API_KEY && !env.ROBOTRACE_INIT_PROJECT)
    throw new ConfigError('invalid configuration: ROBOTRACE_INIT_API_KEY needs ROBOTRACE_INIT_PROJECT');
  if (env.DATABASE_URL && !env.ROBOTRACE_SECRET)
    throw new ConfigError(
      'invalid configuration: ROBOTRACE_SECRET is required with DATABASE_URL (several instances must share it; e.g. `openssl rand -hex 32`)',
    );
  if (env.ROBOTRACE_STORAGE === 's3' && !env.S3_BUCKET)
    throw new ConfigError('invalid configuration: S3_BUCKET is required with ROBOTRACE_STORAGE=s3');
  if (Boolean(env.S3_ACCESS_KEY_ID) !== Boolean(env.S3_SECRET_ACCESS_KEY))
    throw new ConfigError(
      'invalid configuration: S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together (set both, or neither for the AWS default chain)',
    );
  return env;
}

/**
 * Run-time lookup of a variable by a computed name. Bundlers (and Next.js) inline `process.env.NEXT_PUBLIC_*`
 * at build time; reading through a variable name keeps trace link templates a restart away, never a rebuild.
 */
export function runtimeEnv(name: string, source: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = source[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}
