import { describe, expect, it } from 'vitest';
import { go, holdNavigation, nav } from './nav.svelte';

describe('navigation', () => {
  it('choosing the screen shown keeps it mounted; a notice, or another screen, mounts afresh', () => {
    go({ name: 'unsynced' });
    const shown = nav.screen;
    go({ name: 'unsynced' });
    expect(nav.screen).toBe(shown);
    go({ name: 'unsynced' }, 'Conflict resolved.');
    expect(nav.screen).not.toBe(shown);
    expect(nav.notice).toBe('Conflict resolved.');
    const withNotice = nav.screen;
    go({ name: 'unsynced' });
    expect(nav.screen).toBe(withNotice);
    expect(nav.notice).toBeNull();
    go({ name: 'client', clientId: 'c1' });
    expect(nav.screen).toEqual({ name: 'client', clientId: 'c1' });
  });

  it('a hold keeps the user where they are until it lets them go, and only its own release clears it', () => {
    go({ name: 'today' });
    let waiting: (() => void) | null = null;
    const release = holdNavigation((proceed) => {
      waiting = proceed;
      return true;
    });
    go({ name: 'follow_ups' }, 'notice', async () => {});
    expect(nav.screen.name).toBe('today');
    waiting!();
    expect(nav.screen.name).toBe('follow_ups');
    expect(nav.undo).not.toBeNull();

    const releaseNext = holdNavigation(() => true);
    release(); // an older hold's release leaves the newer one
    go({ name: 'today' });
    expect(nav.screen.name).toBe('follow_ups');
    releaseNext();
    go({ name: 'today' });
    expect(nav.screen.name).toBe('today');
  });

  it('a form left without saving goes even when the screen chosen is the one shown', () => {
    go({ name: 'today' });
    const shown = nav.screen;
    const release = holdNavigation((proceed) => {
      proceed(); // "Leave without saving"
      return true;
    });
    go({ name: 'today' });
    release();
    // Mounted afresh: the registration open on Today is gone with what it held.
    expect(nav.screen).not.toBe(shown);
    expect(nav.screen).toEqual({ name: 'today' });
  });
});
