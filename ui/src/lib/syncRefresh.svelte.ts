// After a sync that changed something, the screens that list records read them again: a
// screen mounted before it would otherwise keep showing what was true before it (changes
// listed as waiting that were just sent, a colleague's new contact missing). App hears the
// sync's events (`heardSync`); a screen asks to read again with `rereadAfterSync`. A sync
// that neither sent nor received a change, after which the counts of the status bar are as
// they were and the conflicts held are the same, reads nothing again: most syncs find nothing
// to do. A read the user saw fail is tried again after any sync that reached the server
// (`retry` of `rereadAfterSync`), which may have been what it lacked.
import { untrack } from 'svelte';
import { toAppError, type SyncEvent, type SyncStatusView } from '../ipc';

/** The counts of the status bar a sync can change without sending or receiving a value (a
 * team lead's conflicts are mirrored from the server). */
type Counts = Pick<SyncStatusView, 'pending_count' | 'rejected_count' | 'open_conflicts'>;

/** What the running sync has done so far. */
export interface RunningSync {
  /** The counts shown as it started; null when none were known. */
  before: Counts | null;
  /** Whether it has sent or received a change (or an erasure). */
  moved: boolean;
}

function counts(status: SyncStatusView | null): Counts | null {
  if (!status) return null;
  const { pending_count, rejected_count, open_conflicts } = status;
  return { pending_count, rejected_count, open_conflicts };
}

function differ(before: Counts | null, after: SyncStatusView): boolean {
  return before !== null
    && (before.pending_count !== after.pending_count
      || before.rejected_count !== after.rejected_count
      || before.open_conflicts !== after.open_conflicts);
}

/**
 * The running sync after `event` (none once it finished), whether `event` finished a sync
 * that changed something, and whether it finished one that reached the server. `shown`: the
 * status the app showed when the event came, which is what a sync is compared with when it
 * starts (the engine says it started again as its push begins, and after a server restore
 * again midway: the first start counts).
 */
export function nextSync(
  running: RunningSync | null,
  event: SyncEvent,
  shown: SyncStatusView | null,
): { running: RunningSync | null; changed: boolean; reached: boolean } {
  const started = running ?? { before: counts(shown), moved: false };
  switch (event.event) {
    case 'started':
      return { running: started, changed: false, reached: false };
    case 'pushed':
      return { running: { ...started, moved: started.moved || event.count > 0 }, changed: false, reached: false };
    case 'pulled':
      return { running: { ...started, moved: started.moved || event.count > 0 || event.purged > 0 }, changed: false, reached: false };
    case 'finished':
      // A team lead's conflicts are mirrored from the server: one closed by another lead and
      // another opened change no count, so the shell says whether they changed.
      return {
        running: null,
        changed: started.moved || event.conflicts_changed || differ(started.before, event.status),
        reached: event.status.online === true,
      };
  }
}

// How many syncs have changed something, and how many reached the server, since the app
// started; screens watch them.
const syncs = $state({ changed: 0, reached: 0 });
let running: RunningSync | null = null;

/** Hears one event of the sync (App, from `watchSync`), before the status it brings is shown. */
export function heardSync(event: SyncEvent, shown: SyncStatusView | null): void {
  const next = nextSync(running, event, shown);
  running = next.running;
  if (next.changed) syncs.changed += 1;
  if (next.reached) syncs.reached += 1;
}

/** Whether a read that failed with `error` may succeed after a sync: not a refusal of what was
 * asked (a period that ends before it starts, a screen the user's role may not read). */
export function worthRetrying(error: unknown): boolean {
  const kind = toAppError(error).kind;
  return kind !== 'validation' && kind !== 'not_allowed';
}

/**
 * Calls `reread` each time a sync that changed something finishes while the calling
 * component is mounted (not for the syncs before it), and `retry` (if given) after one that
 * changed nothing but reached the server: a read the user saw fail for want of the server
 * may succeed now. Call it as the component initialises. Both run untracked: the state they
 * read (a search, a choice) does not call them again. They should read quietly: keep what is
 * shown until the new answer is there, and on a failure keep it, since the user did not ask
 * for this read.
 */
export function rereadAfterSync(reread: () => void, retry?: () => void): void {
  let seen = untrack(() => ({ ...syncs }));
  $effect(() => {
    const now = { changed: syncs.changed, reached: syncs.reached };
    const changed = now.changed !== seen.changed;
    const reached = now.reached !== seen.reached;
    seen = now;
    if (changed) untrack(reread);
    else if (reached && retry) untrack(retry);
  });
}
