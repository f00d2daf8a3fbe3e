/**
 * A validating reader of JSON bytes for the transcoder (otlp-transcode.ts): whatever it accepts, JSON.parse accepts
 * too, so a transcoded answer is never one the object path would have refused. It reads tokens and walks objects
 * and arrays without building them; `parsed()` gives one element as JSON.parse makes it, for the object path.
 */

/** The answer is outside what the transcoder reads: parse it whole instead. */
export class Bail extends Error {}
export const bail = (): never => {
  throw new Bail();
};

export const QUOTE = 0x22;
const BACKSLASH = 0x5c;
export const COMMA = 0x2c;
export const COLON = 0x3a;
export const OPEN_OBJECT = 0x7b;
export const CLOSE_OBJECT = 0x7d;
export const OPEN_ARRAY = 0x5b;
export const CLOSE_ARRAY = 0x5d;

/** The token just read: its kind and byte range ([start, end), quotes included for a string). */
export enum Tok {
  String = 1,
  Number = 2,
  True = 3,
  False = 4,
  Null = 5,
  Object = 6,
  Array = 7,
}

export class JsonReader {
  protected p = 0;
  /** Set by string(): whether the string just read had an escape. */
  protected escaped = false;
  /** The answer's bytes as a plain Uint8Array: its subarrays are cheap views (a Buffer's are Buffers). */
  protected readonly b: Uint8Array;

  constructor(
    protected readonly body: Buffer,
    protected readonly ascii: boolean,
  ) {
    this.b = new Uint8Array(body.buffer, body.byteOffset, body.length);
  }

  protected ws(): void {
    const b = this.b;
    let p = this.p;
    for (;;) {
      const c = b[p];
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p++;
      else break;
    }
    this.p = p;
  }

  protected peek(): number {
    this.ws();
    return this.b[this.p] ?? -1;
  }

  protected expect(c: number): void {
    if (this.peek() !== c) bail();
    this.p++;
  }

  /** A string from the opening quote; p after the closing one. */
  protected string(): void {
    const b = this.b;
    let p = this.p + 1;
    let escaped = false;
    for (;;) {
      const c = b[p];
      if (c === undefined || c < 0x20) bail();
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        escaped = true;
        const e = b[p + 1];
        if (e === 0x75) {
          for (let i = 2; i < 6; i++) {
            const h = b[p + i] as number;
            if (!((h >= 0x30 && h <= 0x39) || (h >= 0x61 && h <= 0x66) || (h >= 0x41 && h <= 0x46))) bail();
          }
          p += 6;
        } else if (
          e === QUOTE ||
          e === BACKSLASH ||
          e === 0x2f ||
          e === 0x62 ||
          e === 0x66 ||
          e === 0x6e ||
          e === 0x72 ||
          e === 0x74
        )
          p += 2;
        else bail();
      } else p++;
    }
    this.escaped = escaped;
    this.p = p + 1;
  }

  protected number(): void {
    const b = this.b;
    let p = this.p;
    if (b[p] === 0x2d) p++;
    if (b[p] === 0x30) p++;
    else p = this.digits(p);
    if (b[p] === 0x2e) p = this.digits(p + 1);
    if (b[p] === 0x65 || b[p] === 0x45) {
      p++;
      if (b[p] === 0x2b || b[p] === 0x2d) p++;
      p = this.digits(p);
    }
    this.p = p;
  }

  /** One or more digits from `p`; the position after them. */
  protected digits(p: number): number {
    const b = this.b;
    const s = p;
    while ((b[p] as number) >= 0x30 && (b[p] as number) <= 0x39) p++;
    if (p === s) bail();
    return p;
  }

  protected literal(word: string): void {
    for (let i = 0; i < word.length; i++) if (this.b[this.p + i] !== word.charCodeAt(i)) bail();
    this.p += word.length;
  }

  /** Reads any value (validated) and says what it was; p after it. */
  protected value(): Tok {
    const c = this.peek();
    if (c === QUOTE) {
      this.string();
      return Tok.String;
    }
    if (c === OPEN_OBJECT) {
      this.p++;
      if (this.peek() === CLOSE_OBJECT) {
        this.p++;
        return Tok.Object;
      }
      for (;;) {
        if (this.peek() !== QUOTE) bail();
        this.string();
        this.expect(COLON);
        this.value();
        const d = this.peek();
        this.p++;
        if (d === CLOSE_OBJECT) return Tok.Object;
        if (d !== COMMA) bail();
      }
    }
    if (c === OPEN_ARRAY) {
      this.p++;
      if (this.peek() === CLOSE_ARRAY) {
        this.p++;
        return Tok.Array;
      }
      for (;;) {
        this.value();
        const d = this.peek();
        this.p++;
        if (d === CLOSE_ARRAY) return Tok.Array;
        if (d !== COMMA) bail();
      }
    }
    if (c === 0x74) {
      this.literal('true');
      return Tok.True;
    }
    if (c === 0x66) {
      this.literal('false');
      return Tok.False;
    }
    if (c === 0x6e) {
      this.literal('null');
      return Tok.Null;
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      this.number();
      return Tok.Number;
    }
    return bail();
  }

  /** Enters an object at its opening brace: false when it is empty (then p is past it). */
  protected enterObject(): boolean {
    this.expect(OPEN_OBJECT);
    if (this.peek() !== CLOSE_OBJECT) return true;
    this.p++;
    return false;
  }

  /** After a member's value: true when another member follows, false past the closing brace. */
  protected nextMember(): boolean {
    const d = this.peek();
    this.p++;
    if (d === COMMA) return true;
    if (d !== CLOSE_OBJECT) bail();
    return false;
  }

  /**
   * A member's key and colon; p at its value. The index of the key in `keys`; -1: another key; -2: a key written
   * with escapes (never matched: it may be a known key in disguise).
   */
  protected key(keys: Uint8Array[]): number {
    if (this.peek() !== QUOTE) bail();
    const ks = this.p + 1;
    this.string();
    const k = this.escaped ? -2 : this.keyIndex(keys, ks, this.p - 1);
    this.expect(COLON);
    this.ws();
    return k;
  }

  /** Enters an array at its opening bracket: false when it is empty; else p at its first item. */
  protected enterArray(): boolean {
    this.expect(OPEN_ARRAY);
    if (this.peek() !== CLOSE_ARRAY) return true;
    this.p++;
    return false;
  }

  /** After an item: true (p at the next item) or false past the closing bracket. */
  protected nextItem(): boolean {
    const d = this.peek();
    this.p++;
    if (d === COMMA) {
      this.ws();
      return true;
    }
    if (d !== CLOSE_ARRAY) bail();
    return false;
  }

  protected keyIndex(keys: Uint8Array[], s: number, e: number): number {
    const b = this.b;
    const n = e - s;
    outer: for (let k = 0; k < keys.length; k++) {
      const key = keys[k] as Uint8Array;
      if (key.length !== n) continue;
      for (let i = 0; i < n; i++) if (key[i] !== b[s + i]) continue outer;
      return k;
    }
    return -1;
  }

  /** The value at [s, e) as the object JSON.parse makes of it. */
  protected parsed(s: number, e: number): unknown {
    return JSON.parse(this.body.toString(this.ascii ? 'latin1' : 'utf8', s, e));
  }
}
