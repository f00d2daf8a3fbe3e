/**
 * Serialized track windows, kept for identical repeat requests: the page asks for the whole episode of every
 * lane on each load, compare asks for the same windows again, and zooming back out repeats an earlier window.
 * Building one reads and buckets every sample inside it (a whole 10-minute, 12-column track is 720,000
 * values), so a repeat answers from memory. Keyed by everything the window depends on (the episode's index
 * versions, its timing, the track, the bounds, the points): a re-index makes a new key and the old entries
 * age out. Bounded by characters (≈ bytes: the JSON is ASCII but for names from files); the least recently
 * used go first. In memory: a restart empties it.
 */
export class WindowCache {
  private readonly entries = new Map<string, string>();
  private chars = 0;

  constructor(
    readonly maxChars: number,
    /** A window larger than this is never kept (it would push out many smaller ones). */
    readonly maxEntryChars = Math.max(1, Math.floor(maxChars / 8)),
  ) {}

  get(key: string): string | undefined {
    const json = this.entries.get(key);
    if (json === undefined) return undefined;
    // A Map iterates in insertion order: re-inserting marks the entry the most recently used.
    this.entries.delete(key);
    this.entries.set(key, json);
    return json;
  }

  set(key: string, json: string): void {
    if (json.length > this.maxEntryChars) return;
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.entries.delete(key);
      this.chars -= old.length;
    }
    this.entries.set(key, json);
    this.chars += json.length;
    for (const [k, v] of this.entries) {
      if (this.chars <= this.maxChars) break;
      this.entries.delete(k);
      this.chars -= v.length;
    }
  }

  /** Characters held. */
  get size(): number {
    return this.chars;
  }
}
