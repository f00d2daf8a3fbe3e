import type { IncomingMessage } from 'node:http';
import { AppError, PayloadTooLargeError, ValidationError } from '@robotrace/core';
import type { z } from 'zod';

/** The raw body text, size-limited (idempotency hashes exactly what was sent). */
export async function readText(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (declared > limit) {
    req.resume();
    throw new PayloadTooLargeError(`Request body is ${declared} bytes; the limit is ${limit} bytes`, {
      limit,
    });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit)
      throw new PayloadTooLargeError(`Request body exceeds the limit of ${limit} bytes`, { limit });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A JSON body's value; a request that sent no bytes at all means "no fields" (`{}`). */
export function parseJson(text: string): unknown {
  if (text === '') return {};
  if (text.trim() === '')
    throw new AppError(400, 'invalid_json', 'Request body is blank; expected a JSON object');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new AppError(400, 'invalid_json', `Request body is not valid JSON: ${(err as Error).message}`);
  }
}

/** Validates with a contracts schema; the error names the offending field. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, what = 'request body'): z.infer<S> {
  if (what === 'request body' && (typeof value !== 'object' || value === null || Array.isArray(value)))
    throw new ValidationError('Invalid request body: expected a JSON object');
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw ValidationError.fromZod(parsed.error, what);
  return parsed.data;
}
