import { expect } from 'vitest';
import { ConfigError, loadEnv } from '../../src/env.js';

/** The one-line message of the ConfigError that loading `env` must raise. */
export function configErrorOf(env: NodeJS.ProcessEnv): string {
  try {
    loadEnv(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}
