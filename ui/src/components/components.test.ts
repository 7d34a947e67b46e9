import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { setLocale } from '../i18n/index.svelte';
import { CLIENT_FIELDS } from '../ipc';
import { answerCommands, offlineStatus, updateOffered } from '../test/commands';
import { AppError } from '../lib/errors';
import Chips from './Chips.svelte';
import ErrorNotice from './ErrorNotice.svelte';
import FieldControl from './FieldControl.svelte';
import LanguagePicker from './LanguagePicker.svelte';
import SyncBar from './SyncBar.svelte';
import UpdatePanel from './UpdatePanel.svelte';

setLocale('en');

describe('Chips', () => {
  it('toggles a chip with a click and reports it as pressed', async () => {
    render(Chips, { id: 'topics', label: 'Topics', options: ['housing', 'health'], selected: [], labelOf: (v: string) => v.toUpperCase() });
    const housing = screen.getByRole('button', { name: 'HOUSING' });
    expect(housing.getAttribute('aria-pressed')).toBe('false');
    await fireEvent.click(housing);
    expect(housing.getAttribute('aria-pressed')).toBe('true');
    expect(screen.getByRole('group', { name: 'Topics' })).toBeTruthy();
  });
});

describe('FieldControl', () => {
  it('shows a validation message next to its field and links it to the control', () => {
    const field = CLIENT_FIELDS.find((f) => f.name === 'birth_year')!;
    render(FieldControl, { entity: 'client', field, value: 1850, error: 'must be a year from 1900 to 2026' });
    const input = screen.getByLabelText('Year of birth');
    expect(input.getAttribute('aria-invalid')).toBe('true');
    const message = document.getElementById(input.getAttribute('aria-describedby')!);
    expect(message?.textContent).toBe('must be a year from 1900 to 2026');
  });

  it('offers an enumeration in the interface language', () => {
    const field = CLIENT_FIELDS.find((f) => f.name === 'gender')!;
    render(FieldControl, { entity: 'client', field, value: 'non_binary' });
    const select = screen.getByLabelText('Gender') as HTMLSelectElement;
    expect(select.value).toBe('non_binary');
    expect([...select.options].map((o) => o.text)).toContain('Non-binary');
  });
});

describe('LanguagePicker', () => {
  it('finds a language by its name and picks it with Enter', async () => {
    render(LanguagePicker, { id: 'lang', label: 'Service language', value: [] });
    const input = screen.getByLabelText('Service language');
    await fireEvent.input(input, { target: { value: 'soma' } });
    expect(screen.getByRole('button', { name: /Somali/ })).toBeTruthy();
    await fireEvent.keyDown(input, { key: 'Enter' });
    expect(screen.getByRole('button', { name: 'Remove Somali' })).toBeTruthy();
  });
});

describe('SyncBar', () => {
  it('says offline, how many changes wait, and offers Sync now', async () => {
    let synced = 0;
    render(SyncBar, { status: offlineStatus, onsyncnow: () => synced++, onopenunsynced: () => {} });
    expect(screen.getByTestId('sync-state').textContent).toBe('Offline');
    expect(screen.getByTestId('pending-count').textContent?.trim()).toBe('12 changes waiting');
    expect(screen.getByText(/server cannot be reached/)).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Sync now' }));
    expect(synced).toBe(1);
  });

  it('counts conflicts and refused changes apart, and opens the Unsynced screen', async () => {
    let opened = 0;
    const both = { ...offlineStatus, open_conflicts: 1, rejected_count: 2 };
    const { unmount } = render(SyncBar, { status: both, onsyncnow: () => {}, onopenunsynced: () => opened++ });
    const link = screen.getByRole('button', { name: '1 conflict, 2 refused' });
    await fireEvent.click(link);
    expect(opened).toBe(1);
    unmount();
    render(SyncBar, { status: { ...both, open_conflicts: 0 }, onsyncnow: () => {}, onopenunsynced: () => {} });
    expect(screen.getByRole('button', { name: '2 refused' })).toBeTruthy();
  });

  it('says why the last sync failed while the server is reachable, and nothing of it once one succeeded', () => {
    const failed = {
      ...offlineStatus,
      online: true,
      last_error: { kind: 'disk_full' as const, message: 'The disk holding the local store is full.' },
    };
    const { unmount } = render(SyncBar, { status: failed, onsyncnow: () => {}, onopenunsynced: () => {} });
    expect(screen.getByTestId('sync-state').textContent).toBe('Online');
    const error = screen.getByText(/disk of this laptop is full/);
    expect(error.getAttribute('title')).toBe('The disk holding the local store is full.');
    unmount();
    render(SyncBar, { status: { ...failed, last_error: null }, onsyncnow: () => {}, onopenunsynced: () => {} });
    expect(document.querySelector('.sync-error')).toBeNull();
  });

  it('says when a failed sync is tried again, in the user’s language, and never in the past', () => {
    const inTwoMinutes = new Date(Date.now() + 120_000).toISOString();
    const waiting = { ...offlineStatus, next_attempt_at: inTwoMinutes };
    const { unmount } = render(SyncBar, { status: waiting, onsyncnow: () => {}, onopenunsynced: () => {} });
    expect(screen.getByTestId('next-attempt').textContent).toBe('Trying again in 2 minutes');
    unmount();
    setLocale('fi');
    const finnish = render(SyncBar, { status: waiting, onsyncnow: () => {}, onopenunsynced: () => {} });
    expect(screen.getByTestId('next-attempt').textContent).toBe('Uusi yritys 2 minuutin päästä');
    finnish.unmount();
    setLocale('en');
    const due = { ...offlineStatus, next_attempt_at: new Date(Date.now() - 3_000).toISOString() };
    const overdue = render(SyncBar, { status: due, onsyncnow: () => {}, onopenunsynced: () => {} });
    expect(screen.getByTestId('next-attempt').textContent).toBe('Trying again now');
    overdue.unmount();
    render(SyncBar, { status: { ...waiting, syncing: true }, onsyncnow: () => {}, onopenunsynced: () => {} });
    expect(screen.queryByTestId('next-attempt')).toBeNull();
  });

  it('keeps the last failure out of the way while a sync runs', () => {
    render(SyncBar, { status: { ...offlineStatus, online: true, syncing: true }, onsyncnow: () => {}, onopenunsynced: () => {} });
    expect(document.querySelector('.sync-error')).toBeNull();
  });

  it('shows how far a running sync has come, and nothing of it once the sync ended', () => {
    const syncing = { ...offlineStatus, online: true, syncing: true, last_error: null };
    const { unmount } = render(SyncBar, { status: syncing, progress: { received: 12500, percent: 42 }, onsyncnow: () => {}, onopenunsynced: () => {} });
    expect(screen.getByTestId('sync-progress').textContent?.trim()).toBe('Receiving the team’s changes: 42%');
    expect((document.querySelector('.sync-progress progress') as HTMLProgressElement).value).toBe(42);
    expect((screen.getByRole('button', { name: 'Sync now' }) as HTMLButtonElement).disabled).toBe(true);
    unmount();
    // A server that does not say where the pull ends: the count so far, in the user's language.
    setLocale('fi');
    const older = render(SyncBar, { status: syncing, progress: { received: 12500, percent: null }, onsyncnow: () => {}, onopenunsynced: () => {} });
    expect(screen.getByTestId('sync-progress').textContent?.trim()).toMatch(/^Vastaanotetaan tiimin muutoksia: 12\s500 tähän mennessä$/);
    expect(document.querySelector('.sync-progress progress')).toBeNull();
    older.unmount();
    setLocale('en');
    render(SyncBar, { status: { ...syncing, syncing: false }, progress: { received: 12500, percent: 42 }, onsyncnow: () => {}, onopenunsynced: () => {} });
    expect(screen.queryByTestId('sync-progress')).toBeNull();
  });
});

describe('ErrorNotice', () => {
  it('explains an invalid provisioning file in the user’s language and keeps the key in the details', () => {
    const detail =
      'The provisioning file /etc/tandem/config.toml is invalid: key `lock_after_minutes`: must be from 1 to 1440 minutes (got 0). Ask IT to correct it.';
    const error = new AppError('invalid_provisioning', detail, 'lock_after_minutes');
    setLocale('fi');
    const { unmount } = render(ErrorNotice, { error });
    expect(screen.getByRole('alert').textContent).toContain('IT-tuen tälle koneelle asentamat asetukset ovat virheelliset');
    expect(screen.getByText(detail)).toBeTruthy();
    unmount();
    setLocale('en');
    render(ErrorNotice, { error });
    expect(screen.getByRole('alert').textContent).toContain('The configuration IT installed on this laptop is invalid');
  });
});

describe('UpdatePanel', () => {
  it('says updates are IT’s when the provisioning file leaves them off, and offers no check', () => {
    render(UpdatePanel, { update: { ...updateOffered, state: 'off', endpoint: null, available_version: null, notes: null, last_checked_at: null } });
    expect(screen.getByText(/managed by your organisation’s IT and are off/)).toBeTruthy();
    expect(screen.queryByRole('button')).toBeNull();
  });

  it('offers the newer version and installs it on request', async () => {
    const invoke = answerCommands({ install_update: () => null, check_for_update: () => updateOffered });
    render(UpdatePanel, { update: updateOffered });
    expect(screen.getByTestId('update-state').textContent?.trim()).toBe('Tandem 0.2.0 is available.');
    expect(screen.getByText('Faster search.')).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Install and restart' }));
    expect(invoke).toHaveBeenCalledWith('install_update', undefined);
    await fireEvent.click(screen.getByRole('button', { name: 'Check for updates' }));
    expect(invoke).toHaveBeenCalledWith('check_for_update', undefined);
  });

  it('tells the user to tell IT when a package does not verify, keeping the detail', () => {
    const detail = 'Failed to verify signature of the update';
    render(UpdatePanel, { update: { ...updateOffered, state: 'failed', error: { kind: 'update_unverified', message: detail, field: null } } });
    expect(screen.getByRole('alert').textContent).toContain('not signed with your organisation’s key');
    expect(screen.getByText(detail)).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Install and restart' })).toBeNull();
  });

  it('shows the compact notice above screens only while an update is offered', () => {
    const { unmount } = render(UpdatePanel, { update: { ...updateOffered, state: 'up_to_date', available_version: null }, compact: true });
    expect(screen.queryByTestId('update-notice')).toBeNull();
    unmount();
    render(UpdatePanel, { update: updateOffered, compact: true });
    expect(screen.getByTestId('update-notice').textContent).toContain('Tandem 0.2.0 is available.');
  });
});
