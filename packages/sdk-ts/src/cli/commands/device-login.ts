import { spawn } from 'node:child_process';
import { hostname, platform } from 'node:os';
import { SDK_VERSION } from '../../version.js';
import { CliError, type CliIo, println } from '../io.js';

/**
 * The browser sign-in of `robotrace login` (the same device flow the official Python CLI uses, OFFICIAL_PILLARS.md
 * §3): start a login, show the link and the code, poll until the user authorizes it in the portal, receive a new
 * API key once. "Slow down" arrives as a pending answer with a longer interval; 410 means expired or used.
 */
export interface DeviceLoginResult {
  apiKey: string;
  baseUrl: string;
  userEmail: string | null;
}

interface Clock {
  sleep: (ms: number) => Promise<void>;
  now: () => number;
}

const realClock: Clock = { sleep: (ms) => new Promise((r) => setTimeout(r, ms)), now: () => Date.now() };
/** The server's login lives 10 minutes; the CLI gives up at the same moment. */
const TOTAL_TIMEOUT_MS = 600_000;
const MIN_INTERVAL_S = 0.5;

async function post(
  io: CliIo,
  url: string,
  body: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await (io.fetch ?? fetch)(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      'user-agent': `robotrace-ts/${SDK_VERSION} node/${process.versions.node} robotrace-cli`,
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    const parsed: unknown = text ? JSON.parse(text) : {};
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      json = parsed as Record<string, unknown>;
  } catch {
    // not JSON: the status says enough
  }
  return { status: res.status, json };
}

/** Best effort: the platform's opener, detached; a headless box simply has none. */
function openBrowser(url: string): void {
  const [cmd, args] =
    platform() === 'darwin'
      ? ['open', [url]]
      : platform() === 'win32'
        ? ['cmd', ['/c', 'start', '', url]]
        : ['xdg-open', [url]];
  try {
    const child = spawn(cmd as string, args as string[], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // no opener: the printed link is enough
  }
}

export async function deviceLogin(
  io: CliIo,
  baseUrl: string,
  options: { openBrowser: boolean; clock?: Clock },
): Promise<DeviceLoginResult> {
  const clock = options.clock ?? realClock;
  const started = await post(io, `${baseUrl}/api/cli/auth/start`, {
    user_agent: `robotrace-ts/${SDK_VERSION} node/${process.versions.node} ${platform()}`,
    hostname: hostname() || null,
  });
  const { device_code: deviceCode, user_code: userCode } = started.json;
  const link = started.json.verification_uri_complete ?? started.json.verification_uri;
  if (
    started.status !== 200 ||
    typeof deviceCode !== 'string' ||
    typeof userCode !== 'string' ||
    typeof link !== 'string'
  )
    throw new CliError(
      `${baseUrl} did not start a browser sign-in (HTTP ${started.status}${typeof started.json.error === 'string' ? `: ${started.json.error}` : ''}); pass --api-key-stdin to log in with a key instead`,
    );
  println(io.stderr, `Open this link and authorize the CLI:\n  ${link}`);
  println(io.stderr, `Check that the page shows the code ${userCode}.`);
  if (options.openBrowser) openBrowser(link);

  let interval = Math.max(MIN_INTERVAL_S, Number(started.json.interval) || 2);
  const deadline = clock.now() + TOTAL_TIMEOUT_MS;
  while (clock.now() < deadline) {
    let answer: { status: number; json: Record<string, unknown> };
    try {
      answer = await post(io, `${baseUrl}/api/cli/auth/poll`, { device_code: deviceCode });
    } catch {
      await clock.sleep(Math.min(interval * 2, 5) * 1000); // a transport error: wait, try again
      continue;
    }
    const status = answer.json.status;
    if (answer.status === 200 && status === 'approved' && typeof answer.json.api_key === 'string')
      return {
        apiKey: answer.json.api_key,
        baseUrl: typeof answer.json.base_url === 'string' ? answer.json.base_url : baseUrl,
        userEmail: typeof answer.json.user_email === 'string' ? answer.json.user_email : null,
      };
    if (answer.status === 200 && status === 'denied')
      throw new CliError('the sign-in was denied in the browser; run `robotrace login` again to retry');
    if (answer.status === 410)
      throw new CliError(
        status === 'consumed'
          ? 'this sign-in was already used; run `robotrace login` again'
          : 'the sign-in expired; run `robotrace login` again',
      );
    if (answer.status !== 200 || status !== 'pending')
      throw new CliError(`unexpected answer while waiting for the browser sign-in (HTTP ${answer.status})`);
    const next = Number(answer.json.interval);
    if (Number.isFinite(next) && next > 0) interval = Math.max(MIN_INTERVAL_S, next);
    await clock.sleep(interval * 1000);
  }
  throw new CliError('gave up waiting for the browser sign-in after 10 minutes; run `robotrace login` again');
}
