import { describe, expect, it } from 'vitest';
import { LatestRead } from './latestRead.svelte';
import { later } from '../test/commands';

const offline = { kind: 'needs_connection', message: 'offline', field: null };
const refused = { kind: 'validation', message: 'the period ends before it starts', field: 'to' };

/** Reads of a name, answered by `answers` in the order the reads start; the answers shown
 * (and `cleared` where what was shown was taken away), and whether each was waited for. */
function readsOf(...answers: ReturnType<typeof later<string>>[]) {
  const reads = new LatestRead<string>((a, b) => a === b);
  const shown: string[] = [];
  const waited: boolean[] = [];
  let started = 0;
  const read = (key: string, quiet = false) =>
    reads.read(key, quiet, {
      fetch: () => answers[started++].promise,
      show(found, wasWaited) {
        shown.push(found);
        waited.push(wasWaited);
      },
      clear: () => shown.push('cleared'),
    });
  return { reads, shown, waited, read };
}

describe('LatestRead', () => {
  it('the latest read wins over a slower earlier one', async () => {
    const [first, second] = [later<string>(), later<string>()];
    const { reads, shown, read } = readsOf(first, second);
    const reading = read('a');
    const again = read('b');
    second.answer('b1');
    await again;
    expect(reads.waiting).toBe(false);
    first.answer('a1');
    await reading;
    expect(shown).toEqual(['b1']);
  });

  it('the user waits for a read asked for, not for a quiet one', async () => {
    const [asked, quiet] = [later<string>(), later<string>()];
    const { reads, read } = readsOf(asked, quiet);
    const reading = read('a');
    expect(reads.waiting).toBe(true);
    asked.answer('a1');
    await reading;
    const again = read('a', true);
    expect(reads.waiting).toBe(false);
    quiet.answer('a2');
    await again;
  });

  it('a quiet read that fails keeps what is shown and says nothing', async () => {
    const [asked, quiet] = [later<string>(), later<string>()];
    const { reads, shown, read } = readsOf(asked, quiet);
    asked.answer('a1');
    await read('a');
    quiet.fail(offline);
    await read('a', true);
    expect(shown).toEqual(['a1']);
    expect(reads.error).toBeNull();
  });

  it('a quiet read that overtakes the one the user waits for answers in its place, its failure too', async () => {
    for (const fails of [false, true]) {
      const [asked, quiet] = [later<string>(), later<string>()];
      const { reads, shown, waited, read } = readsOf(asked, quiet);
      const reading = read('a');
      if (fails) quiet.fail(offline);
      else quiet.answer('a2');
      await read('a', true);
      expect(reads.waiting).toBe(false);
      expect(reads.error).toEqual(fails ? offline : null);
      // Shown as waited for: the screen does not keep what it showed before in its place.
      expect(waited).toEqual(fails ? [] : [true]);
      asked.answer('a1');
      await reading;
      expect(shown).toEqual(fails ? [] : ['a2']);
    }
  });

  it('what the user waits for is what a sync reads again, then what failed, then what is shown', async () => {
    const [asked, failing] = [later<string>(), later<string>()];
    const { reads, read } = readsOf(asked, failing);
    expect(reads.again('shown', 'shown')).toBe('shown');
    const reading = read('a');
    expect(reads.again('shown', 'a')).toBe('a');
    // A sync that changed nothing reads nothing in place of a read the user still waits for.
    expect(reads.retry('a')).toBeNull();
    asked.fail(offline);
    await reading;
    expect(reads.again('shown', 'a')).toBe('a');
    expect(reads.retry('a')).toBe('a');
    const refusing = read('b');
    failing.fail(refused);
    await refusing;
    // A refusal is not tried again: a sync does not change what was asked.
    expect(reads.again('shown', 'b')).toBe('shown');
    expect(reads.retry('b')).toBeNull();
  });

  it('a read asked for forgets the failure before it: a sync meanwhile does not read the failed thing in its place', async () => {
    const [failing, asked] = [later<string>(), later<string>()];
    const { reads, read } = readsOf(failing, asked);
    failing.fail(offline);
    await read('a');
    expect(reads.retry('a')).toBe('a');
    const reading = read('b');
    // The lead typed a's dates back while b is read: a sync that changed nothing reads nothing
    // (a quiet read of a would answer the wait for b, a's figures under it).
    expect(reads.retry('a')).toBeNull();
    asked.answer('b1');
    await reading;
    expect(reads.retry('a')).toBeNull();
  });

  it('what failed is read again only while the controls still choose it; what is shown, whatever they choose', async () => {
    const [failing] = [later<string>()];
    const { reads, read } = readsOf(failing);
    failing.fail(offline);
    await read('a');
    expect(reads.retry('b')).toBeNull();
    expect(reads.again(null, 'b')).toBeNull();
    expect(reads.again('shown', 'b')).toBe('shown');
    expect(reads.retry('a')).toBe('a');
  });

  it('asking for another thing takes away what is shown at once; asking for the same again, or a quiet read, keeps it', async () => {
    const answers = [later<string>(), later<string>(), later<string>(), later<string>(), later<string>()];
    const { shown, read } = readsOf(...answers);
    answers[0].answer('a1');
    await read('a');
    answers[1].answer('a2');
    await read('a');
    answers[2].answer('b1');
    await read('b', true);
    expect(shown).toEqual(['a1', 'a2', 'b1']);
    // Asked for while it shows the quiet read's answer: the same thing, kept meanwhile.
    const again = read('b');
    expect(shown).toEqual(['a1', 'a2', 'b1']);
    answers[3].answer('b2');
    await again;
    const other = read('c');
    expect(shown).toEqual(['a1', 'a2', 'b1', 'b2', 'cleared']);
    answers[4].fail(offline);
    await other;
    expect(shown).toEqual(['a1', 'a2', 'b1', 'b2', 'cleared']);
  });

  it('a read that succeeds takes away the error of the same, not of another', async () => {
    const [failing, other, same] = [later<string>(), later<string>(), later<string>()];
    const { reads, read } = readsOf(failing, other, same);
    failing.fail(offline);
    await read('a');
    other.answer('b1');
    await read('b', true);
    expect(reads.error).toEqual(offline);
    same.answer('a1');
    await read('a', true);
    expect(reads.error).toBeNull();
    expect(reads.retry('a')).toBeNull();
  });

  it('an answer the screen does not show leaves the error of the same', async () => {
    const reads = new LatestRead<string>((a, b) => a === b);
    const clear = () => {};
    await reads.read('a', false, { fetch: () => Promise.reject(offline), show: () => {}, clear });
    await reads.read('a', true, { fetch: async () => 'a1', show: () => false, clear });
    expect(reads.error).toEqual(offline);
    expect(reads.retry('a')).toBe('a');
  });

  it('an answer the screen does not show is not what it shows', async () => {
    const cleared: string[] = [];
    const reads = new LatestRead<string>((a, b) => a === b);
    const answer = (show: boolean) => ({ fetch: async (key: string) => key, show: () => show, clear: () => cleared.push('cleared') });
    await reads.read('a', false, answer(true));
    await reads.read('b', true, answer(false));
    // Still showing a: asking for a again keeps it, asking for b takes it away.
    await reads.read('a', false, answer(true));
    expect(cleared).toEqual([]);
    await reads.read('b', false, answer(true));
    expect(cleared).toEqual(['cleared']);
  });
});
