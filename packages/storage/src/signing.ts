import { createHmac, timingSafeEqual } from 'node:crypto';

/** `part`: one part of a resumable upload (local-multipart.ts). */
export type SignedOp = 'put' | 'get' | 'part';

export interface SignatureInput {
  op: SignedOp;
  key: string;
  expiresAtS: number;
  contentType: string;
}

function payload(i: SignatureInput): string {
  return `${i.op}\n${i.key}\n${i.expiresAtS}\n${i.contentType}`;
}

export function sign(secret: string, input: SignatureInput): string {
  return createHmac('sha256', secret).update(payload(input)).digest('base64url');
}

export type SignatureCheck = 'ok' | 'expired' | 'invalid';

/** Constant-time check of an HMAC-signed URL; the expiry is covered by the signature. */
export function verify(
  secret: string,
  input: SignatureInput,
  signature: string,
  nowS: number,
): SignatureCheck {
  const expected = Buffer.from(sign(secret, input));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'invalid';
  return input.expiresAtS < nowS ? 'expired' : 'ok';
}
