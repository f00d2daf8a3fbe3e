import { checkGate, promoteScenario, recordVerifyResult } from '@robotrace/contracts';
import * as core from '@robotrace/core';
import { type BoundRoute, bindRoute } from '../http/api-route.js';
import type { Services } from '../services.js';

/** Release verification (OFFICIAL_PILLARS.md §2): promote, record a result, check the gate (200 pass / 422). */
export function verifyRoutes(s: Services): BoundRoute[] {
  return [
    bindRoute(promoteScenario, async ({ scope, body }) => ({
      status: 200,
      body: await core.promoteScenario(s.core, scope, body),
    })),
    bindRoute(recordVerifyResult, async ({ scope, body }) => ({
      status: 200,
      body: await core.recordVerifyResult(s.core, scope, body),
    })),
    bindRoute(checkGate, async ({ scope, body }) => {
      const gate = await core.checkGate(s.core, scope, body.candidate_policy_version);
      return { status: gate.passed ? 200 : 422, body: gate };
    }),
  ];
}
