import type { Command } from 'commander';
import { normalizeBaseUrl } from '../../config.js';
import { credentialsPath, DEFAULT_PROFILE, readCredentials, updateCredentials } from '../../credentials.js';
import { AuthError } from '../../errors.js';
import { cliClient } from '../client.js';
import { type CliIo, keyHint, printJson, println, UsageError } from '../io.js';
import { ask, askSecret, readAll } from '../prompt.js';
import { deviceLogin } from './device-login.js';

interface LoginFlags {
  apiKey?: string;
  apiKeyStdin?: boolean;
  paste?: boolean;
  device?: boolean;
  browser: boolean;
  baseUrl?: string;
  verify: boolean;
  json?: boolean;
}

export function registerLogin(program: Command, io: CliIo): void {
  program
    .command('login')
    .description(
      'sign in through the browser (or with a pasted key) and store the server URL and API key in ~/.robotrace/credentials (mode 0600)',
    )
    .option('--api-key <key>', 'API key (rt_…); prompted for when omitted on a terminal')
    .option('--api-key-stdin', 'read the API key from standard input (for secret stores and CI)')
    .option('--paste', 'paste an existing API key instead of signing in through the browser')
    .option('--device', 'sign in through the browser even without a terminal (print the link, wait)')
    .option('--no-browser', 'browser sign-in without opening a browser here (open the printed link anywhere)')
    .option(
      '--base-url <url>',
      'server URL, e.g. http://localhost:3000; prompted for when omitted on a terminal',
    )
    .option('--no-verify', 'store the key without checking it against the server')
    .option('--json', 'print the result as JSON')
    .action(async (flags: LoginFlags) => {
      const path = credentialsPath(io.env);
      const stored = readCredentials(path).get(DEFAULT_PROFILE);
      const interactive = Boolean(io.stdin.isTTY) && !flags.apiKeyStdin;

      let baseUrl = flags.baseUrl ?? io.env.ROBOTRACE_BASE_URL;
      if (!baseUrl && interactive) {
        baseUrl = await ask(io, 'RoboTrace server URL', stored?.get('base_url') ?? 'http://localhost:3000');
      }
      if (!baseUrl) throw new UsageError('pass --base-url <url> (no terminal to ask on)');
      baseUrl = normalizeBaseUrl(baseUrl, '--base-url');

      let apiKey = flags.apiKey;
      if (flags.apiKeyStdin) apiKey = (await readAll(io.stdin)).trim();
      // No key given: the browser sign-in (on a terminal, or asked for); a pasted key stays the fallback.
      const browserFlow =
        !apiKey && !flags.apiKeyStdin && !flags.paste && (interactive || flags.device || !flags.browser);
      let userEmail: string | null = null;
      if (browserFlow) {
        const approved = await deviceLogin(io, baseUrl, { openBrowser: flags.browser });
        apiKey = approved.apiKey;
        baseUrl = normalizeBaseUrl(approved.baseUrl, 'the server’s base_url');
        userEmail = approved.userEmail;
      }
      if (!apiKey && interactive) apiKey = await askSecret(io, 'API key (rt_…, input hidden)');
      if (!apiKey)
        throw new UsageError(
          'pass --api-key <key> or --api-key-stdin (no terminal to ask on), or --device to sign in through a browser',
        );
      if (!/^rt_\S+$/.test(apiKey))
        throw new UsageError('that does not look like a RoboTrace API key (rt_…)');

      if (flags.verify) {
        const client = cliClient(io, { apiKey, baseUrl });
        try {
          await client.listEpisodes({ limit: 1 });
        } catch (error) {
          if (error instanceof AuthError)
            throw new AuthError(error.status, error.body, `${baseUrl} refused this key: ${error.message}`);
          throw error;
        }
      }
      updateCredentials(path, DEFAULT_PROFILE, {
        api_key: apiKey,
        base_url: baseUrl,
        ...(userEmail ? { user_email: userEmail } : {}),
        written_at: new Date().toISOString(),
      });

      if (flags.json)
        printJson(io, {
          base_url: baseUrl,
          key: keyHint(apiKey),
          credentials_path: path,
          verified: flags.verify,
          ...(userEmail ? { user_email: userEmail } : {}),
        });
      else
        println(
          io.stdout,
          `Logged in to ${baseUrl}${userEmail ? ` as ${userEmail}` : ''} with key ${keyHint(apiKey)}; saved to ${path}`,
        );
    });

  program
    .command('whoami')
    .description('show which server and key the CLI and SDKs will use, and check that the server accepts it')
    .option('--json', 'print the result as JSON')
    .action(async (flags: { json?: boolean }) => {
      const client = cliClient(io);
      await client.listEpisodes({ limit: 1 });
      const { baseUrl, apiKey, apiKeySource } = client.config;
      if (flags.json)
        printJson(io, {
          base_url: baseUrl,
          key: keyHint(apiKey),
          key_source: apiKeySource,
          authenticated: true,
        });
      else {
        println(io.stdout, `server  ${baseUrl}`);
        println(io.stdout, `key     ${keyHint(apiKey)} (from ${apiKeySource})`);
        println(io.stdout, 'status  accepted by the server');
      }
    });
}
