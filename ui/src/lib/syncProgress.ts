// The sync bar's progress: what the running sync has received, from the backend's events.
import type { SyncEvent } from '../ipc';

/** How far the running sync's pull has come. */
export interface PullProgress {
  /** Changes received so far in this sync. */
  received: number;
  /** 0 to 100, or null when the server does not say where the pull ends. */
  percent: number | null;
}

/** The progress after `event`: cleared when a sync starts or ends, moved on by each page. */
export function nextProgress(progress: PullProgress | null, event: SyncEvent): PullProgress | null {
  switch (event.event) {
    case 'pulled':
      return { received: event.received, percent: event.percent };
    case 'pushed':
      return progress;
    case 'started':
    case 'finished':
      return null;
  }
}
