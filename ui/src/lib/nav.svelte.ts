// Which screen is shown. A tiny state machine instead of a router: the app has no URLs.
import type { ClientSummary } from '../ipc';

export type Screen =
  // `registering`: with the quick registration open (a draft of it is given back there);
  // `week`: listing the coach's contacts of the last seven days, not only today's.
  | { name: 'today'; registering?: true; week?: true }
  // `edit`: with the edit form open; `field`: the field to correct, focused in it.
  | { name: 'client'; clientId: string; edit?: boolean; field?: string }
  // A new contact for `client` (none: an anonymous visitor), or with `contactId` the
  // correction of a contact logged before (`field`: the one to correct, focused).
  | { name: 'contact'; client: ClientSummary | null; returnTo: Screen; contactId?: string; field?: string }
  | { name: 'follow_ups' }
  | { name: 'unsynced' }
  | { name: 'reports' }
  | { name: 'audit'; recordId?: string }
  | { name: 'settings' };

// `notice`: what the last action did, shown above the screen; `undo`: how to take it back,
// offered beside the notice (a deleted contact), until the next navigation.
export const nav = $state<{ screen: Screen; notice: string | null; undo: (() => Promise<void>) | null }>({
  screen: { name: 'today' },
  notice: null,
  undo: null,
});

// A form with unsaved changes holds navigation away from it, and the closing of the window:
// it asks the user first (or keeps the values elsewhere), and runs `proceed` only once they
// may be left. `keepNotice`: the notice shown stays (the form's save that the navigation
// waited for said what it did), unless the navigation brings its own.
export type Leaving = 'navigate' | 'close';
type Hold = (proceed: (keepNotice?: boolean) => void, leaving: Leaving) => boolean;
let hold: Hold | null = null;

/**
 * While a hold is set, `go` and `requestClose` ask it first; the hold returns true when it
 * keeps the user where they are (it asks, and calls `proceed` to go on). Returns the release.
 */
export function holdNavigation(next: Hold): () => void {
  hold = next;
  return () => {
    if (hold === next) hold = null;
  };
}

/**
 * Shows `screen`, with a notice and, for it, an undo. The screen is mounted afresh, so that it
 * reads again, unless it is the one shown, no notice comes with it and no form on it asked to
 * be left (choosing the current screen in the navigation keeps what is typed on it; a form
 * left without saving goes, even one on the screen chosen, as the registration on Today).
 */
export function go(screen: Screen, notice: string | null = null, undo: (() => Promise<void>) | null = null): void {
  const proceed = (left = false, keepNotice = false) => {
    if (left || notice || JSON.stringify(screen) !== JSON.stringify(nav.screen)) nav.screen = screen;
    if (keepNotice && !notice) return;
    nav.notice = notice;
    nav.undo = notice ? undo : null;
  };
  if (!hold?.((keepNotice = false) => proceed(true, keepNotice), 'navigate')) proceed();
}

/** The window is to close (a close request the shell held): asks the hold as `go` does. */
export function requestClose(close: () => void): void {
  if (!hold?.(close, 'close')) close();
}

/** The display name of a client: given and family name. */
export function clientName(client: Pick<ClientSummary, 'given_name' | 'family_name'>): string {
  return [client.given_name, client.family_name].filter(Boolean).join(' ');
}
