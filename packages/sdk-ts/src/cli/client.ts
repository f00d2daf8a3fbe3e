import { RoboTrace, type RoboTraceClientOptions } from '../client.js';
import { ConfigurationError } from '../errors.js';
import type { CliIo } from './io.js';

/** A client configured the CLI way: environment and credentials file of `io`, no SDK-printed URL line. */
export function cliClient(io: CliIo, options: RoboTraceClientOptions = {}): RoboTrace {
  try {
    return newClient(io, options);
  } catch (error) {
    if (error instanceof ConfigurationError && /^no RoboTrace (API key|server URL)/.test(error.message)) {
      throw new ConfigurationError(
        'not logged in: run `robotrace login`, or set ROBOTRACE_API_KEY and ROBOTRACE_BASE_URL',
      );
    }
    throw error;
  }
}

function newClient(io: CliIo, options: RoboTraceClientOptions): RoboTrace {
  return new RoboTrace({
    env: io.env,
    ...(io.fetch ? { fetch: io.fetch } : {}),
    quiet: true,
    userAgentSuffix: 'robotrace-cli',
    ...options,
  });
}
