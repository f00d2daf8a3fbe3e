import { z } from 'zod';

/**
 * The stored (normalised) W3C trace context of an episode. The server validates the incoming block
 * leniently (a bad block becomes a warning, never a failed episode), so the request side is `unknown`.
 */
export const OtelBlock = z
  .object({
    trace_id: z.string().regex(/^[0-9a-f]{32}$/),
    span_id: z.string().regex(/^[0-9a-f]{16}$/),
    traceparent: z.string().optional(),
    tracestate: z.string().optional(),
  })
  .meta({ id: 'OtelBlock' });
export type OtelBlock = z.infer<typeof OtelBlock>;
