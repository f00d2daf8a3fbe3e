import { describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/env.js';
import { configErrorOf } from './config-errors.js';

const fails = configErrorOf;

describe('S3 storage configuration', () => {
  it('needs a bucket with ROBOTRACE_STORAGE=s3, said in one line naming the variable', () => {
    const msg = fails({ ROBOTRACE_STORAGE: 's3' });
    expect(msg).toBe('invalid configuration: S3_BUCKET is required with ROBOTRACE_STORAGE=s3');
    expect(fails({ ROBOTRACE_STORAGE: 's3', S3_BUCKET: ' ' })).toMatch(/S3_BUCKET is required/);
  });

  it('checks the bucket name, endpoint URLs and the credential pair', () => {
    expect(fails({ ROBOTRACE_STORAGE: 's3', S3_BUCKET: 'Bad_Bucket' })).toMatch(
      /^invalid configuration: S3_BUCKET must be an S3 bucket name.*\(got "Bad_Bucket"\)$/,
    );
    expect(fails({ ROBOTRACE_STORAGE: 's3', S3_BUCKET: 'rt', S3_ENDPOINT: 'minio:9000' })).toMatch(
      /S3_BUCKET/,
    );
    expect(fails({ ROBOTRACE_STORAGE: 's3', S3_BUCKET: 'rtb', S3_ENDPOINT: 'minio:9000' })).toMatch(
      /^invalid configuration: S3_ENDPOINT must be an absolute http\(s\) URL/,
    );
    const pair = fails({ ROBOTRACE_STORAGE: 's3', S3_BUCKET: 'rtb', S3_ACCESS_KEY_ID: 'AKIA' });
    expect(pair).toMatch(/S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together/);
    expect(fails({ S3_SECRET_ACCESS_KEY: 'very-secret-value', S3_FORCE_PATH_STYLE: 'maybe' })).not.toContain(
      'very-secret-value',
    );
  });

  it('defaults the region and path style, and parses the switch', () => {
    const env = loadEnv({
      ROBOTRACE_STORAGE: 's3',
      S3_BUCKET: 'robotrace-artifacts',
      S3_ENDPOINT: 'http://127.0.0.1:9000',
      S3_FORCE_PATH_STYLE: '1',
      S3_ACCESS_KEY_ID: 'minio',
      S3_SECRET_ACCESS_KEY: 'minio-secret',
    });
    expect(env).toMatchObject({
      S3_REGION: 'us-east-1',
      S3_FORCE_PATH_STYLE: true,
      S3_BUCKET: 'robotrace-artifacts',
    });
    expect(loadEnv({}).S3_FORCE_PATH_STYLE).toBe(false);
    expect(loadEnv({ S3_REGION: 'eu-west-3' }).S3_REGION).toBe('eu-west-3');
  });

  it('migrates at start with PostgreSQL only when asked', () => {
    const base = { DATABASE_URL: 'postgres://db/x', ROBOTRACE_SECRET: 'y'.repeat(32) };
    expect(loadEnv(base).ROBOTRACE_MIGRATE_ON_START).toBeUndefined();
    expect(loadEnv({ ...base, ROBOTRACE_MIGRATE_ON_START: '1' }).ROBOTRACE_MIGRATE_ON_START).toBe(true);
  });
});
