/** A growable output buffer of bytes (the transcoder writes the API's span JSON into it). */
export class Out {
  buf: Buffer;
  o = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  ensure(n: number): void {
    if (this.o + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.o + n));
    this.buf.copy(bigger, 0, 0, this.o);
    this.buf = bigger;
  }
  /** The bytes written, as a plain Uint8Array (cheap subarrays). */
  view(): Uint8Array {
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.o);
  }
  byte(c: number): void {
    this.ensure(1);
    this.buf[this.o++] = c;
  }
  /**
   * A whole constant. Measured here: a byte loop costs ~2.5 ns a byte, a native set() ~16 ns flat, so anything
   * past a few bytes is set().
   */
  put(src: Uint8Array): void {
    const n = src.length;
    this.ensure(n);
    if (n < 8) {
      const buf = this.buf;
      let o = this.o;
      for (let i = 0; i < n; i++) buf[o++] = src[i] as number;
      this.o = o;
    } else {
      this.buf.set(src, this.o);
      this.o += n;
    }
  }
  /** Bytes [s, e) of src: short runs by hand, longer ones as a view and a native set() (see put). */
  copy(src: Uint8Array, s: number, e: number): void {
    const n = e - s;
    this.ensure(n);
    if (n < 16) {
      const buf = this.buf;
      let o = this.o;
      for (let i = s; i < e; i++) buf[o++] = src[i] as number;
      this.o = o;
    } else {
      this.buf.set(src.subarray(s, e), this.o);
      this.o += n;
    }
  }
  text(s: string): void {
    const n = Buffer.byteLength(s);
    this.ensure(n);
    this.o += this.buf.write(s, this.o);
  }
}
