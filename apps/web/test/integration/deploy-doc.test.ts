import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MOTO_CREDENTIALS, startMoto, type TestS3 } from '../../../../test/support/moto.js';
import { freePort } from '../../../../test/support/postgres.js';
import { type DocBlock, DocShell, docBlocks } from '../support/doc-shell.js';
import { type PasswordPostgres, startPasswordPostgres } from '../support/pg-cluster.js';

/**
 * docs/DEPLOY.md's non-container path, run as written (issue 19): its marked shell blocks, in order, in one bash
 * session on a fresh copy of the repository — `npm ci`, a PostgreSQL that checks passwords, moto as the S3 API, two
 * instances, Debian's nginx in front. Only the variables of the doc's first block are set by the test (temp paths,
 * free ports, the store's address and key); everything else is the document's own text, so it cannot drift from
 * the product. After the doc's health step an episode is logged through the balancer and read back through each
 * instance; the doc's shutdown step must stop both gracefully.
 */
const ROOT = process.cwd();
const DOC = readFileSync(join(ROOT, 'docs/DEPLOY.md'), 'utf8');
const EXPECTED = [
  'variables',
  'install',
  'postgres',
  'bucket',
  'env-file',
  'migrate',
  'first-account',
  'instances',
  'balancer',
  'health',
  'shutdown',
];
const OWNER_EMAIL = 'ops@example.com';
const OWNER_PASSWORD = 'doc-test-owner-password';
const NGINX = '/usr/sbin/nginx';

let pg: PasswordPostgres;
let s3: TestS3;
let scratch: string;
let nginx: ReturnType<typeof spawn> | undefined;

/** The repository as a fresh checkout would have it: tracked and new (not ignored) files, no node_modules, no dist. */
function copyCheckout(to: string): void {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((f) => f && existsSync(join(ROOT, f)));
  for (const f of files) {
    mkdirSync(dirname(join(to, f)), { recursive: true });
    cpSync(join(ROOT, f), join(to, f));
  }
}

/** nginx as Debian installs it, with a main config of its own (temp paths, no system files) around the doc's site. */
function startNginx(dir: string, site: string): ReturnType<typeof spawn> {
  if (!existsSync(NGINX))
    throw new Error(`${NGINX} not found: run scripts/setup-system.sh (apt-get install nginx)`);
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  chmodSync(join(dir, 'tmp'), 0o777);
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events {}
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  include ${site};
}
`,
  );
  execFileSync(NGINX, ['-t', '-q', '-p', dir, '-c', conf]);
  return spawn(NGINX, ['-p', dir, '-c', conf, '-g', 'daemon off;'], { stdio: 'ignore' });
}

beforeAll(async () => {
  [pg, s3] = await Promise.all([startPasswordPostgres(), startMoto()]);
  scratch = mkdtempSync(join(tmpdir(), 'rt-deploy-doc-'));
}, 300_000);
afterAll(async () => {
  if (nginx && nginx.exitCode === null) {
    const exited = new Promise((r) => nginx?.once('exit', r));
    nginx.kill('SIGQUIT');
    await exited;
  }
  // Instances the doc started, if a step failed before its shutdown step.
  const logs = join(scratch ?? '', 'log');
  for (const f of existsSync(logs) ? ['1', '2'] : []) {
    const pidFile = join(logs, `robotrace-${ports[f]}.pid`);
    if (existsSync(pidFile)) {
      try {
        process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  await Promise.all([pg?.stop(), s3?.stop()]);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

const ports: Record<string, number> = {};

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('docs/DEPLOY.md, followed literally', () => {
  it('marks the steps of the non-container path, in order', () => {
    expect(docBlocks(DOC).map((b) => b.id)).toEqual(EXPECTED);
  });

  it('runs them: install, PostgreSQL, bucket, env file, migrations, owner, two instances, nginx, health, shutdown', async () => {
    const checkout = join(scratch, 'robotrace');
    copyCheckout(checkout);
    ports['1'] = await freePort();
    ports['2'] = await freePort();
    const lbPort = await freePort();
    const site = join(scratch, 'nginx', 'robotrace.conf');
    mkdirSync(dirname(site), { recursive: true });
    const logDir = join(scratch, 'log');
    // The doc's first block: what differs on this machine. Nothing of the test runner's environment leaks in.
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? scratch,
      LANG: 'C.UTF-8',
      ROBOTRACE_ENV_FILE: join(scratch, 'etc', 'robotrace.env'),
      ROBOTRACE_LOG_DIR: logDir,
      PSQL: `psql -h ${pg.socketDir} -p ${pg.port} -U postgres -d postgres`,
      PG_HOST: '127.0.0.1',
      PG_PORT: String(pg.port),
      S3_URL: s3.endpoint,
      S3_REGION: 'us-east-1',
      S3_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
      S3_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
      APP_PORT_1: String(ports['1']),
      APP_PORT_2: String(ports['2']),
      LB_PORT: String(lbPort),
      PUBLIC_URL: `http://127.0.0.1:${lbPort}`,
      NGINX_SITE: site,
      OWNER_EMAIL,
      OWNER_PASSWORD,
      // The npm cache of this machine, when it has the packages (the registry otherwise); Node 20's AWS SDK notice.
      npm_config_prefer_offline: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const shell = new DocShell(checkout, env, scratch);
    const out: Record<string, string> = {};
    try {
      for (const block of docBlocks(DOC) as DocBlock[]) {
        if (block.id === 'shutdown') await checkTheFleet(out, lbPort, logDir);
        out[block.id] = await shell.run(block, block.id === 'install' ? 240_000 : 90_000);
        if (block.id === 'balancer') nginx = startNginx(join(scratch, 'nginx'), site);
      }
    } finally {
      shell.close();
    }

    // §0: a clean install reads as one (issue 19: the allowScripts notice looked like a failure).
    expect(out.install).not.toMatch(/not yet covered by allowScripts|npm error/i);
    expect(out.migrate).toContain(
      `migrations applied (postgres): PostgreSQL at 127.0.0.1:${pg.port}/robotrace`,
    );
    expect(out['first-account']).toContain(
      `created the owner account ${OWNER_EMAIL}, owner of project "lab"`,
    );

    // §7 shutdown: both instances exit on SIGTERM, gracefully.
    for (const n of ['1', '2']) {
      const pid = Number(readFileSync(join(logDir, `robotrace-${ports[n]}.pid`), 'utf8'));
      for (let i = 0; i < 200 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
      expect(alive(pid)).toBe(false);
      expect(readFileSync(join(logDir, `robotrace-${ports[n]}.log`), 'utf8')).toContain('shutting down');
    }
  });
});

/** Between the doc's health and shutdown steps: the fleet it built does what DEPLOY.md says it does. */
async function checkTheFleet(out: Record<string, string>, lbPort: number, logDir: string): Promise<void> {
  const apiKey = /ROBOTRACE_API_KEY=(rt_\S+)/.exec(out['first-account'] ?? '')?.[1];
  expect(apiKey, out['first-account']).toBeDefined();
  const lb = `http://127.0.0.1:${lbPort}`;
  const direct = [`http://127.0.0.1:${ports['1']}`, `http://127.0.0.1:${ports['2']}`];
  const auth = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };

  // An episode logged through the balancer, its bytes uploaded straight to the bucket.
  const created = await fetch(`${lb}/api/ingest/episode`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ source: 'real', name: 'deploy-doc', request_uploads: ['video'] }),
  });
  expect(created.status).toBe(201);
  const body = (await created.json()) as { episode_id: string; upload_urls: { url: string }[] };
  const video = new Uint8Array(randomBytes(50_000));
  const slot = body.upload_urls[0]?.url ?? '';
  expect(new URL(slot).origin).toBe(new URL(s3.endpoint).origin);
  const put = await fetch(slot, { method: 'PUT', body: video, headers: { 'content-type': 'video/mp4' } });
  expect(put.status).toBeLessThan(300);
  const fin = await fetch(`${lb}/api/ingest/episode/${body.episode_id}/finalize`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ status: 'ready' }),
  });
  expect(fin.status).toBe(200);

  // Read back through each instance directly: the same episode, the same bytes, ranges served by the bucket.
  for (const base of direct) {
    const ep = await fetch(`${base}/api/episodes/${body.episode_id}`, { headers: auth });
    expect(ep.status).toBe(200);
    expect(((await ep.json()) as { status: string }).status).toBe('ready');
    const redirect = await fetch(`${base}/api/episodes/${body.episode_id}/artifact/video`, {
      headers: auth,
      redirect: 'manual',
    });
    expect(redirect.status).toBe(302);
    const location = redirect.headers.get('location') ?? '';
    const whole = Buffer.from(await (await fetch(location)).arrayBuffer());
    expect(whole.equals(Buffer.from(video))).toBe(true);
    const part = await fetch(location, { headers: { range: 'bytes=100-199' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(Buffer.from(video.subarray(100, 200)))).toBe(true);
  }

  // The owner of §5 signs in through the balancer (the portal's origin is PUBLIC_URL).
  const signIn = await fetch(`${lb}/api/auth/sign-in/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: lb },
    body: JSON.stringify({ email: OWNER_EMAIL, password: OWNER_PASSWORD }),
  });
  expect(signIn.status).toBe(200);

  // Each instance's banner names its database and bucket and knows the owner exists.
  for (const n of ['1', '2']) {
    const log = readFileSync(join(logDir, `robotrace-${ports[n]}.log`), 'utf8');
    expect(log).toContain(`listening on http://127.0.0.1:${ports[n]}`);
    expect(log).toContain(
      `PostgreSQL at 127.0.0.1:${pg.port}/robotrace, artifacts in S3 bucket "robotrace-artifacts"`,
    );
    expect(log).toContain('sign in with the owner account');
    expect(log).not.toContain('could not determine a client IP');
  }
}
