import { describe, expect, it } from 'vitest';
import type { SyncEvent } from '../ipc';
import { offlineStatus } from '../test/commands';
import { nextSync, type RunningSync } from './syncRefresh.svelte';

/** Runs `events` through `nextSync` from no sync running; whether the last one ended a sync
 * that changed something. */
function changedBy(events: SyncEvent[], shown = offlineStatus): boolean {
  let running: RunningSync | null = null;
  let changed = false;
  for (const event of events) {
    ({ running, changed } = nextSync(running, event, shown));
  }
  return changed;
}

const finished = (counts: Partial<typeof offlineStatus> = {}, conflictsChanged = false): SyncEvent => ({
  event: 'finished',
  status: { ...offlineStatus, online: true, last_error: null, ...counts },
  conflicts_changed: conflictsChanged,
});

describe('nextSync', () => {
  it('a sync that sent or received changes changed something', () => {
    expect(changedBy([{ event: 'started' }, { event: 'pushed', count: 3 }, finished()])).toBe(true);
    expect(changedBy([{ event: 'started' }, { event: 'pulled', count: 1, purged: 0, received: 1, percent: 100 }, finished()])).toBe(true);
  });

  it('a sync that received only an erasure changed something', () => {
    expect(changedBy([{ event: 'started' }, { event: 'pulled', count: 0, purged: 1, received: 0, percent: 100 }, finished()])).toBe(true);
  });

  it('a sync that sent nothing and received an empty page changed nothing', () => {
    expect(changedBy([{ event: 'started' }, { event: 'started' }, { event: 'pulled', count: 0, purged: 0, received: 0, percent: 100 }, finished()])).toBe(false);
    // A failed one neither.
    expect(changedBy([{ event: 'started' }, finished({ online: false })])).toBe(false);
  });

  it('a sync after which the counts of the status bar differ changed something', () => {
    expect(changedBy([{ event: 'started' }, finished({ open_conflicts: 2 })])).toBe(true);
    expect(changedBy([{ event: 'started' }, finished({ rejected_count: 0 })])).toBe(true);
    expect(changedBy([{ event: 'started' }, finished({ pending_count: 11 })])).toBe(true);
    // Nothing known before it: only what it sent or received tells.
    let running: RunningSync | null = null;
    ({ running } = nextSync(running, { event: 'started' }, null));
    expect(nextSync(running, finished({ pending_count: 0 }), offlineStatus).changed).toBe(false);
  });

  it('a sync after which the conflicts held differ changed something, though as many are open', () => {
    // A team lead's are mirrored from the server: one closed by another lead, another opened.
    expect(changedBy([{ event: 'started' }, { event: 'pulled', count: 0, purged: 0, received: 0, percent: 100 }, finished({}, true)])).toBe(true);
    expect(nextSync(null, finished({}, true), offlineStatus).changed).toBe(true);
  });

  it('the counts are compared with those shown as the sync started, not with a status read meanwhile', () => {
    let running: RunningSync | null = null;
    ({ running } = nextSync(running, { event: 'started' }, offlineStatus));
    // The status bar's poll saw the conflicts mirrored halfway through.
    const meanwhile = { ...offlineStatus, open_conflicts: 3 };
    ({ running } = nextSync(running, { event: 'started' }, meanwhile));
    expect(nextSync(running, finished({ open_conflicts: 3 }), meanwhile).changed).toBe(true);
  });

  it('a finish heard without its start compares with the status shown', () => {
    expect(nextSync(null, finished(), offlineStatus).changed).toBe(false);
    expect(nextSync(null, finished({ pending_count: 0 }), offlineStatus).changed).toBe(true);
  });

  it('a sync that reached the server is told apart from one that did not, whatever it changed', () => {
    expect(nextSync(null, finished(), offlineStatus).reached).toBe(true);
    expect(nextSync(null, finished({ online: false }), offlineStatus).reached).toBe(false);
    expect(nextSync(null, finished({ online: null }), offlineStatus).reached).toBe(false);
    expect(nextSync(null, { event: 'started' }, offlineStatus).reached).toBe(false);
  });

  it('what one sync did is forgotten when it finishes', () => {
    let running: RunningSync | null = null;
    ({ running } = nextSync(running, { event: 'started' }, offlineStatus));
    ({ running } = nextSync(running, { event: 'pushed', count: 2 }, offlineStatus));
    let changed: boolean;
    ({ running, changed } = nextSync(running, finished(), offlineStatus));
    expect(changed).toBe(true);
    expect(running).toBeNull();
    ({ running } = nextSync(running, { event: 'started' }, offlineStatus));
    expect(nextSync(running, finished(), offlineStatus).changed).toBe(false);
  });
});
