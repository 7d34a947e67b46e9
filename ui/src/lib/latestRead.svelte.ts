// One kind of read a screen makes again and again, of what its controls choose (a report's
// period, the audit log's filter): asked for by the user, who waits for it (the button busy,
// a failure said), or quiet, read again after a sync (lib/syncRefresh), which keeps what is
// shown meanwhile and on a failure, and says nothing. The latest read wins: an earlier one
// answering after it shows nothing. A quiet read that starts while the user waits for one
// answers in its place, failure too. A read that succeeds takes away the error of a failed
// read of the same thing, not the error of another. What is shown is always of what the
// controls choose, and nothing replaces it unasked but the same read again: asking for another
// thing takes it away at once, and a sync reads again a failed read only while the controls
// still choose it (a lead who asked for another period, saw it fail and typed the first one's
// dates back does not get the other's figures under them).
import { worthRetrying } from './syncRefresh.svelte';

/** What the screen does with a read's answer. */
export interface ReadAnswer<Key, Found> {
  /** Reads `key`. */
  fetch(key: Key): Promise<Found>;
  /** Shows `found`, unless it returns false (a quiet answer the screen would rather not put in
   * place of what it shows). `waited`: whether the user waits for it. */
  show(found: Found, waited: boolean): boolean | void;
  /** Takes away what is shown: the user asked for something else. */
  clear(): void;
}

export class LatestRead<Key> {
  /** Whether the user waits for a read. */
  waiting = $state(false);
  /** The failure of the latest read the user waited for, until a read of the same succeeds. */
  error = $state<unknown>(null);
  #latest = 0;
  // What the user waits for, which a read again after a sync reads in its place; what failed
  // with `error`.
  #asked: Key | null = null;
  #failed: Key | null = null;
  // What is shown, null for nothing.
  #shown: Key | null = null;
  readonly #same: (a: Key, b: Key) => boolean;

  /** `same`: whether two keys read the same thing (whose error a read of either answers). */
  constructor(same: (a: Key, b: Key) => boolean) {
    this.#same = same;
  }

  /** Reads `key`. `quiet`: read again after a sync, which neither makes the user wait nor says
   * it failed, unless the user already waits for a read (which it then answers). */
  async read<Found>(key: Key, quiet: boolean, answer: ReadAnswer<Key, Found>): Promise<void> {
    const mine = ++this.#latest;
    const waited = !quiet || this.waiting;
    if (!quiet) {
      this.#asked = key;
      this.waiting = true;
      this.error = null;
      this.#failed = null;
      if (this.#shown !== null && !this.#same(this.#shown, key)) {
        this.#shown = null;
        answer.clear();
      }
    }
    try {
      const found = await answer.fetch(key);
      if (mine !== this.#latest || answer.show(found, waited) === false) return;
      this.#shown = key;
      if (this.#failed !== null && this.#same(this.#failed, key)) {
        this.error = null;
        this.#failed = null;
      }
    } catch (e) {
      if (mine === this.#latest && waited) {
        this.error = e;
        this.#failed = key;
      }
    } finally {
      if (mine === this.#latest) {
        this.waiting = false;
        this.#asked = null;
      }
    }
  }

  /** What a sync that changed something reads again: what the user waits for, else what
   * failed when the sync may have been what it lacked and `controls` (what the screen's
   * controls choose now) still choose it, else `shown` (what the screen shows, null for
   * nothing, which a read again refreshes though the controls were changed since). */
  again(shown: Key | null, controls: Key): Key | null {
    return this.#asked ?? this.retry(controls) ?? shown;
  }

  /** What a sync that reached the server but changed nothing reads again: what failed, when
   * the server may have been what it lacked (not a refusal of what was asked: a malformed
   * filter, a role that may not read it) and `controls` still choose it. While the user waits
   * for a read nothing has failed: a read asked for forgets the failure before it. */
  retry(controls: Key): Key | null {
    const failed = this.#failed;
    return failed !== null && worthRetrying(this.error) && this.#same(failed, controls) ? failed : null;
  }
}
