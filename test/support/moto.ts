import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort } from './postgres.js';

export const MOTO_CREDENTIALS = { accessKeyId: 'robotrace-test', secretAccessKey: 'robotrace-test-secret' };

export interface TestS3 {
  /** e.g. http://127.0.0.1:40123 */
  endpoint: string;
  /** A client of the emulator (path style), for creating buckets and checking what is stored. */
  client: S3Client;
  createBucket: (name: string) => Promise<void>;
  stop: () => Promise<void>;
}

/**
 * moto's S3 server on a free loopback port: a real S3 HTTP API (presigned PUT/GET, HEAD, ranges). It is installed
 * from PyPI into .cache/venv-moto by scripts/setup-moto.sh (idempotent; the first run takes a minute or two).
 * Note: moto does not verify request signatures, so signature checks are covered by the S3Store unit tests.
 */
export async function startMoto(): Promise<TestS3> {
  // Async, not execFileSync: a first install takes a minute or two, and a blocked test worker misses vitest's RPC.
  const { stdout } = await promisify(execFile)('bash', ['scripts/setup-moto.sh'], { encoding: 'utf8' });
  const python = stdout.trim().split('\n').at(-1);
  if (!python) throw new Error('scripts/setup-moto.sh printed no python path');
  const port = await freePort();
  const child = spawn(python, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    stdio: 'ignore',
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: MOTO_CREDENTIALS,
  });
  const stop = async () => {
    client.destroy();
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  for (let i = 0; ; i++) {
    try {
      await fetch(`${endpoint}/moto-api/`);
      break;
    } catch (err) {
      if (i >= 150 || child.exitCode !== null) {
        await stop();
        throw new Error(`moto did not start: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    endpoint,
    client,
    createBucket: async (name) => {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
    stop,
  };
}
