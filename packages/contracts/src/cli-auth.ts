import { z } from 'zod';
import { defineRoute } from './route.js';

/**
 * CLI device login (OFFICIAL_PILLARS.md §3): the official `robotrace login` starts a login, shows a code, and polls
 * until a signed-in user authorizes it in the browser (/cli/auth?code=…). Every answer the CLI reads is a 200 but
 * the 410 of a login that expired or was already used: anything else (a 429 included) ends the CLI's login.
 */
export const CliAuthStartRequest = z
  .object({
    user_agent: z.string().max(1000).nullish(),
    hostname: z.string().max(255).nullish(),
  })
  .meta({ id: 'CliAuthStartRequest' });
export type CliAuthStartRequest = z.infer<typeof CliAuthStartRequest>;

export const CliAuthStartResponse = z
  .object({
    device_code: z.string().describe("the CLI's secret for polling (only its hash is stored)"),
    user_code: z.string().describe('shown in the terminal and on the approval page, e.g. XKDF-PQ4N'),
    verification_uri: z.string(),
    verification_uri_complete: z.string(),
    interval: z.number().describe('seconds between polls'),
    expires_in: z.number().describe('seconds until the login expires (600)'),
  })
  .meta({ id: 'CliAuthStartResponse' });
export type CliAuthStartResponse = z.infer<typeof CliAuthStartResponse>;

export const CliAuthPollRequest = z
  .object({ device_code: z.string().max(200) })
  .meta({ id: 'CliAuthPollRequest' });

export const CliAuthPollResponse = z
  .discriminatedUnion('status', [
    z.object({
      status: z.literal('pending'),
      interval: z.number().optional().describe('larger than before: the CLI polled too fast (slow down)'),
    }),
    z.object({
      status: z.literal('approved'),
      api_key: z.string().describe('the new key, handed out once'),
      base_url: z.string(),
      client_id: z.string().describe("the new key's id"),
      user_email: z.string(),
      portal_url: z.string(),
    }),
    z.object({ status: z.literal('denied') }),
  ])
  .meta({ id: 'CliAuthPollResponse' });
export type CliAuthPollResponse = z.infer<typeof CliAuthPollResponse>;

export const CliAuthGone = z
  .object({ status: z.enum(['expired', 'consumed']), error: z.string() })
  .meta({ id: 'CliAuthGone' });
export type CliAuthGone = z.infer<typeof CliAuthGone>;

export const CliAuthRevokeResponse = z
  .object({
    status: z.literal('revoked'),
    key_id: z.string(),
    key_prefix: z.string(),
    revoked_at: z.string(),
  })
  .meta({ id: 'CliAuthRevokeResponse' });
export type CliAuthRevokeResponse = z.infer<typeof CliAuthRevokeResponse>;

export const cliAuthStart = defineRoute({
  operationId: 'cliAuthStart',
  method: 'POST',
  path: '/api/cli/auth/start',
  auth: 'none',
  summary: 'Start a CLI device login (no key): a device code to poll with and a user code to approve',
  body: CliAuthStartRequest,
  responses: { 200: { description: 'Started; expires in 10 minutes', schema: CliAuthStartResponse } },
  // Keyless: bounded per client address.
  errors: [429],
});

export const cliAuthPoll = defineRoute({
  operationId: 'cliAuthPoll',
  method: 'POST',
  path: '/api/cli/auth/poll',
  auth: 'none',
  summary:
    'Poll a CLI device login: pending (slow down = a larger interval), approved (the key, once), denied',
  body: CliAuthPollRequest,
  responses: {
    200: { description: 'Pending, approved or denied', schema: CliAuthPollResponse },
    410: { description: 'Expired, unknown, or already used', schema: CliAuthGone },
  },
  errors: [],
});

export const cliAuthRevoke = defineRoute({
  operationId: 'cliAuthRevoke',
  method: 'POST',
  path: '/api/cli/auth/revoke',
  auth: 'apiKey',
  summary: 'Revoke the API key this request is made with (`robotrace logout --revoke`)',
  responses: { 200: { description: 'Revoked', schema: CliAuthRevokeResponse } },
  errors: [],
});
