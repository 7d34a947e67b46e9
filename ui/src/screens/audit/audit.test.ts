// The audit log viewer against mocked command answers: the first page on opening, paging with
// the server's cursor, the record filter (and its validation error next to the input),
// translated actions, the offline error, and the nav entry for team leads and admins only.
import { fireEvent, render, screen } from '@testing-library/svelte';
import axe from 'axe-core';
import { tick } from 'svelte';
import { describe, expect, it } from 'vitest';
import App from '../../App.svelte';
import type { AuditEntryView, AuditPageView, AuditRequest } from '../../ipc';
import { setLocale } from '../../i18n/index.svelte';
import { amina, answerCommands, offlineStatus, session } from '../../test/commands';
import Audit from './Audit.svelte';

const actor = 'user:u-coach1 device:d-laptop3';
const entry = (seq: number, action: string, recordId: string | null = amina.id): AuditEntryView => ({
  seq, at: '2026-11-27T10:00:00Z', actor, action, entity: recordId ? 'client' : null, record_id: recordId, detail: `fields=given_name seq=${seq}`,
});

const firstPage: AuditPageView = { entries: [entry(1, 'login', null), entry(2, 'change')], next: 2, has_more: true };
const secondPage: AuditPageView = { entries: [entry(3, 'export'), entry(4, 'erase')], next: 4, has_more: false };

async function settle() {
  for (let i = 0; i < 5; i++) {
    await tick();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

const settings = { language: 'en', lock_after_minutes: 10, server_url: null, server_provisioned: false, organisation: null, data_dir: '/tmp' };

function answers(auditLog: (request: AuditRequest) => AuditPageView) {
  return answerCommands({
    audit_log: (args) => auditLog(args?.request as AuditRequest),
    team_devices: () => ({
      stale_after_days: 7,
      devices: [{ id: 'd-laptop3', name: 'Laptop 3', username: 'coach1', user_id: 'u-coach1', app_version: '0.1.0', pending_count: 0, last_sync_at: null, days_since_sync: null, at_risk: false }],
    }),
    session_state: () => ({ ...session, role: 'team_lead' }),
    sync_status: () => offlineStatus,
    get_settings: () => settings,
    watch_sync: () => null,
    recent_clients: () => [],
    contacts_logged: () => ({ items: [], more: false }),
  });
}

const rows = (container: Element) =>
  [...container.querySelectorAll('tbody tr')].map((row) => `${row.getAttribute('data-seq')} ${row.getAttribute('data-action')}`);

setLocale('en');

describe('audit log', () => {
  it('shows the first page with translated actions and pages on with the server’s cursor', async () => {
    const invoke = answers((request) => (request.after === 0 ? firstPage : secondPage));
    const { container } = render(Audit);
    await settle();
    expect(invoke).toHaveBeenCalledWith('audit_log', { request: { after: 0, record_id: null } });
    expect(rows(container)).toEqual(['1 login', '2 change']);
    expect(screen.getByRole('cell', { name: 'Signed in' })).toBeTruthy();
    expect(screen.getByRole('cell', { name: `client ${amina.id}` })).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Load more' }));
    await settle();
    expect(invoke).toHaveBeenLastCalledWith('audit_log', { request: { after: 2, record_id: null } });
    expect(rows(container)).toEqual(['1 login', '2 change', '3 export', '4 erase']);
    expect(screen.getByRole('cell', { name: 'Erased' })).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Load more' })).toBeNull();
    expect(screen.getByText('No more entries.')).toBeTruthy();
  });

  it('names the duplicate actions in every language: merge, its undo and a dismissed pair', async () => {
    const names = {
      en: ['Merged duplicates', 'Undid a merge', 'Marked not the same person'],
      fi: ['Yhdisti kaksoiskappaleet', 'Perui yhdistämisen', 'Merkitsi eri henkilöiksi'],
      sv: ['Slog ihop dubbletter', 'Ångrade en sammanslagning', 'Markerade som olika personer'],
    } as const;
    try {
      for (const [locale, expected] of Object.entries(names)) {
        setLocale(locale as keyof typeof names);
        answers(() => ({ entries: [entry(1, 'merge'), entry(2, 'undo_merge'), entry(3, 'dismiss_duplicate')], next: 3, has_more: false }));
        const { container, unmount } = render(Audit);
        await settle();
        expect(rows(container)).toEqual(['1 merge', '2 undo_merge', '3 dismiss_duplicate']);
        const shown = [...container.querySelectorAll('tbody tr td:nth-child(4)')].map((cell) => cell.textContent?.trim());
        expect(shown, locale).toEqual(expected);
        unmount();
      }
    } finally {
      setLocale('en');
    }
  });

  it('names the user and laptop behind an actor, and the operator', async () => {
    answers(() => ({ entries: [entry(1, 'change'), { ...entry(2, 'erase'), actor: 'operator' }, { ...entry(3, 'read'), actor: 'user:u-gone device:d-gone' }], next: 3, has_more: false }));
    const { container } = render(Audit);
    await settle();
    const who = [...container.querySelectorAll('tbody tr td:nth-child(3)')].map((cell) => cell.textContent);
    expect(who).toEqual(['coach1 (Laptop 3)', 'Server operator', 'u-gone (d-gone)']);
    expect(container.querySelector('tbody tr td:nth-child(3)')!.getAttribute('title')).toBe(actor);
  });

  it('filters by a record, starting again from the first entry', async () => {
    const invoke = answers((request) => (request.record_id ? { entries: [entry(9, 'export')], next: 9, has_more: false } : firstPage));
    const { container } = render(Audit);
    await settle();
    await fireEvent.input(screen.getByLabelText('Record id'), { target: { value: ` ${amina.id} ` } });
    await fireEvent.click(screen.getByRole('button', { name: 'Show' }));
    await settle();
    expect(invoke).toHaveBeenLastCalledWith('audit_log', { request: { after: 0, record_id: amina.id } });
    expect(rows(container)).toEqual(['9 export']);
  });

  it('opened from a client, shows that client’s entries', async () => {
    const invoke = answers(() => secondPage);
    render(Audit, { recordId: amina.id });
    await settle();
    expect(invoke).toHaveBeenCalledWith('audit_log', { request: { after: 0, record_id: amina.id } });
    expect((screen.getByLabelText('Record id') as HTMLInputElement).value).toBe(amina.id);
  });

  it('shows a malformed record id next to the input', async () => {
    answers(() => {
      throw { kind: 'validation', message: 'invalid character: expected a UUID', field: 'record_id' };
    });
    render(Audit, { recordId: '1234' });
    await settle();
    const input = screen.getByLabelText('Record id');
    expect(input.getAttribute('aria-invalid')).toBe('true');
    expect(document.getElementById('audit-record-error')!.textContent).toBe('invalid character: expected a UUID');
    expect(input.getAttribute('aria-describedby')).toContain('audit-record-error');
  });

  it('offline, says it needs a connection', async () => {
    answers(() => {
      throw { kind: 'needs_connection', message: 'server http://127.0.0.1:9 unreachable', field: null };
    });
    render(Audit);
    await settle();
    expect(screen.getByRole('alert').textContent).toContain('This needs a connection to the server.');
    expect(screen.queryByRole('table')).toBeNull();
  });

  it('has no serious or critical axe violations with entries shown', async () => {
    answers(() => firstPage);
    const { container } = render(Audit);
    await settle();
    const results = await axe.run(container, { rules: { 'color-contrast': { enabled: false } } });
    const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.html).join(' | ')}`)).toEqual([]);
  });

  it('is in the navigation of team leads and admins only', async () => {
    for (const [role, shown] of [['coach', false], ['team_lead', true], ['admin', true]] as const) {
      answerCommands({
        audit_log: () => firstPage,
        session_state: () => ({ ...session, role }),
        sync_status: () => offlineStatus,
        get_settings: () => settings,
        watch_sync: () => null,
        recent_clients: () => [],
        contacts_logged: () => ({ items: [], more: false }),
      });
      const app = render(App);
      await settle();
      const item = app.container.querySelector('[data-nav="audit"]') as HTMLElement | null;
      expect(item !== null, role).toBe(shown);
      if (item) {
        expect(item.textContent?.trim()).toBe('Audit log');
        await fireEvent.click(item);
        await settle();
        expect(screen.getByRole('heading', { name: 'Audit log', level: 1 })).toBeTruthy();
      }
      app.unmount();
    }
  });
});
