import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { apiKey, deviceLogin } from '@robotrace/db';
import { and, eq, gt, isNull, lt } from 'drizzle-orm';
import { apiKeyPrefix, generateApiKey, hashApiKey } from '../api-keys.js';
import type { DbClockDeps, ProjectScope } from '../deps.js';
import { NotFoundError } from '../errors.js';
import { revokeApiKey } from '../projects.js';
import { storableText } from '../storable.js';

/**
 * CLI device login (OFFICIAL_PILLARS.md §3). The device code is the CLI's secret: only its SHA-256 is stored.
 * Approval records who approved; the API key itself is minted by the first poll that finds the login approved,
 * inside the transaction that marks it consumed, so no plain key ever rests in the database and a key is
 * handed out at most once.
 */
export const DEVICE_LOGIN_TTL_MS = 10 * 60 * 1000;
export const POLL_INTERVAL_S = 2;
/** The interval a too-fast poller is told to use (the CLI dies on a 429, so "slow down" is a pending answer). */
export const SLOW_DOWN_INTERVAL_S = 5;
/** Polls closer together than this are "too fast" (the CLI sleeps a whole interval between polls). */
const MIN_POLL_GAP_MS = (POLL_INTERVAL_S * 1000) / 2;
/** Finished and expired logins are kept this long (the approval page can still say "expired"), then pruned. */
const KEEP_MS = 24 * 3600 * 1000;

// No 0/O, 1/I/L, vowels (no words), as in RFC 8628's advice for user codes.
const USER_CODE_ALPHABET = 'BCDFGHJKMNPQRSTVWXZ23456789';
export const USER_CODE_FORMAT = /^[BCDFGHJKMNPQRSTVWXZ2-9]{4}-[BCDFGHJKMNPQRSTVWXZ2-9]{4}$/;

function userCode(): string {
  let out = '';
  while (out.length < 8) {
    for (const b of randomBytes(16)) {
      if (out.length === 8) break;
      if (b < 243) out += USER_CODE_ALPHABET[b % 27]; // 243 = 9·27: uniform
    }
  }
  return `${out.slice(0, 4)}-${out.slice(4)}`;
}

const digest = (deviceCode: string) => createHash('sha256').update(deviceCode).digest('hex');

/** A user code as typed: upper-cased, the dash optional. */
export function normalizeUserCode(raw: string): string | null {
  const compact = raw.trim().toUpperCase().replace(/[\s-]/g, '');
  const code = compact.length === 8 ? `${compact.slice(0, 4)}-${compact.slice(4)}` : compact;
  return USER_CODE_FORMAT.test(code) ? code : null;
}

export interface DeviceInfo {
  userAgent?: string | null | undefined;
  hostname?: string | null | undefined;
  ip?: string | null | undefined;
}

export interface StartedLogin {
  deviceCode: string;
  userCode: string;
  expiresInS: number;
}

const clip = (v: string | null | undefined, max: number) =>
  v ? storableText(v.slice(0, max)).value || null : null;

export async function startDeviceLogin(deps: DbClockDeps, device: DeviceInfo): Promise<StartedLogin> {
  const now = deps.clock.now();
  await deps.db.delete(deviceLogin).where(lt(deviceLogin.expiresAt, new Date(now.getTime() - KEEP_MS)));
  const deviceCode = randomBytes(32).toString('base64url');
  // A user-code collision among the kept rows is ~1 in 10^11 per start; one retry makes it vanish.
  for (let attempt = 0; ; attempt++) {
    const code = userCode();
    const inserted = await deps.db
      .insert(deviceLogin)
      .values({
        id: randomUUID(),
        deviceCodeHash: digest(deviceCode),
        userCode: code,
        hostname: clip(device.hostname, 255),
        userAgent: clip(device.userAgent, 1000),
        ip: clip(device.ip, 100),
        status: 'pending',
        createdAt: now,
        expiresAt: new Date(now.getTime() + DEVICE_LOGIN_TTL_MS),
      })
      .onConflictDoNothing()
      .returning({ id: deviceLogin.id });
    if (inserted.length > 0) return { deviceCode, userCode: code, expiresInS: DEVICE_LOGIN_TTL_MS / 1000 };
    if (attempt >= 3) throw new Error('could not allocate a unique user code');
  }
}

export type PollOutcome =
  | { status: 'pending'; interval?: number }
  | { status: 'approved'; apiKey: string; keyId: string; userEmail: string }
  | { status: 'denied' }
  | { status: 'expired' | 'consumed' };

/** One poll. Unknown codes answer `expired` (the CLI's 410): a guess learns nothing. */
export async function pollDeviceLogin(deps: DbClockDeps, deviceCode: string): Promise<PollOutcome> {
  const now = deps.clock.now();
  return deps.db.transaction(async (tx) => {
    const [row] = await tx
      .select()
      .from(deviceLogin)
      .where(eq(deviceLogin.deviceCodeHash, digest(deviceCode)))
      .for('update');
    if (!row) return { status: 'expired' };
    if (row.status === 'consumed') return { status: 'consumed' };
    if (row.status === 'denied') return { status: 'denied' };
    if (row.expiresAt <= now) return { status: 'expired' };
    const tooFast = row.lastPolledAt !== null && now.getTime() - row.lastPolledAt.getTime() < MIN_POLL_GAP_MS;
    await tx.update(deviceLogin).set({ lastPolledAt: now }).where(eq(deviceLogin.id, row.id));
    if (row.status === 'pending')
      return tooFast ? { status: 'pending', interval: SLOW_DOWN_INTERVAL_S } : { status: 'pending' };
    // Approved: mint the key now, in this transaction, and mark the login used.
    if (!row.projectId || !row.userEmail) return { status: 'expired' };
    const key = generateApiKey();
    const keyId = randomUUID();
    await tx.insert(apiKey).values({
      id: keyId,
      projectId: row.projectId,
      name: deviceKeyName(row.hostname),
      prefix: apiKeyPrefix(key),
      hash: hashApiKey(key),
      createdAt: now,
    });
    await tx
      .update(deviceLogin)
      .set({ status: 'consumed', apiKeyId: keyId })
      .where(and(eq(deviceLogin.id, row.id), eq(deviceLogin.status, 'approved')));
    return { status: 'approved', apiKey: key, keyId, userEmail: row.userEmail };
  });
}

/** The API key's name: the device it was minted for (the portal's key list shows it). */
export function deviceKeyName(hostname: string | null): string {
  return `CLI · ${hostname?.trim() || 'unknown host'}`.slice(0, 100);
}

export interface DeviceLoginView {
  userCode: string;
  hostname: string | null;
  userAgent: string | null;
  ip: string | null;
  createdAt: Date;
  expiresAt: Date;
  /** pending | approved | denied | consumed | expired (a pending or approved one past its expiry). */
  state: 'pending' | 'approved' | 'denied' | 'consumed' | 'expired';
}

/** What the approval page shows; null for a code that names nothing. */
export async function findDeviceLogin(deps: DbClockDeps, rawCode: string): Promise<DeviceLoginView | null> {
  const code = normalizeUserCode(rawCode);
  if (!code) return null;
  const [row] = await deps.db.select().from(deviceLogin).where(eq(deviceLogin.userCode, code));
  if (!row) return null;
  const live = row.status === 'pending' || row.status === 'approved';
  const state =
    live && row.expiresAt <= deps.clock.now() ? 'expired' : (row.status as DeviceLoginView['state']);
  return {
    userCode: row.userCode,
    hostname: row.hostname,
    userAgent: row.userAgent,
    ip: row.ip,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    state,
  };
}

export interface Approver {
  userId: string;
  email: string;
}

/** Authorize or deny a pending, unexpired login; otherwise answers what the login is now, for the page to say. */
export async function decideDeviceLogin(
  deps: DbClockDeps,
  scope: ProjectScope,
  approver: Approver,
  rawCode: string,
  decision: 'approve' | 'deny',
): Promise<DeviceLoginView['state']> {
  const code = normalizeUserCode(rawCode);
  if (!code) throw new NotFoundError('No such login code');
  const now = deps.clock.now();
  // Only a pending, unexpired login changes (conditional update: two tabs cannot both decide).
  const rows = await deps.db
    .update(deviceLogin)
    .set(
      decision === 'approve'
        ? {
            status: 'approved',
            userId: approver.userId,
            userEmail: approver.email,
            projectId: scope.projectId,
          }
        : { status: 'denied', userId: approver.userId, userEmail: approver.email },
    )
    .where(
      and(eq(deviceLogin.userCode, code), eq(deviceLogin.status, 'pending'), gt(deviceLogin.expiresAt, now)),
    )
    .returning({ id: deviceLogin.id });
  if (rows.length > 0) return decision === 'approve' ? 'approved' : 'denied';
  const view = await findDeviceLogin(deps, code);
  if (!view) throw new NotFoundError('No such login code');
  return view.state;
}

export interface RevokedKey {
  keyId: string;
  prefix: string;
  revokedAt: Date;
}

/** `robotrace logout --revoke`: the key the request was made with (already authenticated into `scope`). */
export async function revokeCallingKey(
  deps: DbClockDeps,
  scope: ProjectScope,
  raw: string,
): Promise<RevokedKey> {
  const [row] = await deps.db
    .select({ id: apiKey.id, prefix: apiKey.prefix })
    .from(apiKey)
    .where(
      and(eq(apiKey.hash, hashApiKey(raw)), eq(apiKey.projectId, scope.projectId), isNull(apiKey.revokedAt)),
    );
  if (!row) throw new NotFoundError('API key not found');
  const revokedAt = deps.clock.now();
  await revokeApiKey({ ...deps, clock: { now: () => revokedAt } }, scope, row.id);
  return { keyId: row.id, prefix: row.prefix, revokedAt };
}
