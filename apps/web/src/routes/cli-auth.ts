import { cliAuthPoll, cliAuthRevoke, cliAuthStart } from '@robotrace/contracts';
import {
  POLL_INTERVAL_S,
  pollDeviceLogin,
  revokeCallingKey,
  startDeviceLogin,
  takeTokens,
} from '@robotrace/core';
import { CLIENT_IP_HEADER } from '../auth.js';
import { type BoundRoute, bindRoute } from '../http/api-route.js';
import { apiKeyOf } from '../scope.js';
import type { Services } from '../services.js';

/** Logins one client address may start per minute (a person runs one; a CI fleet behind one NAT a few). */
const START_PER_MINUTE = 60;

/**
 * CLI device login (OFFICIAL_PILLARS.md §3): start and poll take no key (the device code is the secret); revoke
 * revokes the very key it is called with. The approval page is portal/cli-auth-page.ts.
 */
export function cliAuthRoutes(s: Services): BoundRoute[] {
  return [
    bindRoute(cliAuthStart, async ({ ctx, body }) => {
      const ip = ctx.req.headers[CLIENT_IP_HEADER];
      // Keyless, so bounded per client address: a flood cannot fill the table (rows go a day after expiry).
      await takeTokens(s.core, [
        { bucket: `cli-start:${typeof ip === 'string' ? ip : 'unknown'}`, perMinute: START_PER_MINUTE },
      ]);
      const started = await startDeviceLogin(s.core, {
        userAgent: body.user_agent ?? ctx.req.headers['user-agent'] ?? null,
        hostname: body.hostname ?? null,
        ip: typeof ip === 'string' ? ip : null,
      });
      const uri = `${ctx.baseUrl}/cli/auth`;
      return {
        status: 200,
        body: {
          device_code: started.deviceCode,
          user_code: started.userCode,
          verification_uri: uri,
          verification_uri_complete: `${uri}?code=${started.userCode}`,
          interval: POLL_INTERVAL_S,
          expires_in: started.expiresInS,
        },
      };
    }),

    bindRoute(cliAuthPoll, async ({ ctx, body }) => {
      const out = await pollDeviceLogin(s.core, body.device_code);
      if (out.status === 'expired' || out.status === 'consumed')
        return {
          status: 410,
          body: {
            status: out.status,
            error:
              out.status === 'expired'
                ? 'This login expired (or never existed). Run `robotrace login` again.'
                : 'This login was already used. Run `robotrace login` again.',
          },
        };
      if (out.status === 'approved') {
        s.log.info('cli login approved: api key minted', { key_id: out.keyId, user: out.userEmail });
        return {
          status: 200,
          body: {
            status: 'approved',
            api_key: out.apiKey,
            base_url: ctx.baseUrl,
            client_id: out.keyId,
            user_email: out.userEmail,
            portal_url: `${ctx.baseUrl}/portal`,
          },
        };
      }
      return { status: 200, body: out };
    }),

    bindRoute(cliAuthRevoke, async ({ ctx, scope }) => {
      const revoked = await revokeCallingKey(s.core, scope, apiKeyOf(ctx) ?? '');
      s.log.info('api key revoked by the cli', { key_id: revoked.keyId });
      return {
        status: 200,
        body: {
          status: 'revoked',
          key_id: revoked.keyId,
          key_prefix: revoked.prefix,
          revoked_at: revoked.revokedAt.toISOString(),
        },
      };
    }),
  ];
}
