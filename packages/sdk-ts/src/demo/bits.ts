/** An MSB-first bit writer with the Exp-Golomb codes H.264 headers are made of. */
export class BitWriter {
  #bytes: number[] = [];
  #current = 0;
  #used = 0;

  bit(value: number): this {
    this.#current = (this.#current << 1) | (value & 1);
    this.#used++;
    if (this.#used === 8) {
      this.#bytes.push(this.#current);
      this.#current = 0;
      this.#used = 0;
    }
    return this;
  }

  bits(value: number, count: number): this {
    for (let i = count - 1; i >= 0; i--) this.bit((value >>> i) & 1);
    return this;
  }

  /** ue(v): unsigned Exp-Golomb. */
  ue(value: number): this {
    const code = value + 1;
    const length = 32 - Math.clz32(code);
    this.bits(0, length - 1);
    return this.bits(code, length);
  }

  /** se(v): signed Exp-Golomb. */
  se(value: number): this {
    return this.ue(value <= 0 ? -2 * value : 2 * value - 1);
  }

  /** Zero bits up to the next byte boundary (e.g. pcm_alignment_zero_bit). */
  alignZero(): this {
    while (this.#used !== 0) this.bit(0);
    return this;
  }

  /** Whole bytes; the writer must be byte-aligned. */
  bytes(data: Uint8Array): this {
    if (this.#used !== 0) throw new Error('BitWriter.bytes needs byte alignment');
    for (const byte of data) this.#bytes.push(byte);
    return this;
  }

  /** rbsp_trailing_bits: a stop bit, then zero bits to the byte boundary. */
  trailing(): this {
    return this.bit(1).alignZero();
  }

  toBytes(): Uint8Array {
    if (this.#used !== 0) throw new Error('BitWriter is not byte-aligned');
    return Uint8Array.from(this.#bytes);
  }
}
