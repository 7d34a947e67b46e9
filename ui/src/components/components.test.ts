import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { setLocale } from '../i18n/index.svelte';
import { CLIENT_FIELDS } from '../ipc';
import { offlineStatus } from '../test/commands';
import { AppError } from '../lib/errors';
import Chips from './Chips.svelte';
import ErrorNotice from './ErrorNotice.svelte';
import FieldControl from './FieldControl.svelte';
import LanguagePicker from './LanguagePicker.svelte';
import SyncBar from './SyncBar.svelte';

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
