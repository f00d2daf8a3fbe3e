import { z } from 'zod';

/**
 * The query of a signed local-storage URL, exactly as the API handed it out. Each part is checked by the
 * signature, not by shape: a missing or altered one is a 403, so every part is an optional string here.
 */
export const SignedUrlQuery = z.object({
  op: z.string().optional().describe('"put" or "get": what the URL was signed for'),
  exp: z.string().optional().describe('Expiry, in Unix seconds'),
  ct: z.string().optional().describe('The Content-Type the URL was signed for'),
  sig: z.string().optional().describe('HMAC signature over the key, op, exp and ct'),
});
export type SignedUrlQuery = z.infer<typeof SignedUrlQuery>;

export const UploadStoredResponse = z
  .object({ status: z.literal('stored'), size_bytes: z.number().int().nonnegative() })
  .meta({ id: 'UploadStored' });
export type UploadStoredResponse = z.infer<typeof UploadStoredResponse>;
