import { describe, expect, it, vi } from 'vitest';
import { answerCommands } from '../test/commands';
import { applyEditChanges, DraftKeeper, rebaseEdit } from './drafts';

describe('an edit kept as a draft', () => {
  const current = { phone: '+358401234567', follow_up_on: '2026-12-10', follow_up_done: false, summary: 'CV', duration_min: 20 };

  it('is given back where nothing changed meanwhile; the rest is named with what was typed', () => {
    const kept = {
      phone: { from: '+358401234567', to: '040 555 6666' },
      summary: { from: 'CV reviewed', to: 'CV and letter' },
      // Changed meanwhile to what was typed: nothing to give back, nothing lost.
      duration_min: { from: 15, to: 20 },
    };
    expect(applyEditChanges(current, kept)).toEqual({
      values: { phone: '040 555 6666' },
      stale: { summary: { from: 'CV reviewed', to: 'CV and letter' } },
    });
  });

  it('never gives back a field once shown as not given back, even when its value returns', () => {
    // Shown as not given back (changed meanwhile to B); a colleague has set it back to A since.
    const kept = { summary: { from: 'CV', to: 'CV and letter', stale: true } };
    expect(applyEditChanges(current, kept)).toEqual({ values: {}, stale: { summary: { from: 'CV', to: 'CV and letter', stale: true } } });
  });

  it('gives fields that belong together back together or not at all', () => {
    // A follow-up done was moved (and so opened again), while a colleague moved it elsewhere
    // and opened it: opening it at the colleague's date alone would be neither's intent.
    const kept = {
      follow_up_on: { from: '2026-12-01', to: '2026-12-15' },
      follow_up_done: { from: true, to: false },
    };
    const given = applyEditChanges(current, kept, [['follow_up_on', 'follow_up_done']]);
    expect(given?.values).toEqual({});
    // Not done now, as typed: nothing of it to show.
    expect(Object.keys(given!.stale)).toEqual(['follow_up_on']);
    // A field changed meanwhile to what was typed holds its group back from nothing.
    const same = applyEditChanges({ ...current, follow_up_on: '2026-12-15', follow_up_done: true }, kept, [['follow_up_on', 'follow_up_done']]);
    expect(same).toEqual({ values: { follow_up_done: false }, stale: {} });
  });

  it('leaves out a change of another kind than its field, and reads nothing from what is no edit', () => {
    const kept = { duration_min: { from: 20, to: 'forty' }, phone: { from: '+358401234567', to: null }, summary: 'not a change' };
    expect(applyEditChanges(current, kept)).toEqual({ values: { phone: null }, stale: {} });
    expect(applyEditChanges(current, ['summary'])).toBeNull();
    expect(applyEditChanges(current, null)).toBeNull();
  });
});

describe('the draft keeper', () => {
  it('forgets what a write under way keeps when the form is left meanwhile', async () => {
    const calls: (string | null)[] = [];
    let answer: (kept: boolean) => void = () => {};
    answerCommands({
      set_form_draft: (args) => {
        calls.push(args?.text === null ? null : 'keep');
        return args?.text === null ? false : new Promise<boolean>((resolve) => (answer = resolve));
      },
    });
    const keeper = new DraftKeeper('new-contact:anonymous', null, { name: 'today' }, () => ({ summary: 'x' }), () => false);
    const writing = keeper.write();
    await vi.waitFor(() => expect(calls).toEqual(['keep']));
    // Left while the store is still keeping it.
    const dropped = keeper.drop();
    answer(true);
    await writing;
    await dropped;
    expect(calls).toEqual(['keep', null]);
    // Nothing more is written once it is dropped.
    await keeper.write();
    expect(calls).toEqual(['keep', null]);
    keeper.stop();
  });

  it('writes nothing for a close while a save runs, and says whether the save’s own write kept it all', async () => {
    const calls: string[] = [];
    answerCommands({
      set_form_draft: () => {
        calls.push('keep');
        return true;
      },
    });
    let saving = false;
    let typed = { summary: 'x' };
    const keeper = new DraftKeeper('new-contact:anonymous', null, { name: 'today' }, () => typed, () => saving);
    await keeper.write(true);
    saving = true;
    expect(await keeper.keepNow()).toBe(true);
    // Typed while the save runs: a write now could land after the save's transaction.
    typed = { summary: 'xy' };
    expect(await keeper.keepNow()).toBe(false);
    expect(calls).toEqual(['keep']);
    keeper.stop();
  });
});

describe('rebaseEdit', () => {
  it('keeps what was typed, shows the new values elsewhere, and names what moved under the typing', () => {
    const shown = { phone: '+358401234567', notes: 'Rent.', languages: ['fi'], nickname: null };
    const typed = { phone: '+358401112222', notes: 'Rent and work.' };
    const now = { phone: '+358407654321', notes: 'Rent.', languages: ['fi', 'ar'], nickname: 'Ami' };
    expect(rebaseEdit(shown, typed, now)).toEqual({
      values: { phone: '+358401112222', notes: 'Rent and work.', languages: ['fi', 'ar'], nickname: 'Ami' },
      moved: ['phone'],
    });
  });

  it('names nothing changed elsewhere to what was typed, nor sets merely reordered or emptied alike', () => {
    const shown = { phone: '+358401234567', tags: ['a', 'b'], topics: [] as string[] };
    const typed = { phone: '+358407654321', tags: ['c'], topics: ['work'] };
    const now = { phone: '+358407654321', tags: ['b', 'a'], topics: null };
    expect(rebaseEdit(shown, typed, now).moved).toEqual([]);
  });
});
