/**
 * What the response cache remembers of its invalidations, for the misses that were running when
 * they happened. A miss that began before an entity it read was invalidated may have read the
 * entity before the change: its response is not stored. So each invalidation is remembered while a
 * miss that began before it is still running, and no longer: while no miss runs nothing is held
 * however many contacts change (its size and what it cost before: `INVALIDATION_RECORD_BYTES` in
 * `responseCache.ts`).
 *
 * A miss that runs long while very many entities change would still make the record grow, so it
 * holds at most `maxRecords` entities; past that the oldest is forgotten, and every miss that began
 * before it can no longer store its response (it might have missed that one). That costs those
 * misses their store, never a stale response.
 *
 * Invalidations are counted (`generation`); a miss remembers the count it began at. Both the record
 * and the running misses are kept oldest first (a `Map` keeps insertion order, and every insertion
 * is at the newest count), so forgetting is from the front.
 */
export class RecentInvalidations {
  /** Invalidations so far; a miss begun at `g` has seen the first `g`. */
  private generation = 0;
  /** Misses begun before this count may not store: an invalidation they needed was forgotten. */
  private floor = 0;
  /** Entity key → the invalidation that last named it, oldest first; only those some running miss needs. */
  private readonly changed = new Map<string, number>();
  /** The count a running miss began at → how many such misses, oldest first; none begun before `floor`. */
  private readonly running = new Map<number, number>();

  constructor(private readonly maxRecords: number) {}

  /** A miss begins: the mark it hands back to `mayStore` and `end`. */
  begin(): number {
    const began = this.generation;
    this.running.set(began, (this.running.get(began) ?? 0) + 1);
    return began;
  }

  /** The miss begun at `began` is over (stored or not): what only it needed is forgotten. */
  end(began: number): void {
    const count = this.running.get(began);
    if (count === undefined) return; // past the floor: already forgotten
    if (count > 1) {
      this.running.set(began, count - 1);
      return;
    }
    this.running.delete(began);
    this.forgetUnneeded();
  }

  /** `entities` (`entityKey`s) were invalidated now. */
  record(entities: Iterable<string>): void {
    const generation = ++this.generation;
    // A miss beginning from now on has seen this one.
    if (this.running.size === 0) return;
    for (const entity of entities) {
      this.changed.delete(entity); // re-inserted at the newest end
      this.changed.set(entity, generation);
    }
    while (this.changed.size > this.maxRecords) {
      const [entity, forgotten] = this.changed.entries().next().value!;
      this.changed.delete(entity);
      if (forgotten > this.floor) this.raiseFloor(forgotten);
    }
  }

  /** Whether the miss begun at `began` may store a response naming `entities`: none was invalidated since. */
  mayStore(began: number, entities: Iterable<string>): boolean {
    if (this.floor > began) return false;
    for (const entity of entities) if ((this.changed.get(entity) ?? 0) > began) return false;
    return true;
  }

  /** What is held: entities remembered, misses running (for specs). */
  size(): { records: number; running: number } {
    let running = 0;
    for (const count of this.running.values()) running += count;
    return { records: this.changed.size, running };
  }

  // Private: misses begun before `floor` no longer store, so they need nothing remembered.
  private raiseFloor(floor: number): void {
    this.floor = floor;
    for (const began of this.running.keys()) {
      if (began >= floor) break;
      this.running.delete(began);
    }
    this.forgetUnneeded();
  }

  // Private: an invalidation matters only to misses begun before it; forgets those older than the
  // oldest running miss, and everything when none is running.
  private forgetUnneeded(): void {
    const oldest = this.running.keys().next();
    if (oldest.done) {
      this.changed.clear();
      return;
    }
    for (const [entity, generation] of this.changed) {
      if (generation > oldest.value) break;
      this.changed.delete(entity);
    }
  }
}
