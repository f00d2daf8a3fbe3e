/**
 * Text PostgreSQL can store. Any JSON string is valid on the wire, but PostgreSQL refuses NUL (U+0000) in text
 * and jsonb, and jsonb refuses an unpaired UTF-16 surrogate (`"\ud800"`, which Python's json.dumps writes for a
 * surrogate-escaped file name). Such a string would fail the whole request with a 500; an episode is never
 * lost over one character, so each of them becomes U+FFFD (the replacement character), as UTF-8 encoding
 * already does for unpaired surrogates in text columns, and the create answer says so in `warnings`.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching NUL is the point
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const REPLACEMENT = '\ufffd';

export interface Storable<T> {
  value: T;
  /** How many characters were replaced. */
  replaced: number;
}

export function storableText(text: string): Storable<string> {
  let replaced = 0;
  const value = text.replace(UNSTORABLE, () => {
    replaced++;
    return REPLACEMENT;
  });
  return { value, replaced };
}

/** Every string of a JSON value, object keys included, made storable; the value is copied only if needed. */
export function storableJson<T>(input: T): Storable<T> {
  let replaced = 0;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const s = storableText(v);
      replaced += s.replaced;
      return s.value;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      // defineProperty: a `__proto__` key (JSON.parse makes it an own property) must stay a plain key.
      for (const [k, item] of Object.entries(v))
        Object.defineProperty(out, walk(k) as string, {
          value: walk(item),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      return out;
    }
    return v;
  };
  const value = walk(input) as T;
  return replaced === 0 ? { value: input, replaced } : { value, replaced };
}

export function unstorableWarning(replaced: number): string {
  return `${replaced} character(s) PostgreSQL cannot store (NUL, or an unpaired UTF-16 surrogate) were replaced by U+FFFD`;
}
