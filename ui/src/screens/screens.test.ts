// Every screen rendered against mocked command answers: keyboard flows, and an axe-core check
// for serious or critical accessibility violations (colour contrast cannot be computed in
// jsdom; it is checked by the palette in app.css and in the E2E screenshots).
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import axe from 'axe-core';
import { tick } from 'svelte';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import App from '../App.svelte';
import { setLocale } from '../i18n/index.svelte';
import { keepOpenDraft } from '../lib/drafts';
import { clientName, go, nav, type Screen } from '../lib/nav.svelte';
import type { AuditEntryView, AuditPageView, AuditRequest, ReportView, SyncEvent } from '../ipc';
import { amina, aminaDetail, answerCommands, later, offlineStatus, session, sitesView, updateOffered } from '../test/commands';
import ClientForm from './client/ClientForm.svelte';
import ClientProfile from './client/ClientProfile.svelte';
import ContactForm from './contact/ContactForm.svelte';
import FollowUps from './followups/FollowUps.svelte';
import Settings from './settings/Settings.svelte';
import SignIn from './signin/SignIn.svelte';
import Today from './today/Today.svelte';
import Unsynced from './unsynced/Unsynced.svelte';
import Reports from './reports/Reports.svelte';
import Audit from './audit/Audit.svelte';

/** What the Unsynced screen shows: a coach sees a conflict without its values; a team lead
 * sees the team's conflicts with every value, the decided ones, and the team's laptops. */
function unsyncedView(teamLead: boolean) {
  const openConflict = {
    id: 7, entity: 'client', record_id: amina.id, record_label: 'Amina Warsame', field: 'phone', policy: 'review', status: 'open',
    base_value: '+358401111111', current_value: '+358401234567', clock_skew: true,
    created_at: '2026-11-26T09:33:00Z', resolved_at: null, can_resolve: teamLead,
    candidates: teamLead
      ? [
          { value: '+358401234567', author: 'a1b2c3d4', author_id: 'u-coach1', written_at: '2026-11-26T09:30:00Z', from_this_device: false, standing: true },
          { value: '+358409999999', author: 'e5f6a7b8', author_id: 'u-coach2', written_at: '2026-11-26T09:32:00Z', from_this_device: false, standing: false },
        ]
      : [],
  };
  const autoResolved = {
    ...openConflict, id: 5, field: 'nickname', policy: 'lww', status: 'auto_resolved', base_value: null, current_value: 'Ami',
    clock_skew: false, can_resolve: false,
    candidates: [
      { value: 'Ami', author: 'a1b2c3d4', author_id: 'u-coach1', written_at: '2026-11-25T09:30:00Z', from_this_device: false, standing: true },
      { value: 'Mina', author: 'e5f6a7b8', author_id: 'u-coach2', written_at: '2026-11-25T09:20:00Z', from_this_device: false, standing: false },
    ],
  };
  return {
    pending: [
      { change_id: 'p1', entity: 'client', record_id: amina.id, record_label: 'Amina Warsame', field: 'phone', value: '+358401234567', created_at: '2026-11-26T09:30:00Z', author_id: 'u-coach1', author: 'coach1' },
      { change_id: 'p2', entity: 'contact', record_id: 'c9', record_label: '2026-11-26 09:30', field: 'coach_id', value: 'u-coach1', created_at: '2026-11-26T09:30:00Z', author_id: 'u-coach1', author: 'coach1' },
      { change_id: 'p3', entity: 'contact', record_id: 'c9', record_label: '2026-11-26 09:30', field: 'site', value: 'site-old', created_at: '2026-11-26T09:30:00Z', author_id: 'u-coach1', author: 'coach1' },
    ],
    rejected: [{ change_id: 'r1', entity: 'client', record_id: amina.id, record_label: 'Amina Warsame', field: 'email', value: 'x@', reason: 'email: `x@` has no domain', reason_code: 'invalid_value', rejected_at: '2026-11-26T09:31:00Z', author_id: 'u-coach1', author: 'coach1' }],
    conflicts: [openConflict],
    closed_conflicts: teamLead ? [autoResolved] : [],
    team_lead: teamLead,
    user_names: { 'u-coach1': 'coach1' },
  };
}

const teamDevices = {
  stale_after_days: 7,
  devices: [
    { id: 'd1', name: 'Laptop 7', username: 'coach2', user_id: 'u-coach2', app_version: '0.1.0', pending_count: 14, last_sync_at: '2026-11-10T08:00:00Z', days_since_sync: 16, at_risk: true },
    { id: 'd2', name: 'Laptop 3', username: 'coach1', user_id: 'u-coach1', app_version: '0.1.0', pending_count: 0, last_sync_at: '2026-11-26T08:00:00Z', days_since_sync: 0, at_risk: false },
  ],
};

/** Two registrations of one person (Cyrillic and Latin), and a merge that can be undone. */
const olga = '0190f0c4-8d5e-7c3a-9f1e-0000000000d1';
const olha = '0190f0c4-8d5e-7c3a-9f1e-0000000000d2';
const duplicatesView = {
  candidates: [
    {
      first: { id: olga, fields: { given_name: 'Olga', family_name: 'Ivanova', birth_year: 1972, phone: '+358401234567' }, contact_count: 3 },
      second: { id: olha, fields: { given_name: 'Ольга', family_name: 'Иванова', birth_year: 1972, phone: null }, contact_count: 1 },
      reasons: ['same_birth_year_and_name'],
      score: 1,
      differing_fields: ['family_name', 'given_name', 'phone'],
    },
  ],
  merges: [
    { id: 'm1', survivor_id: olga, survivor_label: 'Amina Warsame', duplicate_id: olha, duplicate_label: 'Amina W.', contact_count: 2, merged_at: '2026-11-26T09:00:00Z', undone_at: null },
  ],
};

const settingsView = {
  language: 'en',
  lock_after_minutes: 10,
  server_url: 'http://127.0.0.1:8080',
  server_provisioned: false,
  organisation: 'demo',
  data_dir: '/home/coach/.local/share/tandem',
};

function answers(overrides: Parameters<typeof answerCommands>[0] = {}) {
  return answerCommands({
    recent_clients: () => [amina],
    contacts_logged: () => ({ items: [], more: false }),
    search_clients: (args) => (String(args?.query).toLowerCase().startsWith('ami') ? [amina] : []),
    get_client: () => aminaDetail,
    create_contact: () => ({ id: 'new-contact' }),
    sites: () => sitesView,
    user_names: () => ({ names: { 'u-coach1': 'coach1', 'u-coach2': 'coach2' } }),
    create_client: () => ({ id: 'new-client' }),
    follow_ups_due: () => ({
      overdue: { items: [{ contact: aminaDetail.contacts[0], client: amina }], total: 1 },
      today: { items: [], total: 0 },
      this_week: { items: [{ contact: { ...aminaDetail.contacts[0], id: 'c2', client_id: null }, client: null }], total: 1 },
    }),
    unsynced: () => unsyncedView(false),
    resolve_conflict: () => ({ ...unsyncedView(true), conflicts: [] }),
    revert_auto_resolved: () => unsyncedView(true),
    team_devices: () => teamDevices,
    duplicates: () => duplicatesView,
    merge_duplicate: () => ({ ...duplicatesView, candidates: [] }),
    undo_duplicate_merge: () => duplicatesView,
    dismiss_duplicate: () => ({ ...duplicatesView, candidates: [] }),
    get_settings: () => settingsView,
    set_settings: (args) => ({ ...settingsView, language: (args?.input as { language: string }).language }),
    session_state: () => session,
    sync_status: () => offlineStatus,
    watch_sync: () => null,
    update_status: () => updateOffered,
    watch_updates: () => null,
    lock: () => ({ ...session, unlocked: false }),
    hold_close: () => null,
    watch_close_requests: () => null,
    close_request_heard: () => null,
    close_window: () => null,
    audit_log: () => ({
      entries: [{ seq: 1, at: '2026-11-27T10:00:00Z', actor: 'operator', action: 'erase', entity: 'client', record_id: amina.id, detail: 'records=1' }],
      next: 1,
      has_more: true,
    }),
    ...overrides,
  });
}

async function seriousViolations(container: Element) {
  const results = await axe.run(container, {
    rules: { 'color-contrast': { enabled: false } },
  });
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.html).join(' | ')}`);
}

async function settle() {
  for (let i = 0; i < 5; i++) {
    await tick();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

setLocale('en');

describe('screens', () => {
  const cases: [string, () => { container: Element }][] = [
    ['Today', () => render(Today)],
    ['Client profile', () => render(ClientProfile, { clientId: amina.id })],
    ['Client edit form', () => render(ClientForm, { detail: aminaDetail, draftOf: amina.id, oncancel: () => {}, onsaved: () => {} })],
    ['Contact form', () => render(ContactForm, { client: amina, returnTo: { name: 'today' } })],
    ['Follow-ups', () => render(FollowUps)],
    ['Unsynced & conflicts', () => render(Unsynced)],
    ['Review (team lead)', () => {
      answers({ unsynced: () => unsyncedView(true) });
      return render(Unsynced);
    }],
    ['Settings', () => render(Settings)],
    ['Settings (update offered)', () => render(Settings, { update: updateOffered })],
    ['Reports', () => render(Reports)],
    ['Audit log', () => render(Audit)],
    ['Client profile (team lead)', () => render(ClientProfile, { clientId: amina.id, role: 'team_lead' })],
    ['Sign in', () => render(SignIn, { session: { ...session, signed_in: false, unlocked: false }, onsignedin: () => {} })],
    ['Sign in (provisioned server)', () => render(SignIn, { session: { ...session, signed_in: false, unlocked: false }, defaultServer: 'https://tandem.vantaa.fi', serverProvisioned: true, onsignedin: () => {} })],
    ['Unlock', () => render(SignIn, { session: { ...session, unlocked: false }, onsignedin: () => {} })],
    ['App frame', () => render(App)],
  ];
  for (const [name, mount] of cases) {
    it(`${name} has no serious or critical axe violations`, async () => {
      answers();
      const { container } = mount();
      await settle();
      expect(await seriousViolations(container)).toEqual([]);
    });
  }
});

it('an update offer has its own row between the screen and the sync bar, so nothing on the screen moves', async () => {
  answers();
  const { container } = render(App);
  await settle();
  const notice = screen.getByTestId('update-notice');
  expect(container.querySelector('main [data-testid="update-notice"]')).toBeNull();
  expect(notice.previousElementSibling?.tagName).toBe('MAIN');
  expect(notice.nextElementSibling?.classList.contains('sync-bar')).toBe(true);
});

it('the question before leaving unsaved changes has no serious or critical axe violations', async () => {
  answers();
  const { container } = render(ContactForm, { client: amina, returnTo: { name: 'today' } });
  await settle();
  await fireEvent.click(screen.getByRole('button', { name: 'Housing' }));
  await fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
  await settle();
  expect(screen.getByRole('group', { name: /^Leave without saving\?/ })).toBeTruthy();
  expect(await seriousViolations(container)).toEqual([]);
});

it('the erase confirmation on a client has no serious or critical axe violations', async () => {
  answers();
  const { container } = render(ClientProfile, { clientId: amina.id, role: 'team_lead' });
  await settle();
  await fireEvent.click(screen.getByRole('button', { name: 'Erase client…' }));
  expect(await seriousViolations(container)).toEqual([]);
});

it('the client profile names where each contact happened and whose it was', async () => {
  answers();
  const { container } = render(ClientProfile, { clientId: amina.id });
  await settle();
  const timeline = container.querySelector('.timeline')?.textContent;
  expect(timeline).toContain('Myyrmäki library drop-in');
  expect(timeline).toContain('Coach coach1');
  expect(timeline).not.toContain('u-coach1');
});

describe('follow-ups', () => {
  it('a group counts all its follow-ups and says when it lists only some', async () => {
    const item = (n: number) => ({ contact: { ...aminaDetail.contacts[0], id: `c${n}` }, client: amina });
    answers({
      follow_ups_due: () => ({
        overdue: { items: [1, 2, 3].map(item), total: 1234 },
        today: { items: [item(4)], total: 1 },
        this_week: { items: [5, 6].map(item), total: 300 },
      }),
    });
    render(FollowUps);
    await settle();
    const group = (key: string) => document.querySelector(`[data-group="${key}"]`) as HTMLElement;
    expect(group('overdue').querySelector('h2')?.textContent).toBe('Overdue (1,234)');
    expect(group('overdue').querySelectorAll('li')).toHaveLength(3);
    expect(group('overdue').querySelector('.more')?.textContent?.trim()).toBe(
      "Showing the 3 most recently due of 1,234. Every open follow-up is also on its client's profile.",
    );
    expect(group('today').querySelector('h2')?.textContent).toBe('Today (1)');
    expect(group('today').querySelector('.more')).toBeNull();
    expect(group('this_week').querySelector('.more')?.textContent?.trim()).toBe(
      "Showing the first 2 of 300. Every open follow-up is also on its client's profile.",
    );
  });

  it('a follow-up, an anonymous visitor’s too, opens its contact at the follow-up date to move or correct it', async () => {
    answers();
    render(FollowUps);
    await settle();
    await fireEvent.click(screen.getByRole('button', { name: 'Edit the follow-up of Anonymous visitor' }));
    expect(nav.screen).toEqual({ name: 'contact', client: null, contactId: 'c2', field: 'follow_up_on', returnTo: { name: 'follow_ups' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Edit the follow-up of Amina Warsame' }));
    expect(nav.screen).toMatchObject({ name: 'contact', client: { id: amina.id }, contactId: aminaDetail.contacts[0].id, field: 'follow_up_on' });
  });

  it("the whole team's list says whose each follow-up is; a coach's own list does not", async () => {
    localStorage.clear();
    const mine = { contact: { ...aminaDetail.contacts[0], id: 'c1' }, client: amina };
    const colleagues = { contact: { ...aminaDetail.contacts[0], id: 'c2', coach_id: 'u-coach2' }, client: amina };
    const unknown = { contact: { ...aminaDetail.contacts[0], id: 'c3', coach_id: 'u-left' }, client: amina };
    answers({
      follow_ups_due: (args) => ({
        overdue: { items: args?.onlyMine ? [mine] : [mine, colleagues, unknown], total: args?.onlyMine ? 1 : 3 },
        today: { items: [], total: 0 },
        this_week: { items: [], total: 0 },
      }),
    });
    render(FollowUps);
    await settle();
    const metas = () => [...document.querySelectorAll('[data-group="overdue"] .meta')].map((m) => m.textContent);
    expect(metas()[0]).toContain('Coach coach1');
    expect(metas()[1]).toContain('Coach coach2');
    expect(metas()[2]).not.toContain('Coach');
    expect(metas()[2]).not.toContain('u-left');

    await fireEvent.click(screen.getByLabelText('Only mine'));
    await settle();
    expect(metas()).toHaveLength(1);
    expect(metas()[0]).not.toContain('Coach');
    localStorage.clear();
  });

  it("shows the whole team's until the coach asks for only their own, and remembers it", async () => {
    localStorage.clear();
    const invoke = answers();
    const first = render(FollowUps);
    await settle();
    expect(invoke).toHaveBeenLastCalledWith('follow_ups_due', { onlyMine: false });
    expect((screen.getByLabelText("The whole team's") as HTMLInputElement).checked).toBe(true);

    await fireEvent.click(screen.getByLabelText('Only mine'));
    await settle();
    expect(invoke).toHaveBeenLastCalledWith('follow_ups_due', { onlyMine: true });
    first.unmount();

    render(FollowUps);
    await settle();
    expect(invoke).toHaveBeenLastCalledWith('follow_ups_due', { onlyMine: true });
    expect((screen.getByLabelText('Only mine') as HTMLInputElement).checked).toBe(true);
    localStorage.clear();
  });
});

describe('drop-in with the keyboard alone', () => {
  it('type a name, Enter, pick topics with Space, Ctrl+Enter saves the contact', async () => {
    const invoke = answers();
    go({ name: 'today' });
    render(Today);
    await settle();
    const search = screen.getByLabelText('Find or register a client');
    expect(document.activeElement).toBe(search);
    await fireEvent.input(search, { target: { value: 'ami' } });
    await settle();
    await fireEvent.keyDown(search, { key: 'Enter' });
    expect(nav.screen.name).toBe('contact');

    const form = render(ContactForm, { client: amina, returnTo: { name: 'today' } });
    await settle();
    const first = document.activeElement as HTMLElement;
    expect(first.dataset.value).toBe('employment');
    await fireEvent.click(first); // Space on a focused button is a click.
    await fireEvent.keyDown(form.container.querySelector('form')!, { key: 'Enter', ctrlKey: true });
    await waitFor(() => expect(invoke).toHaveBeenCalledWith('create_contact', expect.anything()));
    const draft = invoke.mock.calls.find(([command]) => command === 'create_contact')![1] as {
      draft: { client_id: string; fields: Record<string, unknown> };
    };
    expect(draft.draft.client_id).toBe(amina.id);
    expect(draft.draft.fields.topics).toEqual(['employment']);
    expect(draft.draft.fields.service_language).toBe('so');
    expect(draft.draft.fields.interpreter_used).toBe(true);
    expect(draft.draft.fields.site).toBe('site-ngo');
    await waitFor(() => expect(nav.screen.name).toBe('today'));
    expect(nav.notice).toBe('Contact saved for Amina Warsame.');
  });

  it('a duration typed in is saved as minutes, and an emptied one is left out', async () => {
    const invoke = answers();
    const form = render(ContactForm, { client: amina, returnTo: { name: 'today' } });
    await settle();
    const duration = screen.getByLabelText('Duration (minutes)');
    await fireEvent.input(duration, { target: { value: '25' } });
    await fireEvent.keyDown(form.container.querySelector('form')!, { key: 'Enter', ctrlKey: true });
    await waitFor(() => expect(invoke).toHaveBeenCalledWith('create_contact', expect.anything()));
    const saved = (call: number) =>
      (invoke.mock.calls.filter(([command]) => command === 'create_contact')[call][1] as { draft: { fields: Record<string, unknown> } }).draft.fields;
    expect(saved(0).duration_min).toBe(25);

    cleanup();
    const again = render(ContactForm, { client: amina, returnTo: { name: 'today' } });
    await settle();
    await fireEvent.input(screen.getByLabelText('Duration (minutes)'), { target: { value: '25' } });
    await fireEvent.input(screen.getByLabelText('Duration (minutes)'), { target: { value: '' } });
    await fireEvent.keyDown(again.container.querySelector('form')!, { key: 'Enter', ctrlKey: true });
    await waitFor(() => expect(invoke.mock.calls.filter(([command]) => command === 'create_contact')).toHaveLength(2));
    expect(saved(1)).not.toHaveProperty('duration_min');
  });

  it('offers the sites still in use, starting at the coach’s last one, and none at all', async () => {
    const invoke = answers();
    const form = render(ContactForm, { client: amina, returnTo: { name: 'today' } });
    await settle();
    const select = screen.getByLabelText('Site') as HTMLSelectElement;
    expect([...select.options].map((o) => o.text)).toEqual(['Not recorded', 'Myyrmäki library drop-in', 'Tikkurila NGO house']);
    expect(select.value).toBe('site-ngo');
    await fireEvent.change(select, { target: { value: '' } });
    await fireEvent.keyDown(form.container.querySelector('form')!, { key: 'Enter', ctrlKey: true });
    await waitFor(() => expect(invoke).toHaveBeenCalledWith('create_contact', expect.anything()));
    const draft = invoke.mock.calls.find(([command]) => command === 'create_contact')![1] as {
      draft: { fields: Record<string, unknown> };
    };
    expect(draft.draft.fields).not.toHaveProperty('site');
  });

  it('on a full disk the contact form says so, keeps what was entered, and saves once there is room', async () => {
    let diskFull = true;
    const invoke = answers({
      create_contact: () => {
        if (diskFull) throw { kind: 'disk_full', message: "The disk holding Tandem's local store is full", field: null };
        return { id: 'new-contact' };
      },
    });
    go({ name: 'contact', client: amina, returnTo: { name: 'today' } });
    const form = render(ContactForm, { client: amina, returnTo: { name: 'today' } });
    await settle();
    await fireEvent.click(screen.getByRole('button', { name: 'Housing' }));
    await fireEvent.input(screen.getByLabelText('Summary'), { target: { value: 'Rental contract questions.' } });
    await fireEvent.keyDown(form.container.querySelector('form')!, { key: 'Enter', ctrlKey: true });
    await waitFor(() => expect(screen.getByRole('alert').textContent).toContain('The disk of this laptop is full'));
    expect(nav.screen.name).toBe('contact');
    expect(screen.getByRole('button', { name: 'Housing' }).getAttribute('aria-pressed')).toBe('true');
    expect((screen.getByLabelText('Summary') as HTMLTextAreaElement).value).toBe('Rental contract questions.');

    diskFull = false;
    await fireEvent.keyDown(form.container.querySelector('form')!, { key: 'Enter', ctrlKey: true });
    await waitFor(() => expect(nav.screen.name).toBe('today'));
    const saves = invoke.mock.calls.filter(([command]) => command === 'create_contact');
    expect(saves).toHaveLength(2);
    expect(saves[1][1]).toEqual(saves[0][1]);
  });

  it('an unknown name offers registration, and Enter opens the registration form', async () => {
    answers();
    render(Today);
    await settle();
    const search = screen.getByLabelText('Find or register a client');
    await fireEvent.input(search, { target: { value: 'Olga Ivanova' } });
    await settle();
    expect(screen.getByText('+ Register “Olga Ivanova” as a new client')).toBeTruthy();
    await fireEvent.keyDown(search, { key: 'Enter' });
    await settle();
    expect((screen.getByLabelText(/Given name/) as HTMLInputElement).value).toBe('Olga');
    expect((screen.getByLabelText(/Family name/) as HTMLInputElement).value).toBe('Ivanova');
  });
});

describe('the coach’s day on the Today screen', () => {
  it('lists the contacts logged today to correct, an anonymous visit too, and takes back a deletion', async () => {
    const visit = { ...aminaDetail.contacts[0], id: 'c-visit', client_id: null, occurred_at: '2026-12-07T09:05:00+02:00', topics: ['housing'] };
    const removed = { ...aminaDetail.contacts[0], id: 'c-removed', occurred_at: '2026-12-07T10:40:00+02:00' };
    const invoke = answers({
      contacts_logged: () => ({
        items: [
          { contact: removed, client: amina, deleted: true },
          { contact: visit, client: null, deleted: false },
        ],
        more: false,
      }),
      restore_contact: () => null,
    });
    go({ name: 'today' });
    render(Today);
    await settle();
    const day = screen.getByRole('region', { name: 'Your contacts today' });
    const rows = within(day).getAllByRole('listitem');
    expect(rows.map((row) => row.getAttribute('data-logged-contact'))).toEqual(['c-removed', 'c-visit']);
    expect(rows[1].textContent).toContain('Anonymous visitor');
    expect(rows[1].textContent).toContain('Housing');
    expect(rows[0].textContent).toContain('deleted');
    // Deleted: no correction, only the restore.
    expect(within(rows[0]).queryByRole('button', { name: /^Correct/ })).toBeNull();

    await fireEvent.click(within(rows[1]).getByRole('button', { name: /^Correct the contact at .* \(Anonymous visitor\)$/ }));
    expect(nav.screen).toEqual({ name: 'contact', client: null, contactId: 'c-visit', returnTo: { name: 'today' } });

    go({ name: 'today' });
    cleanup();
    render(Today);
    await settle();
    await fireEvent.click(screen.getByRole('button', { name: /^Restore the contact at .* \(Amina Warsame\)$/ }));
    await waitFor(() => expect(invoke).toHaveBeenCalledWith('restore_contact', { id: 'c-removed' }));
    await waitFor(() => expect(nav.notice).toBe('Contact restored.'));
  });

  it('a contact dated a later day by mistake is listed with its date; opening the registration takes the undo offered away', async () => {
    const aYearAhead = new Date();
    aYearAhead.setFullYear(aYearAhead.getFullYear() + 1);
    const typo = { ...aminaDetail.contacts[0], id: 'c-typo', client_id: null, occurred_at: aYearAhead.toISOString() };
    answers({ contacts_logged: () => ({ items: [{ contact: typo, client: null, deleted: false }], more: false }) });
    go({ name: 'today' }, 'Contact deleted.', async () => {});
    render(Today);
    await settle();
    const row = within(screen.getByRole('region', { name: 'Your contacts today' })).getByRole('listitem');
    expect(row.textContent).toContain(String(aYearAhead.getFullYear()));
    expect(nav.undo).not.toBeNull();
    await fireEvent.input(screen.getByLabelText('Find or register a client'), { target: { value: 'Olga' } });
    await settle();
    await fireEvent.keyDown(screen.getByLabelText('Find or register a client'), { key: 'Enter' });
    await settle();
    // An undo would navigate away from the registration (and ask about what is typed in it).
    expect(screen.getByLabelText(/^Given name/)).toBeTruthy();
    expect(nav.undo).toBeNull();
  });

  it('shows the last seven days on request, each contact of another day with its date, and keeps them over a restore', async () => {
    // An hour before this laptop's midnight: yesterday, whatever the clocks did.
    const midnight = new Date();
    midnight.setHours(0, 0, 0, 0);
    const yesterday = new Date(midnight.getTime() - 3600 * 1000);
    const earlier = { ...aminaDetail.contacts[0], id: 'c-earlier', client_id: null, occurred_at: yesterday.toISOString() };
    const removed = { ...earlier, id: 'c-removed' };
    const invoke = answers({
      contacts_logged: (args) => ({
        items: args?.days === 7
          ? [{ contact: earlier, client: null, deleted: false }, { contact: removed, client: null, deleted: true }]
          : [],
        more: args?.days === 7,
      }),
      restore_contact: () => null,
    });
    go({ name: 'today' });
    render(Today);
    await settle();
    expect(invoke).toHaveBeenCalledWith('contacts_logged', { days: 1 });
    await fireEvent.click(screen.getByRole('button', { name: 'Show the last 7 days' }));
    await settle();
    expect(invoke).toHaveBeenCalledWith('contacts_logged', { days: 7 });
    const week = screen.getByRole('region', { name: 'Your contacts of the last 7 days' });
    expect(within(week).getAllByRole('listitem')[0].textContent).toContain(String(yesterday.getFullYear()));
    // More than listed: the note says how far back the list goes.
    expect(within(week).getByText(/^The newest 2 are shown, back to /)).toBeTruthy();
    // A restore (or a correction) comes back to the week.
    await fireEvent.click(within(week).getByRole('button', { name: /^Restore the contact at / }));
    await waitFor(() => expect(nav.notice).toBe('Contact restored.'));
    expect(nav.screen).toEqual({ name: 'today', week: true });
    await fireEvent.click(within(week).getByRole('button', { name: /^Correct the contact at / }));
    expect(nav.screen).toMatchObject({ name: 'contact', contactId: 'c-earlier', returnTo: { name: 'today', week: true } });
    go({ name: 'today' });
    cleanup();
    render(Today);
    await settle();
    await fireEvent.click(screen.getByRole('button', { name: 'Show the last 7 days' }));
    await settle();
    await fireEvent.click(screen.getByRole('button', { name: 'Show today only' }));
    await settle();
    expect(within(screen.getByRole('region', { name: 'Your contacts today' })).getByText('None logged yet today.')).toBeTruthy();
  });

  it('the latest list asked for wins over a slower earlier read', async () => {
    const visit = { ...aminaDetail.contacts[0], id: 'c-week', client_id: null, occurred_at: '2026-12-01T10:00:00+02:00' };
    let todayAnswered: (() => void) | null = null;
    answers({
      contacts_logged: (args) =>
        args?.days === 7
          ? { items: [{ contact: visit, client: null, deleted: false }], more: false }
          : new Promise((resolve) => (todayAnswered = () => resolve({ items: [], more: false }))),
    });
    render(Today);
    await settle();
    // The store is slow to answer the screen's first read; the coach asks for the week.
    await fireEvent.click(screen.getByRole('button', { name: 'Show the last 7 days' }));
    await settle();
    todayAnswered!();
    await settle();
    const week = screen.getByRole('region', { name: 'Your contacts of the last 7 days' });
    expect(within(week).getAllByRole('listitem')).toHaveLength(1);
  });

  it('says when nothing is logged yet today', async () => {
    answers();
    render(Today);
    await settle();
    expect(within(screen.getByRole('region', { name: 'Your contacts today' })).getByText('None logged yet today.')).toBeTruthy();
  });
});

describe('unsynced changes', () => {
  it('name a contact’s coach, not the coach’s user id', async () => {
    answers();
    const { container } = render(Unsynced);
    await settle();
    const row = container.querySelector('tr[data-change="p2"]') as HTMLElement;
    expect(row.textContent).toContain('Coach');
    expect(row.textContent).toContain('coach1');
    expect(row.textContent).not.toContain('u-coach1');
    const site = container.querySelector('tr[data-change="p3"]') as HTMLElement;
    expect(site.textContent).toContain('Old premises');
    expect(site.textContent).not.toContain('site-old');
  });
});

describe('conflicts', () => {
  it('a coach sees that a team lead reviews the conflict, and cannot choose', async () => {
    answers();
    render(Unsynced);
    await settle();
    expect(screen.getByText('Amina Warsame — Phone')).toBeTruthy();
    expect(screen.getByText(/your team lead decides/)).toBeTruthy();
    expect(screen.queryByRole('button', { name: /Keep this/ })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Write another value' })).toBeNull();
    expect(screen.queryByRole('heading', { name: 'Team laptops' })).toBeNull();
  });

  it('a team lead sees base, both values with author, time and skew, and keeps one', async () => {
    const invoke = answers({ unsynced: () => unsyncedView(true) });
    const { container } = render(Unsynced);
    await settle();
    const card = container.querySelector('article[data-conflict="7"]') as HTMLElement;
    expect(card.textContent).toContain('Before both edits');
    expect(card.textContent).toContain('+358401111111');
    expect(card.textContent).toContain('by coach2');
    expect(card.textContent).toContain('In use now');
    expect(card.querySelector('[data-testid="clock-skew"]')).not.toBeNull();
    await fireEvent.click(screen.getByRole('button', { name: 'Keep this: +358409999999' }));
    await waitFor(() =>
      expect(invoke).toHaveBeenCalledWith('resolve_conflict', { resolution: { conflict_id: 7, value: '+358409999999' } }),
    );
    await waitFor(() => expect(screen.getByText('Conflict resolved.')).toBeTruthy());
  });

  it('a team lead writes another value; a refused value is shown next to the input', async () => {
    let calls = 0;
    const invoke = answers({
      unsynced: () => unsyncedView(true),
      resolve_conflict: () => {
        calls += 1;
        if (calls === 1) throw { kind: 'validation', message: 'phone: too short', field: 'phone' };
        return { ...unsyncedView(true), conflicts: [] };
      },
    });
    const { container } = render(Unsynced);
    await settle();
    await fireEvent.click(screen.getByRole('button', { name: 'Write another value' }));
    const input = screen.getByLabelText('Phone') as HTMLInputElement;
    expect(input.value).toBe('+358401234567');
    await fireEvent.input(input, { target: { value: '040' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Use this value' }));
    await waitFor(() => expect(container.querySelector('.write-other .field-error')?.textContent).toBe('phone: too short'));
    await fireEvent.input(screen.getByLabelText('Phone'), { target: { value: '040 555 6666' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Use this value' }));
    await waitFor(() =>
      expect(invoke).toHaveBeenLastCalledWith('unsynced', undefined),
    );
    expect(invoke).toHaveBeenCalledWith('resolve_conflict', { resolution: { conflict_id: 7, value: '040 555 6666' } });
  });

  it('a value kept but refused by the server says why on its card, in the user’s language', async () => {
    answers({
      unsynced: () => unsyncedView(true),
      resolve_conflict: () => {
        throw {
          kind: 'validation', field: 'phone', reason_code: 'invalid_value',
          message: 'phone: `+358409999999` is not accepted',
        };
      },
    });
    const { container } = render(Unsynced);
    await settle();
    await fireEvent.click(screen.getByRole('button', { name: 'Keep this: +358409999999' }));
    const card = container.querySelector('article[data-conflict="7"]') as HTMLElement;
    await waitFor(() =>
      expect(card.querySelector('.field-error')?.textContent).toBe(
        'The server does not accept this value for the field. Choose another value.',
      ),
    );
    // The other conflict's card says nothing.
    const other = container.querySelector('article[data-conflict="5"]') as HTMLElement;
    expect(other.querySelector('.field-error')).toBeNull();
  });

  it('offline, resolving says it needs a connection', async () => {
    answers({
      unsynced: () => unsyncedView(true),
      resolve_conflict: () => {
        throw { kind: 'needs_connection', message: 'cannot be reached', field: null };
      },
    });
    render(Unsynced);
    await settle();
    await fireEvent.click(screen.getByRole('button', { name: 'Keep this: +358401234567' }));
    await waitFor(() => expect(screen.getByText(/This needs a connection to the server/)).toBeTruthy());
  });

  it('an automatic decision can be reverted to the value it set aside', async () => {
    const invoke = answers({ unsynced: () => unsyncedView(true) });
    const { container } = render(Unsynced);
    await settle();
    const card = container.querySelector('article[data-conflict="5"]') as HTMLElement;
    expect(card.textContent).toContain('Decided automatically');
    expect(card.querySelectorAll('button[data-action="revert"]').length).toBe(1);
    await fireEvent.click(screen.getByRole('button', { name: 'Restore this value: Mina' }));
    await waitFor(() =>
      expect(invoke).toHaveBeenCalledWith('revert_auto_resolved', { resolution: { conflict_id: 5, value: 'Mina' } }),
    );
  });

  it('the team lead sees the laptops, and a laptop silent too long is flagged', async () => {
    answers({ unsynced: () => unsyncedView(true) });
    const { container } = render(Unsynced);
    await settle();
    expect(screen.getByRole('heading', { name: 'Team laptops' })).toBeTruthy();
    expect(screen.getByText(/more than 7 days is flagged/)).toBeTruthy();
    const risky = container.querySelector('tr[data-device="d1"]') as HTMLElement;
    expect(risky.textContent).toContain('Not synced for 16 days: unsynced data at risk');
    expect(risky.textContent).toContain('14');
    const fine = container.querySelector('tr[data-device="d2"]') as HTMLElement;
    expect(fine.textContent).toContain('Syncing');
  });

  it('a conflict a team lead resolved shows the resolved value, not the one that stood before', async () => {
    const view = unsyncedView(true);
    const resolved = { ...view.conflicts[0], id: 8, status: 'resolved', can_resolve: false, current_value: '+358405556666', resolved_at: '2026-11-26T10:00:00Z' };
    answers({ unsynced: () => ({ ...view, conflicts: [], closed_conflicts: [resolved] }) });
    const { container } = render(Unsynced);
    await settle();
    const card = container.querySelector('article[data-conflict="8"]') as HTMLElement;
    expect(card.textContent).toContain('Resolved by a team lead');
    expect(card.textContent).toContain('+358405556666');
    expect(card.textContent).not.toContain('In use now');
    expect(card.querySelectorAll('button').length).toBe(0);
  });
});

describe('unsynced changes per coach', () => {
  /** A shared laptop: coach1 left a refused change and a pending one, coach2 (signed in now)
   * has two pending; the laptop knows coach3 only by the end of the id. */
  function sharedLaptop(teamLead: boolean) {
    const view = unsyncedView(teamLead);
    const pending = (id: string, author_id: string, author: string, field: string, value: string) =>
      ({ ...view.pending[0], change_id: id, author_id, author, field, value });
    return {
      ...view,
      pending: [
        pending('p1', 'u-coach2', 'coach2', 'phone', '+358401234567'),
        pending('p2', 'u-coach1', 'coach1', 'nickname', 'Ami'),
        pending('p3', 'u-coach2', 'coach2', 'email', 'amina@example.org'),
      ],
      // r2 was refused by a server that sent no code.
      rejected: [...view.rejected, { ...view.rejected[0], change_id: 'r2', author_id: 'u-coach2', author: 'e5f6a7b8', reason: 'email: refused', reason_code: null }],
    };
  }

  function groups(container: Element, heading: string) {
    const section = container.querySelector(`section[aria-labelledby="${heading}"]`) as HTMLElement;
    return [...section.querySelectorAll('tbody')].map((body) => ({
      heading: body.querySelector('th[scope="rowgroup"]')?.textContent,
      changes: [...body.querySelectorAll('tr[data-change]')].map((row) => (row as HTMLElement).dataset.change),
    }));
  }

  it('a coach sees pending and refused changes under the name of the coach who made them', async () => {
    answers({ unsynced: () => sharedLaptop(false) });
    const { container } = render(Unsynced);
    await settle();
    expect(groups(container, 'pending-heading')).toEqual([
      { heading: 'By coach2 (2)', changes: ['p1', 'p3'] },
      { heading: 'By coach1 (1)', changes: ['p2'] },
    ]);
    // Without the team's list, a coach who never signed in here is named by the end of the id.
    expect(groups(container, 'rejected-heading')).toEqual([
      { heading: 'By coach1 (1)', changes: ['r1'] },
      { heading: 'By e5f6a7b8 (1)', changes: ['r2'] },
    ]);
    expect(await seriousViolations(container)).toEqual([]);
  });

  it('a refused change is explained in the interface language, the server’s own words below it', async () => {
    setLocale('fi');
    try {
      answers({ unsynced: () => sharedLaptop(false) });
      const { container } = render(Unsynced);
      await settle();
      const reason = (id: string) => container.querySelector(`tr[data-change="${id}"] td.reason`) as HTMLElement;
      expect(reason('r1').textContent).toContain('Palvelin ei hyväksy tätä arvoa tähän kenttään');
      expect(reason('r1').querySelector('small')?.textContent).toBe('Palvelimen viesti: email: `x@` has no domain');
      expect(reason('r1').querySelector('[lang="en"]')?.textContent).toBe('email: `x@` has no domain');
      // From a server that sends no code: its words are all there is.
      expect(reason('r2').textContent?.trim()).toBe('email: refused');
      expect(reason('r2').querySelector('small')).toBeNull();
      expect(within(reason('r2').parentElement as HTMLElement).getByRole('button', { name: 'Yritä uudelleen' })).toBeTruthy();
      expect(await seriousViolations(container)).toEqual([]);
    } finally {
      setLocale('en');
    }
  });

  it('each refusal offers what can undo it: Fix, Retry, or only Dismiss', async () => {
    answers({
      unsynced: () => {
        const view = unsyncedView(false);
        const erased = { ...view.rejected[0], change_id: 'r3', reason: 'email: the record was erased', reason_code: 'record_erased' };
        const foreign = { ...view.rejected[0], change_id: 'r4', reason: 'email: the record belongs to another team', reason_code: 'other_team' };
        const stranger = { ...view.rejected[0], change_id: 'r5', field: 'consent_by', reason: 'consent_by: x is not a user of this team', reason_code: 'user_not_in_team' };
        return { ...view, rejected: [...view.rejected, erased, foreign, stranger] };
      },
    });
    const { container } = render(Unsynced);
    await settle();
    for (const id of ['r3', 'r4']) {
      const row = container.querySelector(`tr[data-change="${id}"]`) as HTMLElement;
      expect(within(row).queryByRole('button', { name: 'Retry' }), id).toBeNull();
      expect(within(row).queryByRole('button', { name: 'Fix…' }), id).toBeNull();
      expect(within(row).getByRole('button', { name: 'Dismiss' })).toBeTruthy();
    }
    // An invalid value would be refused again, and a Retry would put it back over a Fix.
    const invalid = container.querySelector('tr[data-change="r1"]') as HTMLElement;
    expect(within(invalid).queryByRole('button', { name: 'Retry' })).toBeNull();
    expect(within(invalid).getByRole('button', { name: 'Fix…' })).toBeTruthy();
    // Once IT has added the user to the team, the same value goes through.
    const stranger = container.querySelector('tr[data-change="r5"]') as HTMLElement;
    expect(within(stranger).getByRole('button', { name: 'Retry' })).toBeTruthy();
    expect(within(stranger).getByRole('button', { name: 'Fix…' })).toBeTruthy();
  });

  it('a team lead sees every coach named from the team’s laptops, and retries a refused change of one', async () => {
    const invoke = answers({ unsynced: () => sharedLaptop(true), retry_rejected: () => null });
    const { container } = render(Unsynced);
    await settle();
    expect(groups(container, 'rejected-heading').map((g) => g.heading)).toEqual(['By coach1 (1)', 'By coach2 (1)']);
    const coach2 = container.querySelector('section[aria-labelledby="rejected-heading"] tbody[data-coach="u-coach2"]') as HTMLElement;
    await fireEvent.click(within(coach2).getByRole('button', { name: 'Retry' }));
    await waitFor(() => expect(invoke).toHaveBeenCalledWith('retry_rejected', { changeId: 'r2' }));
  });

  it('Fix on a refused client change opens that client with its edit form', async () => {
    answers({ unsynced: () => unsyncedView(false) });
    const { container } = render(Unsynced);
    await settle();
    expect(screen.getByText(/Fix opens the client’s or the contact’s form/)).toBeTruthy();
    const row = container.querySelector('tr[data-change="r1"]') as HTMLElement;
    await fireEvent.click(within(row).getByRole('button', { name: 'Fix…' }));
    expect(nav.screen).toEqual({ name: 'client', clientId: amina.id, edit: true, field: 'email' });
    cleanup();

    render(ClientProfile, { clientId: amina.id, edit: true, field: 'email' });
    await settle();
    expect(screen.getByRole('button', { name: 'Save' })).toBeTruthy();
    expect(document.activeElement?.id).toBe('client-email');
    expect(screen.queryByRole('button', { name: 'Edit' })).toBeNull();
  });

  it('Fix on a refused contact change opens that contact’s form, which comes back here', async () => {
    const contact = aminaDetail.contacts[0];
    answers({
      unsynced: () => {
        const view = unsyncedView(false);
        const refused = { ...view.rejected[0], change_id: 'r6', entity: 'contact', record_id: contact.id, field: 'duration_min', value: 900, reason: 'duration_min: must be from 0 to 600 (got 900)' };
        return { ...view, rejected: [refused] };
      },
      get_contact: () => ({ contact, client: amina }),
    });
    const { container } = render(Unsynced);
    await settle();
    const row = container.querySelector('tr[data-change="r6"]') as HTMLElement;
    await fireEvent.click(within(row).getByRole('button', { name: 'Fix…' }));
    expect(nav.screen).toEqual({ name: 'contact', client: null, contactId: contact.id, field: 'duration_min', returnTo: { name: 'unsynced' } });
    cleanup();

    render(ContactForm, { client: null, contactId: contact.id, field: 'duration_min', returnTo: { name: 'unsynced' } });
    await settle();
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Correct the contact: Amina Warsame');
    expect(document.activeElement?.id).toBe('contact-duration');
  });

  it('Fix is not offered for a refused change of a contact the form does not edit', async () => {
    answers({
      unsynced: () => {
        const view = unsyncedView(false);
        const refused = (change_id: string, field: string, value: unknown) =>
          ({ ...view.rejected[0], change_id, entity: 'contact', record_id: 'c9', field, value, reason: `${field}: refused`, reason_code: 'user_not_in_team' });
        return { ...view, rejected: [refused('r7', 'coach_id', 'u-gone'), refused('r8', 'deleted', true)] };
      },
    });
    const { container } = render(Unsynced);
    await settle();
    for (const id of ['r7', 'r8']) {
      const row = container.querySelector(`tr[data-change="${id}"]`) as HTMLElement;
      expect(within(row).queryByRole('button', { name: 'Fix…' }), id).toBeNull();
      expect(within(row).getByRole('button', { name: 'Retry' }), id).toBeTruthy();
    }
  });
});

describe('correcting a contact', () => {
  const contact = aminaDetail.contacts[0];

  it('the timeline offers to edit each contact, named by its time', async () => {
    answers();
    render(ClientProfile, { clientId: amina.id });
    await settle();
    await fireEvent.click(screen.getByRole('button', { name: /^Edit the contact on / }));
    expect(nav.screen).toMatchObject({ name: 'contact', client: { id: amina.id }, contactId: contact.id, returnTo: { name: 'client', clientId: amina.id } });
  });

  it('the form starts from the contact as it was and writes only what changed', async () => {
    const invoke = answers({
      get_contact: () => ({ contact, client: amina }),
      edit_contact: () => ({ changed_fields: ['duration_min', 'topics'] }),
    });
    const returnTo = { name: 'client', clientId: amina.id } as const;
    const { container } = render(ContactForm, { client: amina, contactId: contact.id, returnTo });
    await settle();
    expect(screen.getByRole('button', { name: 'Housing' }).getAttribute('aria-pressed')).toBe('true');
    expect((screen.getByLabelText('Summary') as HTMLTextAreaElement).value).toBe('CV reviewed');
    expect((screen.getByLabelText('Site') as HTMLSelectElement).value).toBe('site-library');
    expect((screen.getByLabelText('Follow-up done') as HTMLInputElement).checked).toBe(false);
    // No link back to the profile the form returns to anyway.
    expect(screen.queryByRole('button', { name: 'Profile' })).toBeNull();

    await fireEvent.click(screen.getByRole('button', { name: 'Housing' }));
    await fireEvent.input(screen.getByLabelText('Duration (minutes)'), { target: { value: '45' } });
    await fireEvent.keyDown(container.querySelector('form')!, { key: 'Enter', ctrlKey: true });
    await waitFor(() => expect(invoke).toHaveBeenCalledWith('edit_contact', { edit: { id: contact.id, fields: { topics: ['employment'], duration_min: 45 }, before: { topics: ['employment', 'housing'], duration_min: 20 }, form: `edit-contact:${contact.id}` } }));
    expect(invoke).not.toHaveBeenCalledWith('create_contact', expect.anything());
    await waitFor(() => expect(nav.screen).toEqual(returnTo));
    expect(nav.notice).toBe('Contact updated.');
    expect(await seriousViolations(container)).toEqual([]);
  });

  it('a value the field does not take is refused next to it in the interface language', async () => {
    setLocale('fi');
    try {
      answers({
        get_contact: () => ({ contact, client: amina }),
        edit_contact: () => {
          throw { kind: 'validation', message: 'must be from 0 to 600 (got 900)', field: 'duration_min', rule: { rule: 'number_range', min: 0, max: 600 } };
        },
      });
      go({ name: 'contact', client: amina, contactId: contact.id, returnTo: { name: 'today' } });
      const { container } = render(ContactForm, { client: amina, contactId: contact.id, returnTo: { name: 'today' } });
      await settle();
      await fireEvent.input(container.querySelector('#contact-duration')!, { target: { value: '900' } });
      await fireEvent.keyDown(container.querySelector('form')!, { key: 'Enter', ctrlKey: true });
      await waitFor(() => expect(container.querySelector('#contact-duration-error')?.textContent).toBe('Anna kokonaisluku väliltä 0–600.'));
      expect(nav.screen.name).toBe('contact');
    } finally {
      setLocale('en');
    }
  });

  it('a visit logged afterwards is set back in time; left alone, the time is the moment of saving', async () => {
    const invoke = answers({
      get_contact: () => ({ contact, client: amina }),
      edit_contact: () => ({ changed_fields: ['occurred_at'] }),
    });
    const form = render(ContactForm, { client: amina, returnTo: { name: 'today' } });
    await settle();
    await fireEvent.keyDown(form.container.querySelector('form')!, { key: 'Enter', ctrlKey: true });
    await waitFor(() => expect(invoke).toHaveBeenCalledWith('create_contact', expect.anything()));
    const created = invoke.mock.calls.find(([command]) => command === 'create_contact')![1] as { draft: { fields: Record<string, unknown> } };
    expect(created.draft.fields).not.toHaveProperty('occurred_at');
    cleanup();

    const later = render(ContactForm, { client: amina, returnTo: { name: 'today' } });
    await settle();
    await fireEvent.input(screen.getByLabelText('Time'), { target: { value: '2026-11-26T08:15' } });
    await fireEvent.keyDown(later.container.querySelector('form')!, { key: 'Enter', ctrlKey: true });
    await waitFor(() => expect(invoke.mock.calls.filter(([command]) => command === 'create_contact')).toHaveLength(2));
    const setBack = invoke.mock.calls.filter(([command]) => command === 'create_contact')[1][1] as { draft: { fields: Record<string, unknown> } };
    expect(new Date(String(setBack.draft.fields.occurred_at)).getTime()).toBe(new Date(2026, 10, 26, 8, 15).getTime());
    cleanup();

    const correction = render(ContactForm, { client: amina, contactId: contact.id, returnTo: { name: 'today' } });
    await settle();
    await fireEvent.input(screen.getByLabelText('Time'), { target: { value: '2026-11-25T16:00' } });
    await fireEvent.keyDown(correction.container.querySelector('form')!, { key: 'Enter', ctrlKey: true });
    await waitFor(() => expect(invoke).toHaveBeenCalledWith('edit_contact', expect.anything()));
    const edit = invoke.mock.calls.find(([command]) => command === 'edit_contact')![1] as { edit: { fields: Record<string, unknown> } };
    expect(Object.keys(edit.edit.fields)).toEqual(['occurred_at']);
    expect(new Date(String(edit.edit.fields.occurred_at)).getTime()).toBe(new Date(2026, 10, 25, 16, 0).getTime());
  });

  it('a contact with fields never set gets only the corrected one written, none filled in for it', async () => {
    const bare = { ...contact, channel: null, site: null, duration_min: null, summary: null, service_language: null, follow_up_on: null, topics: [], referrals: [] };
    const invoke = answers({ get_contact: () => ({ contact: bare, client: amina }), edit_contact: () => ({ changed_fields: ['summary'] }) });
    const { container } = render(ContactForm, { client: amina, contactId: contact.id, returnTo: { name: 'today' } });
    await settle();
    expect((screen.getByLabelText('How') as HTMLSelectElement).value).toBe('');
    await fireEvent.input(screen.getByLabelText('Summary'), { target: { value: 'Called back about the CV.' } });
    await fireEvent.keyDown(container.querySelector('form')!, { key: 'Enter', ctrlKey: true });
    await waitFor(() => expect(invoke).toHaveBeenCalledWith('edit_contact', { edit: { id: contact.id, fields: { summary: 'Called back about the CV.' }, before: { summary: null }, form: `edit-contact:${contact.id}` } }));
  });

  it('a follow-up moved to another day is no longer done', async () => {
    const done = { ...contact, follow_up_done: true };
    const invoke = answers({ get_contact: () => ({ contact: done, client: amina }), edit_contact: () => ({ changed_fields: [] }) });
    const { container } = render(ContactForm, { client: amina, contactId: contact.id, returnTo: { name: 'today' } });
    await settle();
    expect((screen.getByLabelText('Follow-up done') as HTMLInputElement).checked).toBe(true);
    // A picked day is an input, then a change, as in the web view.
    await fireEvent.input(screen.getByLabelText('Follow up on'), { target: { value: '2026-12-15' } });
    await fireEvent.change(screen.getByLabelText('Follow up on'), { target: { value: '2026-12-15' } });
    expect((screen.getByLabelText('Follow-up done') as HTMLInputElement).checked).toBe(false);
    await fireEvent.keyDown(container.querySelector('form')!, { key: 'Enter', ctrlKey: true });
    await waitFor(() => expect(invoke).toHaveBeenCalledWith('edit_contact', { edit: { id: contact.id, fields: { follow_up_on: '2026-12-15', follow_up_done: false }, before: { follow_up_on: '2026-12-01', follow_up_done: true }, form: `edit-contact:${contact.id}` } }));
  });

  it('while deleting is asked, the safe answer has the focus, Escape answers no and Ctrl+Enter saves nothing', async () => {
    const invoke = answers({ get_contact: () => ({ contact, client: amina }), edit_contact: () => ({ changed_fields: [] }), delete_contact: () => null });
    go({ name: 'contact', client: amina, contactId: contact.id, returnTo: { name: 'follow_ups' } });
    const { container } = render(ContactForm, { client: amina, contactId: contact.id, returnTo: { name: 'follow_ups' } });
    await settle();
    await fireEvent.click(screen.getByRole('button', { name: 'Delete contact' }));
    await settle();
    const question = screen.getByRole('group', { name: /^Delete this contact\?/ });
    expect(document.activeElement).toBe(within(question).getByRole('button', { name: 'Cancel' }));
    await fireEvent.keyDown(container.querySelector('form')!, { key: 'Enter', ctrlKey: true });
    await fireEvent.keyDown(container.querySelector('form')!, { key: 'Escape' });
    await settle();
    expect(screen.queryByRole('group', { name: /^Delete this contact\?/ })).toBeNull();
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Delete contact' }));
    expect(nav.screen.name).toBe('contact');
    expect(invoke).not.toHaveBeenCalledWith('edit_contact', expect.anything());
    expect(invoke).not.toHaveBeenCalledWith('delete_contact', expect.anything());
  });

  it('leaving a correction with typed changes asks first; Keep editing keeps them', async () => {
    const invoke = answers({ get_contact: () => ({ contact, client: amina }), edit_contact: () => ({ changed_fields: [] }) });
    go({ name: 'contact', client: amina, contactId: contact.id, returnTo: { name: 'follow_ups' } });
    render(ContactForm, { client: amina, contactId: contact.id, returnTo: { name: 'follow_ups' } });
    await settle();
    const summary = screen.getByLabelText('Summary') as HTMLTextAreaElement;
    await fireEvent.input(summary, { target: { value: 'CV reviewed, cover letter started' } });
    summary.focus();

    // Escape asks; Escape again answers "keep editing", the focus back where it was.
    await fireEvent.keyDown(summary, { key: 'Escape' });
    await settle();
    const question = screen.getByRole('group', { name: /^Leave without saving\?/ });
    expect(document.activeElement).toBe(within(question).getByRole('button', { name: 'Keep editing' }));
    await fireEvent.keyDown(document.activeElement!, { key: 'Escape' });
    await settle();
    expect(screen.queryByRole('group', { name: /^Leave without saving\?/ })).toBeNull();
    expect(nav.screen.name).toBe('contact');
    expect(document.activeElement).toBe(summary);
    expect(summary.value).toBe('CV reviewed, cover letter started');

    // Another screen chosen in the navigation asks too, and goes there if the user says so.
    go({ name: 'today' });
    expect(nav.screen.name).toBe('contact');
    await settle();
    await fireEvent.click(screen.getByRole('button', { name: 'Leave without saving' }));
    expect(nav.screen.name).toBe('today');
    expect(invoke).not.toHaveBeenCalledWith('edit_contact', expect.anything());
  });

  it('a save the store refuses keeps the changes held', async () => {
    answers({
      get_contact: () => ({ contact, client: amina }),
      edit_contact: () => {
        throw { kind: 'disk_full', message: 'database or disk is full', field: null };
      },
    });
    go({ name: 'contact', client: amina, contactId: contact.id, returnTo: { name: 'follow_ups' } });
    const { container } = render(ContactForm, { client: amina, contactId: contact.id, returnTo: { name: 'follow_ups' } });
    await settle();
    await fireEvent.input(screen.getByLabelText('Summary'), { target: { value: 'Called back.' } });
    await fireEvent.keyDown(container.querySelector('form')!, { key: 'Enter', ctrlKey: true });
    await settle();
    expect(container.querySelector('.notice.error')).not.toBeNull();
    go({ name: 'today' });
    await settle();
    expect(nav.screen.name).toBe('contact');
    expect(screen.getByRole('group', { name: /^Leave without saving\?/ })).toBeTruthy();
  });

  it('a form left unchanged is left at once, and a saved one without asking', async () => {
    const invoke = answers({ get_contact: () => ({ contact, client: amina }), edit_contact: () => ({ changed_fields: ['summary'] }) });
    go({ name: 'contact', client: amina, contactId: contact.id, returnTo: { name: 'follow_ups' } });
    const first = render(ContactForm, { client: amina, contactId: contact.id, returnTo: { name: 'follow_ups' } });
    await settle();
    await fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(nav.screen.name).toBe('follow_ups');
    first.unmount();

    go({ name: 'contact', client: amina, contactId: contact.id, returnTo: { name: 'follow_ups' } });
    const { container } = render(ContactForm, { client: amina, contactId: contact.id, returnTo: { name: 'follow_ups' } });
    await settle();
    await fireEvent.input(screen.getByLabelText('Summary'), { target: { value: 'Called back.' } });
    await fireEvent.keyDown(container.querySelector('form')!, { key: 'Enter', ctrlKey: true });
    await waitFor(() => expect(nav.screen.name).toBe('follow_ups'));
    expect(invoke).toHaveBeenCalledWith('edit_contact', { edit: { id: contact.id, fields: { summary: 'Called back.' }, before: { summary: 'CV reviewed' }, form: `edit-contact:${contact.id}` } });
    expect(screen.queryByRole('group', { name: /^Leave without saving\?/ })).toBeNull();
  });

  it('a contact whose client this laptop does not hold is not called anonymous', async () => {
    answers({ get_contact: () => ({ contact, client: null }) });
    render(ContactForm, { client: null, contactId: contact.id, returnTo: { name: 'today' } });
    await settle();
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Correct a contact');
    cleanup();
    answers({ get_contact: () => ({ contact: { ...contact, client_id: null }, client: null }) });
    render(ContactForm, { client: null, contactId: contact.id, returnTo: { name: 'today' } });
    await settle();
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Correct an anonymous visit');
  });

  /** The store's one draft slot, as the shell keeps the signed-in user's. */
  function draftSlot(initial: { form: string; text: string } | null = null) {
    const slot = { kept: initial };
    // Saving a form forgets its draft in the same transaction.
    const saved = (input: unknown, answer: unknown) => {
      const form = (input as { form?: string }).form;
      if (form && slot.kept?.form === form) slot.kept = null;
      return answer;
    };
    return {
      slot,
      handlers: {
        form_draft: () => slot.kept,
        set_form_draft: (args?: Record<string, unknown>) => {
          const { form, text } = args as { form: string; text: string | null };
          if (text !== null) slot.kept = { form, text };
          else if (slot.kept?.form === form) slot.kept = null;
          return text !== null;
        },
        create_contact: (args?: Record<string, unknown>) => saved(args?.draft, { id: 'new-contact' }),
        create_client: (args?: Record<string, unknown>) => saved(args?.draft, { id: 'new-client' }),
        edit_contact: (args?: Record<string, unknown>) => saved(args?.edit, { changed_fields: [] }),
        edit_client: (args?: Record<string, unknown>) => saved(args?.edit, { changed_fields: [] }),
        delete_contact: (args?: Record<string, unknown>) => saved(args, null),
      },
    };
  }

  it('what was typed when Tandem locked is back after unlocking, not saved yet', async () => {
    const { slot, handlers } = draftSlot();
    const invoke = answers({ ...handlers, unlock: () => session });
    go({ name: 'contact', client: amina, returnTo: { name: 'client', clientId: amina.id } });
    const { container } = render(App);
    await settle();
    await fireEvent.click(screen.getByRole('button', { name: 'Housing' }));
    await fireEvent.input(screen.getByLabelText('Summary'), { target: { value: 'Rent arrears, call the landlord' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Lock' }));
    await settle();
    expect(container.querySelector('form.contact-form')).toBeNull();
    // Kept in the store before the lock, about the client, with where the form is.
    expect(slot.kept?.form).toBe(`new-contact:${amina.id}`);
    expect(invoke).toHaveBeenCalledWith('set_form_draft', expect.objectContaining({ about: amina.id }));
    expect(JSON.parse(slot.kept!.text)).toMatchObject({
      version: 1,
      screen: { name: 'contact', client: { id: amina.id } },
      values: { summary: 'Rent arrears, call the landlord', topics: ['housing'] },
    });

    await fireEvent.input(screen.getByLabelText('Password'), { target: { value: 'secret' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Unlock' }));
    await settle();
    expect(nav.screen).toMatchObject({ name: 'contact', client: { id: amina.id } });
    expect((screen.getByLabelText('Summary') as HTMLTextAreaElement).value).toBe('Rent arrears, call the landlord');
    expect(screen.getByRole('button', { name: 'Housing' }).getAttribute('aria-pressed')).toBe('true');
    expect(screen.getByText(/and did not save is back/)).toBeTruthy();
    expect(invoke).not.toHaveBeenCalledWith('create_contact', expect.anything());
    // Still unsaved: leaving asks; saving saves it, and the store forgets the draft with it.
    go({ name: 'today' });
    expect(nav.screen.name).toBe('contact');
    await settle();
    await fireEvent.click(screen.getByRole('button', { name: 'Keep editing' }));
    await fireEvent.keyDown(container.querySelector('form')!, { key: 'Enter', ctrlKey: true });
    await waitFor(() =>
      expect(invoke).toHaveBeenCalledWith('create_contact', {
        draft: expect.objectContaining({
          form: `new-contact:${amina.id}`,
          fields: expect.objectContaining({ summary: 'Rent arrears, call the landlord', topics: ['housing'] }),
        }),
      }),
    );
    expect(slot.kept).toBeNull();
  });

  it('a registration typed when Tandem locked is back after unlocking, asks before it is left, and saving forgets it', async () => {
    const { slot, handlers } = draftSlot();
    const invoke = answers({ ...handlers, unlock: () => session });
    go({ name: 'today' });
    const { container } = render(App);
    await settle();
    await fireEvent.input(screen.getByLabelText('Find or register a client'), { target: { value: 'Olga Ivanova' } });
    await settle();
    await fireEvent.keyDown(screen.getByLabelText('Find or register a client'), { key: 'Enter' });
    await settle();
    await fireEvent.input(screen.getByLabelText(/^Phone/), { target: { value: '040 765 4321' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Lock' }));
    await settle();
    expect(slot.kept?.form).toBe('new-client');
    expect(JSON.parse(slot.kept!.text)).toMatchObject({
      screen: { name: 'today', registering: true },
      values: { given_name: 'Olga', family_name: 'Ivanova', phone: '040 765 4321' },
    });

    await fireEvent.input(screen.getByLabelText('Password'), { target: { value: 'secret' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Unlock' }));
    await settle();
    expect(nav.screen).toEqual({ name: 'today', registering: true });
    expect((screen.getByLabelText(/^Given name/) as HTMLInputElement).value).toBe('Olga');
    expect((screen.getByLabelText(/^Phone/) as HTMLInputElement).value).toBe('040 765 4321');
    expect(screen.getByText(/and did not save is back/)).toBeTruthy();
    // Given back, it is unsaved: Cancel asks (the search box that held the name is gone).
    await fireEvent.click(within(container.querySelector('form.panel')!).getByRole('button', { name: 'Cancel' }));
    await settle();
    await fireEvent.click(screen.getByRole('button', { name: 'Keep editing' }));
    await fireEvent.submit(container.querySelector('form.panel')!);
    await waitFor(() =>
      expect(invoke).toHaveBeenCalledWith('create_client', {
        draft: { form: 'new-client', fields: expect.objectContaining({ given_name: 'Olga', phone: '040 765 4321' }) },
      }),
    );
    await waitFor(() => expect(nav.screen.name).toBe('contact'));
    expect(slot.kept).toBeNull();
    cleanup();
    Object.assign(nav, { screen: { name: 'today' }, notice: null, undo: null });
  });

  it('a registration holding only the name searched for is left without a question; one typed into asks, and leaving forgets its draft', async () => {
    const { slot, handlers } = draftSlot();
    answers(handlers);
    go({ name: 'today' });
    render(Today);
    await settle();
    const search = () => screen.getByLabelText('Find or register a client');
    await fireEvent.input(search(), { target: { value: 'Olga' } });
    await settle();
    await fireEvent.keyDown(search(), { key: 'Enter' });
    await settle();
    await fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    await settle();
    expect((search() as HTMLInputElement).value).toBe('Olga');

    await fireEvent.keyDown(search(), { key: 'Enter' });
    await settle();
    await fireEvent.input(screen.getByLabelText(/^Year of birth/), { target: { value: '1972' } });
    await fireEvent.keyDown(screen.getByLabelText(/^Year of birth/), { key: 'Escape' });
    await settle();
    expect(screen.getByRole('group', { name: /^Leave without saving\?/ })).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Keep editing' }));
    // Kept as a lock keeps it (else a second after the change).
    await keepOpenDraft();
    expect(slot.kept?.form).toBe('new-client');
    await fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    await settle();
    await fireEvent.click(screen.getByRole('button', { name: 'Leave without saving' }));
    await settle();
    expect(search()).toBeTruthy();
    await waitFor(() => expect(slot.kept).toBeNull());
  });

  it('a field typed into a registration and emptied again is no change; reopened without a kept draft, Today shows the search', async () => {
    const { handlers } = draftSlot();
    answers(handlers);
    go({ name: 'today' });
    render(Today);
    await settle();
    await fireEvent.input(screen.getByLabelText('Find or register a client'), { target: { value: 'Olga' } });
    await settle();
    await fireEvent.keyDown(screen.getByLabelText('Find or register a client'), { key: 'Enter' });
    await settle();
    await fireEvent.input(screen.getByLabelText(/^Phone/), { target: { value: '040' } });
    await fireEvent.input(screen.getByLabelText(/^Phone/), { target: { value: '' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    await settle();
    expect(screen.queryByRole('group', { name: /^Leave without saving\?/ })).toBeNull();
    expect(screen.getByLabelText('Find or register a client')).toBeTruthy();
    cleanup();

    render(Today, { reopen: true });
    await settle();
    expect(screen.queryByLabelText(/^Phone/)).toBeNull();
    expect(document.activeElement).toBe(screen.getByLabelText('Find or register a client'));
  });

  it('a draft kept before the app was closed opens after unlocking; one of another shape does not', async () => {
    const values = { topics: ['family'], referrals: [], serviceLanguage: [], interpreterUsed: false, channel: 'drop_in', occurredAt: '2026-12-07T10:25', site: '', duration: null, followUpOn: '', followUpDone: false, summary: 'Daycare place' };
    const text = (version: number) => JSON.stringify({ version, screen: { name: 'contact', client: amina, returnTo: { name: 'today' } }, saved_at: '2026-12-07T08:30:00Z', values });
    for (const [version, resumed] of [[0, false], [1, true]] as const) {
      const { slot, handlers } = draftSlot({ form: `new-contact:${amina.id}`, text: text(version) });
      answers({ ...handlers, session_state: () => ({ ...session, unlocked: false }), unlock: () => session });
      render(App);
      await settle();
      await fireEvent.input(screen.getByLabelText('Password'), { target: { value: 'secret' } });
      await fireEvent.click(screen.getByRole('button', { name: 'Unlock' }));
      await settle();
      expect(nav.screen.name).toBe(resumed ? 'contact' : 'today');
      if (resumed) {
        expect((screen.getByLabelText('Summary') as HTMLTextAreaElement).value).toBe('Daycare place');
        // The time it was logged for stays the one typed, not the moment of unlocking.
        expect((screen.getByLabelText('Time') as HTMLInputElement).value).toBe('2026-12-07T10:25');
        // Left on purpose, it is forgotten.
        await fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
        await settle();
        await fireEvent.click(screen.getByRole('button', { name: 'Leave without saving' }));
        await waitFor(() => expect(slot.kept).toBeNull());
      } else {
        // Never offered, so forgotten.
        expect(slot.kept).toBeNull();
      }
      cleanup();
      Object.assign(nav, { screen: { name: 'today' }, notice: null, undo: null });
    }
  });

  it('a save writes what is typed first, so that the store forgets it with the save', async () => {
    const { slot, handlers } = draftSlot();
    const order: string[] = [];
    const invoke = answers({
      ...handlers,
      set_form_draft: (args) => {
        order.push('set_form_draft');
        return handlers.set_form_draft(args);
      },
      create_contact: (args) => {
        order.push('create_contact');
        return handlers.create_contact(args);
      },
    });
    go({ name: 'contact', client: amina, returnTo: { name: 'today' } });
    const { container } = render(ContactForm, { client: amina, returnTo: { name: 'today' } });
    await settle();
    await fireEvent.input(screen.getByLabelText('Summary'), { target: { value: 'Typed and saved at once' } });
    await fireEvent.keyDown(container.querySelector('form')!, { key: 'Enter', ctrlKey: true });
    await waitFor(() => expect(invoke).toHaveBeenCalledWith('create_contact', expect.anything()));
    expect(order).toEqual(['set_form_draft', 'create_contact']);
    expect(slot.kept).toBeNull();
  });

  it('a correction keeps what it changed, and gets back only what nobody changed since', async () => {
    const { slot, handlers } = draftSlot();
    let current = contact;
    const invoke = answers({ ...handlers, get_contact: () => ({ contact: current, client: amina }), unlock: () => session });
    go({ name: 'contact', client: amina, contactId: contact.id, returnTo: { name: 'today' } });
    const { container } = render(App);
    await settle();
    await fireEvent.input(screen.getByLabelText('Summary'), { target: { value: 'CV reviewed twice' } });
    await fireEvent.input(screen.getByLabelText('Duration (minutes)'), { target: { value: '45' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Lock' }));
    await settle();
    // Kept: only what changed, from what and to what.
    expect(slot.kept?.form).toBe(`edit-contact:${contact.id}`);
    expect(invoke).toHaveBeenCalledWith('set_form_draft', expect.objectContaining({ about: contact.id }));
    expect(JSON.parse(slot.kept!.text).values).toEqual({
      summary: { from: 'CV reviewed', to: 'CV reviewed twice' },
      duration_min: { from: 20, to: 45 },
    });

    // Meanwhile a colleague's correction of the summary arrives with a sync.
    current = { ...contact, summary: 'CV reviewed with coach2' };
    await fireEvent.input(screen.getByLabelText('Password'), { target: { value: 'secret' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Unlock' }));
    await settle();
    expect(nav.screen).toMatchObject({ name: 'contact', contactId: contact.id });
    expect((screen.getByLabelText('Duration (minutes)') as HTMLInputElement).value).toBe('45');
    expect((screen.getByLabelText('Summary') as HTMLTextAreaElement).value).toBe('CV reviewed with coach2');
    expect(screen.getByText(/and did not save is back/)).toBeTruthy();
    // What was typed for the summary is shown, not lost unseen.
    const stale = container.querySelector('.draft-stale')!;
    expect(stale.textContent).toMatch(/^Not given back, because it was changed meanwhile/);
    expect([...stale.querySelectorAll('li')].map((li) => li.textContent)).toEqual(['Summary: CV reviewed twice']);
    // Locked again before saving: what was not given back is kept too, to be shown again.
    await fireEvent.click(screen.getByRole('button', { name: 'Lock' }));
    await settle();
    expect(JSON.parse(slot.kept!.text).values).toEqual({
      summary: { from: 'CV reviewed', to: 'CV reviewed twice' },
      duration_min: { from: 20, to: 45 },
    });
    await fireEvent.input(screen.getByLabelText('Password'), { target: { value: 'secret' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Unlock' }));
    await settle();
    expect(container.querySelectorAll('.draft-stale li').length).toBe(1);
    await fireEvent.keyDown(container.querySelector('form')!, { key: 'Enter', ctrlKey: true });
    await waitFor(() =>
      expect(invoke).toHaveBeenCalledWith('edit_contact', { edit: { id: contact.id, fields: { duration_min: 45 }, before: { duration_min: 20 }, form: `edit-contact:${contact.id}` } }),
    );
    expect(slot.kept).toBeNull();
  });

  it('a client’s edit keeps what it changed, and gets back only what nobody changed since', async () => {
    const { slot, handlers } = draftSlot();
    let current = aminaDetail;
    const invoke = answers({ ...handlers, get_client: () => current, unlock: () => session });
    go({ name: 'client', clientId: amina.id, edit: true });
    const { container } = render(App);
    await settle();
    await fireEvent.input(screen.getByLabelText('Phone'), { target: { value: '040 555 6666' } });
    await fireEvent.input(screen.getByLabelText('Family name'), { target: { value: 'Warsame-Ali' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Lock' }));
    await settle();
    expect(slot.kept?.form).toBe(`edit-client:${amina.id}`);
    expect(JSON.parse(slot.kept!.text)).toMatchObject({
      screen: { name: 'client', clientId: amina.id, edit: true },
      values: {
        phone: { from: '+358401234567', to: '040 555 6666' },
        family_name: { from: 'Warsame', to: 'Warsame-Ali' },
      },
    });

    // A colleague corrects the family name meanwhile.
    current = { ...aminaDetail, fields: { ...aminaDetail.fields, family_name: 'Warsame Ali' } };
    await fireEvent.input(screen.getByLabelText('Password'), { target: { value: 'secret' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Unlock' }));
    await settle();
    expect((screen.getByLabelText('Phone') as HTMLInputElement).value).toBe('040 555 6666');
    expect((screen.getByLabelText('Family name') as HTMLInputElement).value).toBe('Warsame Ali');
    expect([...container.querySelectorAll('.draft-stale li')].map((li) => li.textContent)).toEqual(['Family name: Warsame-Ali']);
    await fireEvent.click(container.querySelector('form.client-form button[type="submit"]')!);
    await waitFor(() =>
      expect(invoke).toHaveBeenCalledWith('edit_client', { edit: { id: amina.id, fields: { phone: '040 555 6666' }, before: { phone: '+358401234567' }, form: `edit-client:${amina.id}` } }),
    );
    expect(slot.kept).toBeNull();
  });

  it('a kept correction that cleared the time gives back an empty time, and deleting the contact forgets it', async () => {
    const { slot, handlers } = draftSlot({
      form: `edit-contact:${contact.id}`,
      text: JSON.stringify({ version: 1, screen: { name: 'contact', client: amina, contactId: contact.id, returnTo: { name: 'today' } }, saved_at: '2026-12-07T08:30:00Z', values: { occurred_at: { from: contact.occurred_at, to: null } } }),
    });
    answers({ ...handlers, get_contact: () => ({ contact, client: amina }) });
    go({ name: 'contact', client: amina, contactId: contact.id, returnTo: { name: 'today' } });
    render(ContactForm, { client: amina, contactId: contact.id, returnTo: { name: 'today' } });
    await settle();
    expect((screen.getByLabelText('Time') as HTMLInputElement).value).toBe('');
    await fireEvent.click(screen.getByRole('button', { name: 'Delete contact' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Delete' }));
    await waitFor(() => expect(slot.kept).toBeNull());
  });

  it('a kept edit whose every field was changed meanwhile shows what was typed, kept over a lock until the form is left or saved', async () => {
    const staleDraft = {
      form: `edit-client:${amina.id}`,
      text: JSON.stringify({ version: 1, screen: { name: 'client', clientId: amina.id, edit: true }, saved_at: '2026-12-07T08:30:00Z', values: { phone: { from: '040 111 2222', to: '040 555 6666' } } }),
    };
    for (const end of ['leave', 'save'] as const) {
      const { slot, handlers } = draftSlot(staleDraft);
      const invoke = answers({ ...handlers, unlock: () => session });
      go({ name: 'client', clientId: amina.id, edit: true });
      const { container } = render(App);
      await settle();
      const shown = () => [...container.querySelectorAll('.draft-stale li')].map((li) => li.textContent);
      expect(shown()).toEqual(['Phone: 040 555 6666']);
      expect(container.querySelector('.notice.info:not(.draft-stale)')).toBeNull();
      // Kept over a lock, and shown again after unlocking.
      await fireEvent.click(screen.getByRole('button', { name: 'Lock' }));
      await settle();
      expect(slot.kept?.form).toBe(`edit-client:${amina.id}`);
      expect(JSON.parse(slot.kept!.text).values.phone).toMatchObject({ to: '040 555 6666' });
      await fireEvent.input(screen.getByLabelText('Password'), { target: { value: 'secret' } });
      await fireEvent.click(screen.getByRole('button', { name: 'Unlock' }));
      await settle();
      expect(shown()).toEqual(['Phone: 040 555 6666']);
      if (end === 'leave') {
        // Leaving asks first: what was typed would be lost.
        await fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
        await settle();
        await fireEvent.click(screen.getByRole('button', { name: 'Leave without saving' }));
      } else {
        // Saved as it is: nothing to change, and what was shown is let go.
        await fireEvent.click(container.querySelector('form.client-form button[type="submit"]')!);
      }
      await settle();
      expect(slot.kept).toBeNull();
      expect(invoke).not.toHaveBeenCalledWith('edit_client', expect.anything());
      cleanup();
      Object.assign(nav, { screen: { name: 'today' }, notice: null, undo: null });
    }
  });

  it('a kept edit of a client erased since is forgotten', async () => {
    const { slot, handlers } = draftSlot({
      form: `edit-client:${amina.id}`,
      text: JSON.stringify({ version: 1, screen: { name: 'client', clientId: amina.id, edit: true }, saved_at: '2026-12-07T08:30:00Z', values: { phone: { from: null, to: '040 555 6666' } } }),
    });
    answers({
      ...handlers,
      get_client: () => {
        throw { kind: 'not_found', message: 'no client', field: null };
      },
    });
    render(ClientProfile, { clientId: amina.id, edit: true });
    await settle();
    expect(slot.kept).toBeNull();
  });

  it('a kept correction of a contact deleted since is forgotten', async () => {
    const { slot, handlers } = draftSlot({
      form: `edit-contact:${contact.id}`,
      text: JSON.stringify({ version: 1, screen: { name: 'contact', client: amina, contactId: contact.id, returnTo: { name: 'today' } }, saved_at: '2026-12-07T08:30:00Z', values: { summary: { from: 'CV reviewed', to: 'CV' } } }),
    });
    answers({
      ...handlers,
      get_contact: () => {
        throw { kind: 'not_found', message: 'no contact', field: null };
      },
    });
    render(ContactForm, { client: amina, contactId: contact.id, returnTo: { name: 'today' } });
    await settle();
    expect(slot.kept).toBeNull();
    // Nothing to correct: no fields to type into (what is typed there would go nowhere).
    expect(screen.queryByLabelText('Summary')).toBeNull();
  });

  it('a new contact shows its fields once its draft and the sites are read, with the draft in them', async () => {
    const { slot, handlers } = draftSlot({
      form: `new-contact:${amina.id}`,
      text: JSON.stringify({
        version: 1,
        screen: { name: 'contact', client: amina, returnTo: { name: 'today' } },
        saved_at: '2026-12-07T08:30:00Z',
        values: {
          topics: ['housing'], referrals: [], serviceLanguage: [], interpreterUsed: false, channel: 'drop_in',
          occurredAt: '2026-12-07T10:30', site: 'site-ngo', duration: null, followUpOn: '', followUpDone: false,
          summary: 'Kept before the lock',
        },
      }),
    });
    let sitesRead: (() => void) | null = null;
    answers({ ...handlers, sites: () => new Promise((resolve) => (sitesRead = () => resolve(sitesView))) });
    go({ name: 'contact', client: amina, returnTo: { name: 'today' } });
    const { container } = render(ContactForm, { client: amina, returnTo: { name: 'today' } });
    await settle();
    // Nothing to type into (and nothing to save) until the form knows what it gives back.
    expect(screen.queryByLabelText('Summary')).toBeNull();
    expect(container.querySelector('form')!.getAttribute('aria-busy')).toBe('true');
    expect((screen.getByRole('button', { name: 'Save' }) as HTMLButtonElement).disabled).toBe(true);
    sitesRead!();
    await settle();
    expect((screen.getByLabelText('Summary') as HTMLTextAreaElement).value).toBe('Kept before the lock');
    expect(container.querySelector('form')!.getAttribute('aria-busy')).toBe('false');
    expect(document.activeElement?.closest('#contact-topics')).toBeTruthy();
    expect(JSON.parse(slot.kept!.text).values.summary).toBe('Kept before the lock');
  });

  it('a correction offers Delete only once its kept draft is read (a delete forgets the draft)', async () => {
    let draftRead: (() => void) | null = null;
    answers({
      get_contact: () => ({ contact, client: amina }),
      form_draft: () => new Promise((resolve) => (draftRead = () => resolve(null))),
    });
    render(ContactForm, { client: amina, contactId: contact.id, returnTo: { name: 'today' } });
    await settle();
    expect(screen.queryByRole('button', { name: 'Delete contact' })).toBeNull();
    draftRead!();
    await settle();
    expect(screen.getByRole('button', { name: 'Delete contact' })).toBeTruthy();
  });

  it('a new contact with something typed asks before Escape throws it away', async () => {
    answers();
    go({ name: 'contact', client: amina, returnTo: { name: 'today' } });
    const { container } = render(ContactForm, { client: amina, returnTo: { name: 'today' } });
    await settle();
    await fireEvent.click(screen.getByRole('button', { name: 'Housing' }));
    await fireEvent.keyDown(container.querySelector('form')!, { key: 'Escape' });
    await settle();
    expect(nav.screen.name).toBe('contact');
    await fireEvent.click(screen.getByRole('button', { name: 'Leave without saving' }));
    expect(nav.screen.name).toBe('today');
  });

  it('deleting asks first, and Cancel keeps the contact', async () => {
    const invoke = answers({ get_contact: () => ({ contact, client: amina }), delete_contact: () => null });
    render(ContactForm, { client: amina, contactId: contact.id, returnTo: { name: 'client', clientId: amina.id } });
    await settle();
    await fireEvent.click(screen.getByRole('button', { name: 'Delete contact' }));
    const question = screen.getByRole('group', { name: /^Delete this contact\?/ });
    await fireEvent.click(within(question).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByText(/Delete this contact\?/)).toBeNull();
    expect(invoke).not.toHaveBeenCalledWith('delete_contact', expect.anything());

    await fireEvent.click(screen.getByRole('button', { name: 'Delete contact' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Delete' }));
    await waitFor(() => expect(invoke).toHaveBeenCalledWith('delete_contact', { id: contact.id, form: `edit-contact:${contact.id}` }));
    await waitFor(() => expect(nav.notice).toBe('Contact deleted.'));
  });

  it('a deletion is offered back beside its notice, and Undo restores the contact', async () => {
    const deletedContact = aminaDetail.contacts[0];
    let deleted = false;
    const invoke = answers({
      get_client: () => (deleted
        ? { ...aminaDetail, contacts: [], deleted_contacts: [{ contact: deletedContact, deleted_by: 'u-coach1', deleted_by_me: true, deleted_at: '2026-11-26T10:00:00Z' }] }
        : aminaDetail),
      get_contact: () => ({ contact: deletedContact, client: amina }),
      delete_contact: () => {
        deleted = true;
        return null;
      },
      restore_contact: () => {
        deleted = false;
        return null;
      },
    });
    go({ name: 'client', clientId: amina.id });
    const { container } = render(App);
    await settle();
    await fireEvent.click(screen.getByRole('button', { name: /^Edit the contact on/ }));
    await settle();
    await fireEvent.click(screen.getByRole('button', { name: 'Delete contact' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Delete' }));
    await waitFor(() => expect(nav.notice).toBe('Contact deleted.'));
    await settle();
    expect(container.querySelector('.timeline li .edit-contact')).toBeNull();
    expect(container.querySelector(`[data-deleted-contact="${deletedContact.id}"]`)).not.toBeNull();

    await fireEvent.click(screen.getByRole('button', { name: 'Undo' }));
    await waitFor(() => expect(invoke).toHaveBeenCalledWith('restore_contact', { id: deletedContact.id }));
    await waitFor(() => expect(nav.notice).toBe('Contact restored.'));
    await settle();
    // The profile read again: the contact is back in the timeline, nothing to undo.
    expect(container.querySelector(`.edit-contact[data-contact="${deletedContact.id}"]`)).not.toBeNull();
    expect(container.querySelector('[data-deleted-contact]')).toBeNull();
    expect(screen.queryByRole('button', { name: 'Undo' })).toBeNull();
  });

  it('a client’s profile lists the deleted contacts apart, who deleted each, each with Restore', async () => {
    const deletedContact = { ...aminaDetail.contacts[0], id: 'c-deleted', summary: 'logged for the wrong client' };
    const deletion = { contact: deletedContact, deleted_by: 'u-coach1', deleted_by_me: true, deleted_at: '2026-11-26T10:00:00Z' };
    let restored = false;
    // The restore answers when the test says so: clicked again meanwhile, it runs once.
    let answerRestore = () => {};
    const invoke = answers({
      get_client: () => (restored
        ? { ...aminaDetail, contacts: [...aminaDetail.contacts, deletedContact] }
        : { ...aminaDetail, deleted_contacts: [deletion] }),
      restore_contact: () =>
        new Promise((resolve) => {
          answerRestore = () => {
            restored = true;
            resolve(null);
          };
        }),
    });
    const { container } = render(ClientProfile, { clientId: amina.id });
    await settle();
    const deleted = container.querySelector('details.deleted-contacts') as HTMLDetailsElement;
    expect(deleted.querySelector('summary')?.textContent).toBe('Deleted contacts (1)');
    expect(deleted.textContent).toMatch(/Deleted by coach1, /);
    // Not its summary: a contact logged for the wrong client is about someone else.
    expect(deleted.textContent).not.toContain('logged for the wrong client');
    expect(container.querySelectorAll('.timeline li .edit-contact').length).toBe(1);
    const restore = within(deleted).getByRole('button', { name: /^Restore the contact on/ });
    await fireEvent.click(restore);
    await fireEvent.click(restore);
    await waitFor(() => expect(invoke).toHaveBeenCalledWith('restore_contact', { id: 'c-deleted' }));
    expect(invoke.mock.calls.filter(([command]) => command === 'restore_contact').length).toBe(1);
    answerRestore();
    await waitFor(() => expect(screen.getByText('Contact restored.')).toBeTruthy());
    expect(container.querySelector('details.deleted-contacts')).toBeNull();
    expect(container.querySelectorAll('.timeline li .edit-contact').length).toBe(2);
  });

  it('restoring a colleague’s deletion asks first; Cancel or Escape leaves it deleted', async () => {
    const deletion = { contact: { ...aminaDetail.contacts[0], id: 'c-deleted' }, deleted_by: 'u-coach2', deleted_by_me: false, deleted_at: '2026-11-26T10:00:00Z' };
    const invoke = answers({
      get_client: () => ({ ...aminaDetail, deleted_contacts: [deletion] }),
      restore_contact: () => null,
    });
    const { container } = render(ClientProfile, { clientId: amina.id });
    await settle();
    const restore = screen.getByRole('button', { name: /^Restore the contact on/ });
    const question = () => screen.queryByRole('group', { name: /^coach2 deleted this contact\. Restore it\?/ });
    await fireEvent.click(restore);
    await settle();
    expect(question()).not.toBeNull();
    expect(document.activeElement).toBe(within(question()!).getByRole('button', { name: 'Cancel' }));
    await fireEvent.keyDown(document.activeElement!, { key: 'Escape' });
    await settle();
    expect(question()).toBeNull();
    expect(document.activeElement).toBe(restore);
    await fireEvent.click(restore);
    await settle();
    await fireEvent.click(within(question()!).getByRole('button', { name: 'Cancel' }));
    await settle();
    expect(invoke).not.toHaveBeenCalledWith('restore_contact', expect.anything());
    expect(await seriousViolations(container)).toEqual([]);

    // Restored once the user says so.
    await fireEvent.click(restore);
    await settle();
    await fireEvent.click(within(question()!).getByRole('button', { name: 'Restore' }));
    await waitFor(() => expect(invoke).toHaveBeenCalledWith('restore_contact', { id: 'c-deleted' }));
  });

  it('a restore that fails says so beside the list and keeps the profile', async () => {
    const deletion = { contact: { ...aminaDetail.contacts[0], id: 'c-deleted' }, deleted_by: null, deleted_by_me: false, deleted_at: null };
    answers({
      get_client: () => ({ ...aminaDetail, deleted_contacts: [deletion] }),
      restore_contact: () => {
        throw { kind: 'disk_full', message: 'database or disk is full', field: null };
      },
    });
    const { container } = render(ClientProfile, { clientId: amina.id });
    await settle();
    await fireEvent.click(screen.getByRole('button', { name: /^Restore the contact on/ }));
    await settle();
    // Who deleted it is not known here: asked as someone else's.
    const question = screen.getByRole('group', { name: /^Who deleted this contact is not known/ });
    await fireEvent.click(within(question).getByRole('button', { name: 'Restore' }));
    await settle();
    expect(container.querySelector('.timeline li .edit-contact')).not.toBeNull();
    expect(container.querySelector('.notice.error')).not.toBeNull();
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Amina Warsame');
  });
});

describe('duplicates', () => {
  it('a team lead sees both clients side by side with the differing fields marked, and keeps the later one', async () => {
    const invoke = answers({ unsynced: () => unsyncedView(true) });
    const { container } = render(Unsynced);
    await settle();
    expect(screen.getByRole('heading', { name: 'Possible duplicate clients' })).toBeTruthy();
    const pair = container.querySelector('article.duplicate-pair') as HTMLElement;
    expect(pair.textContent).toContain('Same birth year and matching names');
    expect(pair.textContent).toContain('Names 100 % alike');
    const given = pair.querySelector('tr[data-field="given_name"]') as HTMLElement;
    expect(given.dataset.differs).toBe('true');
    expect(given.textContent).toContain('Olga');
    expect(given.textContent).toContain('Ольга');
    expect(given.textContent).toContain('(differs)');
    expect((pair.querySelector('tr[data-field="birth_year"]') as HTMLElement).dataset.differs).toBe('false');
    await fireEvent.click(screen.getByRole('button', { name: 'Keep the later one, merge the first into it' }));
    await waitFor(() =>
      expect(invoke).toHaveBeenCalledWith('merge_duplicate', { pair: { first_id: olha, second_id: olga } }),
    );
    await waitFor(() => expect(screen.getByText(/^Merged\./)).toBeTruthy());
    expect(container.querySelector('article.duplicate-pair')).toBeNull();
  });

  it('a recent merge can be undone and a pair dismissed as two people', async () => {
    const invoke = answers({ unsynced: () => unsyncedView(true) });
    const { container } = render(Unsynced);
    await settle();
    const merge = container.querySelector('li[data-merge="m1"]') as HTMLElement;
    expect(merge.textContent).toContain('Amina W. merged into Amina Warsame, 2 contacts moved');
    await fireEvent.click(screen.getByRole('button', { name: 'Undo' }));
    await waitFor(() => expect(invoke).toHaveBeenCalledWith('undo_duplicate_merge', { mergeId: 'm1' }));
    await waitFor(() => expect(screen.getByText(/The merge was undone/)).toBeTruthy());
    await fireEvent.click(screen.getByRole('button', { name: 'Not the same person' }));
    await waitFor(() =>
      expect(invoke).toHaveBeenCalledWith('dismiss_duplicate', { pair: { first_id: olga, second_id: olha } }),
    );
  });

  it('offline, the panel says it needs a connection', async () => {
    answers({
      unsynced: () => unsyncedView(true),
      duplicates: () => {
        throw { kind: 'needs_connection', message: 'offline', field: null };
      },
    });
    render(Unsynced);
    await settle();
    expect(screen.getAllByText(/This needs a connection to the server/).length).toBeGreaterThan(0);
  });
});

describe('leaving the client form', () => {
  it('Cancel with a changed value asks first; unchanged, it leaves at once', async () => {
    answers();
    const oncancel = vi.fn();
    render(ClientForm, { detail: aminaDetail, draftOf: amina.id, oncancel, onsaved: () => {} });
    await settle();
    await fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(oncancel).toHaveBeenCalledTimes(1);

    const phone = screen.getByLabelText('Phone') as HTMLInputElement;
    await fireEvent.input(phone, { target: { value: '040 555 6666' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    await settle();
    expect(oncancel).toHaveBeenCalledTimes(1);
    await fireEvent.click(screen.getByRole('button', { name: 'Keep editing' }));
    expect(phone.value).toBe('040 555 6666');
    // Escape leaves the form too, after the same question.
    await fireEvent.keyDown(phone, { key: 'Escape' });
    await settle();
    await fireEvent.click(screen.getByRole('button', { name: 'Leave without saving' }));
    expect(oncancel).toHaveBeenCalledTimes(2);
  });
});

describe('navigating away while a save runs', () => {
  it('waits for the save: saved, goes where chosen with the save’s notice; refused, stays with the refusal and asks', async () => {
    for (const refused of [false, true]) {
      const saving = later<{ id: string }>();
      const { container, calls } = await appOn({ name: 'contact', client: amina, returnTo: { name: 'today' } }, {
        create_contact: () => saving.promise,
        list_follow_ups: () => [],
      });
      await fireEvent.input(screen.getByLabelText('Summary'), { target: { value: 'Rent arrears' } });
      await fireEvent.click(container.querySelector('form button[type="submit"]')!);
      await settle();
      expect(calls('create_contact')).toBe(1);
      // Chosen while the save runs: nothing moves yet, nothing is asked.
      await fireEvent.click(container.querySelector('[data-nav="follow_ups"]')!);
      await settle();
      expect(screen.getByLabelText('Summary')).toBeTruthy();
      expect(screen.queryByRole('group', { name: /^Leave without saving\?/ })).toBeNull();
      if (refused) saving.fail({ kind: 'disk_full', message: 'database or disk is full', field: null });
      else saving.answer({ id: 'new-contact' });
      await settle();
      if (refused) {
        // The refusal is shown on the form, with what was typed, and the question beside it.
        expect((screen.getByLabelText('Summary') as HTMLTextAreaElement).value).toBe('Rent arrears');
        expect(container.querySelector('[role="alert"]')?.textContent).toMatch(/disk/i);
        expect(screen.getByRole('group', { name: /^Leave without saving\?/ })).toBeTruthy();
        expect(nav.screen.name).toBe('contact');
      } else {
        await waitFor(() => expect(nav.screen.name).toBe('follow_ups'));
        expect(nav.notice).toBe(`Contact saved for ${clientName(amina)}.`);
      }
      cleanup();
      Object.assign(nav, { screen: { name: 'today' }, notice: null, undo: null });
    }
  });
});

describe('closing the window', () => {
  /** The app, with the shell's channel for held close requests: `requestClose` is the window's
   * close button pressed while the shell holds it. `order` lists the draft writes and the
   * close, as they come. */
  async function appHearingCloses(overrides: Parameters<typeof answerCommands>[0] = {}, keeps: 'kept' | 'not kept' | 'disk full' = 'kept') {
    let channel: { onmessage: (message: unknown) => void } | null = null;
    const order: string[] = [];
    const invoke = answers({
      watch_close_requests: (args) => {
        channel = args?.onRequest as typeof channel;
        return null;
      },
      form_draft: () => null,
      set_form_draft: (args) => {
        if (keeps === 'disk full') throw { kind: 'disk_full', message: 'database or disk is full', field: null };
        order.push(args?.text === null ? 'forget' : `keep ${JSON.stringify(JSON.parse(String(args?.text)).values)}`);
        return keeps === 'kept';
      },
      close_window: () => {
        order.push('close');
        return null;
      },
      ...overrides,
    });
    const { container } = render(App);
    await settle();
    const requestClose = async () => {
      channel!.onmessage(null);
      await settle();
    };
    return { invoke, container, requestClose, order };
  }
  const held = (hold: boolean) => ['hold_close', { hold }];
  const question = () => screen.queryByRole('group', { name: /^Leave without saving\?/ });

  it('with a client’s changes unsaved keeps them as a draft and closes without asking', async () => {
    go({ name: 'client', clientId: amina.id, edit: true });
    const { invoke, requestClose, order } = await appHearingCloses();
    expect(invoke).toHaveBeenCalledWith('watch_close_requests', expect.anything());
    expect(invoke).not.toHaveBeenCalledWith(...held(true));
    await fireEvent.input(screen.getByLabelText('Phone'), { target: { value: '040 555 6666' } });
    await settle();
    // The shell holds close requests from the first change on.
    expect(invoke).toHaveBeenCalledWith(...held(true));
    // Closed before the draft's own write a second later.
    await requestClose();
    // The shell is told the request was heard (else it lets the next one through).
    expect(invoke).toHaveBeenCalledWith('close_request_heard', undefined);
    expect(question()).toBeNull();
    expect(order).toEqual([`keep {"phone":{"from":"+358401234567","to":"040 555 6666"}}`, 'close']);
  });

  it('asks when the changes cannot be kept, and forgets what was kept before closing when the user leaves them', async () => {
    go({ name: 'client', clientId: amina.id, edit: true });
    // The store does not keep them (the client was erased meanwhile).
    const { invoke, requestClose, order } = await appHearingCloses({}, 'not kept');
    const phone = screen.getByLabelText('Phone') as HTMLInputElement;
    await fireEvent.input(phone, { target: { value: '040 555 6666' } });
    await settle();
    await requestClose();
    expect(question()).not.toBeNull();
    await fireEvent.click(screen.getByRole('button', { name: 'Keep editing' }));
    expect(phone.value).toBe('040 555 6666');
    expect(invoke).not.toHaveBeenCalledWith('close_window', undefined);

    await requestClose();
    await fireEvent.click(screen.getByRole('button', { name: 'Leave without saving' }));
    await settle();
    const keep = `keep {"phone":{"from":"+358401234567","to":"040 555 6666"}}`;
    expect(order).toEqual([keep, keep, 'forget', 'close']);
  });

  it('with nothing changed any more lets the window close at once', async () => {
    go({ name: 'client', clientId: amina.id, edit: true });
    const { invoke, requestClose, order } = await appHearingCloses();
    const phone = screen.getByLabelText('Phone') as HTMLInputElement;
    await fireEvent.input(phone, { target: { value: '040 555 6666' } });
    await settle();
    await fireEvent.input(phone, { target: { value: aminaDetail.fields.phone as string } });
    await settle();
    expect(invoke).toHaveBeenLastCalledWith(...held(false));
    // A request already on its way finds nothing to ask about or keep.
    await requestClose();
    expect(question()).toBeNull();
    expect(order).toEqual(['close']);
  });

  it('while a save runs waits for it, and closes once it is saved; a refused save is kept first', async () => {
    for (const refused of [false, true]) {
      let answer: (() => void) | null = null;
      go({ name: 'client', clientId: amina.id, edit: true });
      const { container, requestClose, order } = await appHearingCloses({
        edit_client: () =>
          new Promise((resolve, reject) => {
            answer = () => (refused ? reject({ kind: 'disk_full', message: 'database or disk is full', field: null }) : resolve({ changed_fields: ['phone'] }));
          }),
      });
      await fireEvent.input(screen.getByLabelText('Phone'), { target: { value: '040 555 6666' } });
      await fireEvent.click(container.querySelector('form.client-form button[type="submit"]')!);
      await settle();
      await requestClose();
      // Not closed while the save runs, nor asked.
      expect(order).not.toContain('close');
      expect(question()).toBeNull();
      answer!();
      await settle();
      await waitFor(() => expect(order.at(-1)).toBe('close'));
      // Saved: nothing kept after the save's own write; refused: what was typed stays kept.
      const keeps = order.filter((entry) => entry.startsWith('keep'));
      expect(keeps).toEqual([`keep {"phone":{"from":"+358401234567","to":"040 555 6666"}}`]);
      expect(order).not.toContain('forget');
      cleanup();
      Object.assign(nav, { screen: { name: 'today' }, notice: null, undo: null });
    }
  });

  it('installing an update over a typed contact keeps it first, as a close does', async () => {
    go({ name: 'contact', client: amina, returnTo: { name: 'today' } });
    const { order } = await appHearingCloses({
      install_update: () => {
        order.push('install');
        return null;
      },
    });
    await fireEvent.input(screen.getByLabelText('Summary'), { target: { value: 'Rent arrears' } });
    await settle();
    await fireEvent.click(screen.getByRole('button', { name: 'Install and restart' }));
    await settle();
    expect(order.at(-2)).toMatch(/^keep .*"summary":"Rent arrears"/);
    expect(order.at(-1)).toBe('install');
  });

  it('with a new contact typed keeps it as a draft and closes without asking; asks if it cannot be kept', async () => {
    for (const keeps of [true, false]) {
      go({ name: 'contact', client: amina, returnTo: { name: 'today' } });
      const { invoke, requestClose, order } = await appHearingCloses({}, keeps ? 'kept' : 'disk full');
      // Closed a moment after typing, before the draft's own write a second later.
      await fireEvent.input(screen.getByLabelText('Summary'), { target: { value: 'Rent arrears' } });
      await settle();
      expect(invoke).toHaveBeenCalledWith(...held(true));
      await requestClose();
      if (keeps) {
        expect(order.at(-2)).toMatch(/^keep .*"summary":"Rent arrears"/);
        expect(order.at(-1)).toBe('close');
        expect(question()).toBeNull();
      } else {
        expect(question()).not.toBeNull();
        expect(order).not.toContain('close');
      }
      cleanup();
      Object.assign(nav, { screen: { name: 'today' }, notice: null, undo: null });
    }
  });
});

describe('consent gate on the client form', () => {
  const gated = ['Disability', 'Third-country national', 'Foreign background'];

  it('special-category fields stay disabled, saying why, until a lawful basis is chosen', async () => {
    const mocked = answers({ edit_client: () => ({ changed_fields: ['lawful_basis', 'disability'] }) });
    render(ClientForm, { detail: aminaDetail, draftOf: amina.id, oncancel: () => {}, onsaved: () => {} });
    await settle();
    for (const label of gated) {
      const select = screen.getByLabelText(label) as HTMLSelectElement;
      expect(select.disabled).toBe(true);
      expect(document.getElementById(select.getAttribute('aria-describedby')!.split(' ')[0])!.textContent).toBe(
        'Record a lawful basis first: this is special-category data, kept only with a lawful basis.',
      );
    }
    await fireEvent.change(screen.getByLabelText('Lawful basis'), { target: { value: 'public_task' } });
    await settle();
    const disability = screen.getByLabelText('Disability') as HTMLSelectElement;
    expect(disability.disabled).toBe(false);
    expect(disability.getAttribute('aria-describedby')).toBeNull();
    // "Declined to say" is an answer of every sensitive item.
    expect([...disability.options].map((o) => o.textContent)).toContain('Declined to say');
    await fireEvent.change(disability, { target: { value: 'declined' } });
    await fireEvent.click(screen.getByText('Save'));
    await settle();
    const edit = mocked.mock.calls.find(([command]) => command === 'edit_client')![1] as { edit: { fields: object } };
    expect(edit.edit.fields).toEqual({ lawful_basis: 'public_task', disability: 'declined' });
  });

  it('choosing a consent says that its date and recorder are filled in', async () => {
    answers();
    render(ClientForm, { detail: aminaDetail, draftOf: amina.id, oncancel: () => {}, onsaved: () => {} });
    await settle();
    expect(screen.queryByText(/Saving records today’s date/)).toBeNull();
    await fireEvent.change(screen.getByLabelText('Consent'), { target: { value: 'recorded' } });
    await settle();
    expect(screen.getByText(/Saving records today’s date/)).toBeTruthy();
  });
});

describe('unlock lockout', () => {
  it('after too many wrong passwords the unlock screen shows the wait and refuses to submit', async () => {
    // A clock of the test's own: asking for the wait takes 40 ms, which must not show as 31 s.
    let clock = 1_800_000_000_000;
    const now = vi.spyOn(Date, 'now').mockImplementation(() => clock);
    onTestFinished(() => now.mockRestore());
    answers({
      unlock: () => {
        throw { kind: 'locked_out', message: 'Too many wrong passwords: try again in 30 seconds', field: null };
      },
      session_state: () => {
        clock += 40;
        return { ...session, unlocked: false, unlock_wait_secs: 30 };
      },
    });
    render(SignIn, { session: { ...session, unlocked: false }, onsignedin: () => {} });
    await settle();
    const submit = screen.getByRole('button', { name: 'Unlock' }) as HTMLButtonElement;
    expect(submit.disabled).toBe(false);
    await fireEvent.input(screen.getByLabelText('Password'), { target: { value: 'wrong' } });
    await fireEvent.click(submit);
    await settle();
    expect(screen.getByRole('status').textContent).toMatch(/^Too many wrong passwords\. Try again in 30 s/);
    expect(submit.disabled).toBe(true);
  });

  it('a lockout that outlived a restart is shown at once', async () => {
    answers();
    render(SignIn, { session: { ...session, unlocked: false, unlock_wait_secs: 600 }, onsignedin: () => {} });
    await settle();
    expect(screen.getByRole('status').textContent).toMatch(/Try again in (600|599) s/);
    expect((screen.getByRole('button', { name: 'Unlock' }) as HTMLButtonElement).disabled).toBe(true);
  });
});

describe('sign-in on a provisioned laptop', () => {
  it('shows the server IT set, read-only, says why, and starts at the user name', async () => {
    answers();
    render(SignIn, {
      session: { ...session, signed_in: false, unlocked: false },
      defaultServer: 'https://tandem.vantaa.fi',
      serverProvisioned: true,
      onsignedin: () => {},
    });
    await settle();
    const server = screen.getByLabelText('Server address') as HTMLInputElement;
    expect(server.value).toBe('https://tandem.vantaa.fi');
    expect(server.readOnly).toBe(true);
    expect(screen.getByText("Set by your organisation's IT.")).toBeTruthy();
    expect(document.activeElement).toBe(screen.getByLabelText('User name'));
  });

  it('lets the user type the server when IT did not set one', async () => {
    answers();
    render(SignIn, { session: { ...session, signed_in: false, unlocked: false }, onsignedin: () => {} });
    await settle();
    const server = screen.getByLabelText('Server address') as HTMLInputElement;
    expect(server.readOnly).toBe(false);
    expect(document.activeElement).toBe(server);
  });
});

// The shell's sync events as App hears them (`watch_sync`): a sync that sent two changes and
// received one, and one that found nothing to do. The status bar shows the same counts before
// and after either (`offlineStatus`: 12 waiting, 1 refused, 1 conflict).
const syncedStatus = { ...offlineStatus, online: true, last_error: null, last_sync_at: '2026-12-07T10:00:00Z' };
const SYNC_CHANGED: SyncEvent[] = [
  { event: 'started' },
  { event: 'pushed', count: 2 },
  { event: 'pulled', count: 1, purged: 0, received: 1, percent: 100 },
  { event: 'finished', status: syncedStatus, conflicts_changed: false },
];
const SYNC_NOTHING: SyncEvent[] = [
  { event: 'started' },
  { event: 'started' },
  { event: 'pulled', count: 0, purged: 0, received: 0, percent: 100 },
  { event: 'finished', status: syncedStatus, conflicts_changed: false },
];
// A sync that did not reach the server.
const SYNC_FAILED: SyncEvent[] = [
  { event: 'started' },
  { event: 'finished', status: offlineStatus, conflicts_changed: false },
];
// A team lead's sync that sent and received nothing, after which the conflicts mirrored from
// the server are others, as many open as before (one closed by another lead, one opened).
const SYNC_OTHER_CONFLICTS: SyncEvent[] = [
  { event: 'started' },
  { event: 'pulled', count: 0, purged: 0, received: 0, percent: 100 },
  { event: 'finished', status: syncedStatus, conflicts_changed: true },
];

/** The app showing `shown`, with the commands answered as `answers` does (and `overrides`);
 * `sync` sends a sync's events to it as the shell does, `calls` counts a command's calls and
 * `asked` lists their arguments. */
async function appOn(shown: Screen, overrides: Parameters<typeof answerCommands>[0] = {}) {
  let channel: { onmessage: (event: SyncEvent) => void } | undefined;
  const invoke = answers({
    watch_sync: (args) => {
      channel = args?.onEvent as typeof channel;
      return null;
    },
    ...overrides,
  });
  go(shown);
  const rendered = render(App);
  await settle();
  return {
    ...rendered,
    invoke,
    calls: (command: string) => invoke.mock.calls.filter(([called]) => called === command).length,
    asked: (command: string) => invoke.mock.calls.filter(([called]) => called === command).map(([, args]) => args),
    async sync(events: SyncEvent[]) {
      for (const event of events) channel!.onmessage(event);
      await settle();
    },
  };
}

/** A command's answers in the order it is called: the nth from `nth` where it has one (a later
 * answer, a failure), the others from `otherwise`. */
function answersInTurn<T>(nth: Record<number, () => Promise<T>>, otherwise: (args: Record<string, unknown> | undefined) => T) {
  let calls = 0;
  return (args: Record<string, unknown> | undefined) => nth[++calls]?.() ?? otherwise(args);
}

/** Whether the button named `name` is disabled (busy with the read it asked for). */
const disabled = (name: string) => (screen.getByRole('button', { name }) as HTMLButtonElement).disabled;

describe('after a sync that changed something', () => {
  const screensThatRead: [string, Screen, string[]][] = [
    ['Today', { name: 'today' }, ['recent_clients', 'contacts_logged']],
    ['Follow-ups', { name: 'follow_ups' }, ['follow_ups_due']],
    ['Unsynced', { name: 'unsynced' }, ['unsynced']],
    ['Client profile', { name: 'client', clientId: amina.id }, ['get_client']],
  ];
  for (const [name, shown, reads] of screensThatRead) {
    it(`${name} reads again after a sync that changed something, not after one that changed nothing`, async () => {
      const app = await appOn(shown);
      const counted = () => reads.map(app.calls);
      const before = counted();
      expect(before.every((count) => count === 1)).toBe(true);
      await app.sync(SYNC_NOTHING);
      expect(counted()).toEqual(before);
      await app.sync(SYNC_CHANGED);
      expect(counted()).toEqual(before.map((count) => count + 1));
      // The status bar's poll, or a sync whose counts came back as they were, reads nothing.
      await app.sync(SYNC_NOTHING);
      expect(counted()).toEqual(before.map((count) => count + 1));
    });
  }

  describe('Today', () => {
    const amir = { ...amina, id: '0190f0c4-8d5e-7c3a-9f1e-00000000000b', given_name: 'Amir', family_name: 'Hassan' };
    const olgaSummary = { ...amina, id: olga, given_name: 'Olga', family_name: 'Ivanova' };
    const visit = { ...aminaDetail.contacts[0], id: 'c-other-laptop', client_id: null, occurred_at: new Date().toISOString(), topics: ['housing'] };

    it('shows the new recent clients, contacts and search results, keeping the search, its highlight and the focus', async () => {
      let synced = false;
      const app = await appOn({ name: 'today' }, {
        recent_clients: () => (synced ? [olgaSummary, amina] : [amina]),
        contacts_logged: () => ({ items: synced ? [{ contact: visit, client: null, deleted: false }] : [], more: false }),
        search_clients: () => (synced ? [amir, amina] : [amina]),
      });
      const search = screen.getByLabelText('Find or register a client') as HTMLInputElement;
      await fireEvent.input(search, { target: { value: 'ami' } });
      await settle();
      expect(screen.getByRole('option', { selected: true }).textContent).toContain('Amina Warsame');
      expect(document.activeElement).toBe(search);

      synced = true;
      await app.sync(SYNC_CHANGED);
      const recent = app.container.querySelector('.recent') as HTMLElement;
      expect(recent.textContent).toContain('Olga Ivanova');
      const day = screen.getByRole('region', { name: 'Your contacts today' });
      expect(within(day).getByRole('listitem').getAttribute('data-logged-contact')).toBe('c-other-laptop');
      const options = screen.getAllByRole('option');
      expect(options.map((option) => option.querySelector('.name')?.textContent)).toEqual(['Amir Hassan', 'Amina Warsame', '+ Register “ami” as a new client']);
      // The client highlighted stays highlighted where the list moved it; the box keeps its text
      // and the focus, and Enter takes that client.
      expect(screen.getByRole('option', { selected: true }).textContent).toContain('Amina Warsame');
      expect(search.value).toBe('ami');
      expect(document.activeElement).toBe(search);
      await fireEvent.keyDown(search, { key: 'Enter' });
      await settle();
      expect(nav.screen).toMatchObject({ name: 'contact', client: { id: amina.id } });
    });

    it('keeps its lists while they are read again, and the latest read wins over a slower earlier one', async () => {
      const earlier = { ...visit, id: 'c-earlier' };
      const reads: ReturnType<typeof later<unknown>>[] = [];
      let first = true;
      const app = await appOn({ name: 'today' }, {
        contacts_logged: () => {
          if (first) {
            first = false;
            return { items: [{ contact: earlier, client: null, deleted: false }], more: false };
          }
          reads.push(later());
          return reads[reads.length - 1].promise;
        },
      });
      const day = () => screen.getByRole('region', { name: /^Your contacts/ });
      await app.sync(SYNC_CHANGED);
      // Read again: the list stays as it was meanwhile, not busy.
      expect(reads).toHaveLength(1);
      expect(within(day()).getByRole('listitem').getAttribute('data-logged-contact')).toBe('c-earlier');
      expect(day().getAttribute('aria-busy')).toBe('false');
      await app.sync(SYNC_CHANGED);
      expect(reads).toHaveLength(2);
      reads[1].answer({ items: [{ contact: visit, client: null, deleted: false }], more: false });
      await settle();
      reads[0].answer({ items: [{ contact: earlier, client: null, deleted: false }], more: false });
      await settle();
      expect(within(day()).getByRole('listitem').getAttribute('data-logged-contact')).toBe('c-other-laptop');
    });

    it('the week asked for while a sync finishes is what is read again, and shown', async () => {
      const weekRead = later<unknown>();
      let asked = 0;
      const app = await appOn({ name: 'today' }, {
        contacts_logged: (args) => {
          asked += 1;
          if (args?.days === 1) return { items: [], more: false };
          // The coach's own read of the week is slow; the one after the sync answers at once.
          return asked === 2 ? weekRead.promise : { items: [{ contact: visit, client: null, deleted: false }], more: false };
        },
      });
      await fireEvent.click(screen.getByRole('button', { name: 'Show the last 7 days' }));
      await settle();
      await app.sync(SYNC_CHANGED);
      const logged = app.asked('contacts_logged');
      expect(logged).toEqual([{ days: 1 }, { days: 7 }, { days: 7 }]);
      const week = screen.getByRole('region', { name: 'Your contacts of the last 7 days' });
      expect(within(week).getAllByRole('listitem')).toHaveLength(1);
      expect(week.getAttribute('aria-busy')).toBe('false');
      weekRead.answer({ items: [], more: false });
      await settle();
      expect(within(week).getAllByRole('listitem')).toHaveLength(1);
    });

    it('a read again that fails keeps the lists and says nothing', async () => {
      let synced = false;
      const fail = () => {
        if (synced) throw { kind: 'store', message: 'database is locked', field: null };
      };
      const app = await appOn({ name: 'today' }, {
        recent_clients: () => fail() ?? [amina],
        contacts_logged: () => fail() ?? { items: [{ contact: visit, client: null, deleted: false }], more: false },
        search_clients: () => fail() ?? [amina],
      });
      await fireEvent.input(screen.getByLabelText('Find or register a client'), { target: { value: 'ami' } });
      await settle();
      synced = true;
      await app.sync(SYNC_CHANGED);
      expect(app.calls('contacts_logged')).toBe(2);
      expect(app.container.querySelector('.recent')?.textContent).toContain('Amina Warsame');
      expect(within(screen.getByRole('region', { name: 'Your contacts today' })).getAllByRole('listitem')).toHaveLength(1);
      expect(screen.getAllByRole('option')).toHaveLength(2);
      expect(screen.queryByRole('alert')).toBeNull();
    });

    it('a read again that overtakes the first read of the recent clients answers in its place, its failure too', async () => {
      const first = later<typeof amina[]>();
      let reads = 0;
      const app = await appOn({ name: 'today' }, {
        recent_clients: () => (++reads === 1 ? first.promise : Promise.reject({ kind: 'store', message: 'database is locked', field: null })),
      });
      await app.sync(SYNC_CHANGED);
      first.answer([amina]);
      await settle();
      // The first answer came after the second read began; the second's failure is the answer.
      expect(reads).toBe(2);
      expect(screen.getByRole('alert').textContent).toBeTruthy();
    });
  });

  describe('Follow-ups', () => {
    const person = (given: string) => ({ ...amina, id: `client-${given}`, given_name: given, family_name: null });
    const followUp = (given: string, coach = 'u-coach1') => ({ contact: { ...aminaDetail.contacts[0], id: `c-${given}`, coach_id: coach }, client: person(given) });
    const due = (...items: ReturnType<typeof followUp>[]) => ({
      overdue: { items, total: items.length },
      today: { items: [], total: 0 },
      this_week: { items: [], total: 0 },
    });
    const names = () => [...document.querySelectorAll('[data-group="overdue"] .name')].map((name) => name.textContent?.trim());

    it('shows the follow-ups as they are after the sync, a new colleague named, keeping the list meanwhile and the focus', async () => {
      localStorage.clear();
      const read = later<unknown>();
      let synced = false;
      const app = await appOn({ name: 'follow_ups' }, {
        follow_ups_due: () => (synced ? read.promise : due(followUp('Leila'), followUp('Omar'))),
        user_names: () => ({ names: synced ? { 'u-coach1': 'coach1', 'u-new': 'coach9' } : { 'u-coach1': 'coach1' } }),
      });
      expect(names()).toEqual(['Leila', 'Omar']);
      const omarsEdit = screen.getByRole('button', { name: 'Edit the follow-up of Omar' });
      omarsEdit.focus();

      synced = true;
      await app.sync(SYNC_CHANGED);
      // Read again: the list stays meanwhile, not replaced by "Loading…".
      expect(names()).toEqual(['Leila', 'Omar']);
      expect(screen.queryByText('Loading…')).toBeNull();
      // Leila's was done on another laptop; a colleague who joined since logged one for Sami.
      read.answer(due(followUp('Omar'), followUp('Sami', 'u-new')));
      await settle();
      expect(names()).toEqual(['Omar', 'Sami']);
      expect(document.querySelectorAll('[data-group="overdue"] .meta')[1].textContent).toContain('Coach coach9');
      expect(document.activeElement).toBe(omarsEdit);
      expect(omarsEdit.isConnected).toBe(true);
    });

    it('the list read after a sync wins over a slower read the coach asked for before it', async () => {
      localStorage.clear();
      const read = later<unknown>();
      let synced = false;
      let mineAsked = 0;
      const app = await appOn({ name: 'follow_ups' }, {
        follow_ups_due: (args) => {
          if (!args?.onlyMine) return due(followUp('Leila'), followUp('Omar'));
          mineAsked += 1;
          return mineAsked === 1 ? read.promise : synced ? due(followUp('Omar'), followUp('Sami')) : due(followUp('Omar'));
        },
      });
      // The coach asks for only their own; the store is slow to answer, and a sync finishes.
      await fireEvent.click(screen.getByLabelText('Only mine'));
      await settle();
      synced = true;
      await app.sync(SYNC_CHANGED);
      expect(names()).toEqual(['Omar', 'Sami']);
      read.answer(due(followUp('Omar')));
      await settle();
      expect(names()).toEqual(['Omar', 'Sami']);
      localStorage.clear();
    });

    it('a read again that fails keeps the list and says nothing', async () => {
      localStorage.clear();
      let synced = false;
      const app = await appOn({ name: 'follow_ups' }, {
        follow_ups_due: () => {
          if (synced) throw { kind: 'store', message: 'database is locked', field: null };
          return due(followUp('Leila'));
        },
      });
      synced = true;
      await app.sync(SYNC_CHANGED);
      expect(app.calls('follow_ups_due')).toBe(2);
      expect(names()).toEqual(['Leila']);
      expect(screen.queryByRole('alert')).toBeNull();
    });
  });

  describe('Unsynced (the review queue)', () => {
    const teamLead = { session_state: () => ({ ...session, role: 'team_lead' }) };
    const newConflict = () => ({ ...unsyncedView(true).conflicts[0], id: 9, field: 'email', base_value: null, current_value: 'a@example.fi' });
    const pendingRows = (container: Element) => [...container.querySelectorAll('tr[data-change]')].map((row) => row.getAttribute('data-change'));

    it('shows what waits, what was refused, the conflicts, the laptops and the duplicates as they are after the sync', async () => {
      const read = later<unknown>();
      let synced = false;
      const app = await appOn({ name: 'unsynced' }, {
        ...teamLead,
        unsynced: () => (synced ? read.promise : unsyncedView(true)),
        team_devices: () => (synced
          ? { ...teamDevices, devices: teamDevices.devices.map((device) => ({ ...device, pending_count: 0 })) }
          : teamDevices),
        duplicates: () => (synced ? { ...duplicatesView, candidates: [] } : duplicatesView),
      });
      expect(pendingRows(app.container)).toEqual(['r1', 'p1', 'p2', 'p3']);
      await app.sync(SYNC_NOTHING);
      expect([app.calls('unsynced'), app.calls('team_devices'), app.calls('duplicates')]).toEqual([1, 1, 1]);

      synced = true;
      await app.sync(SYNC_CHANGED);
      expect([app.calls('unsynced'), app.calls('team_devices'), app.calls('duplicates')]).toEqual([2, 2, 2]);
      // The laptops and the duplicates came first; the list stays as it was meanwhile.
      expect((app.container.querySelector('tr[data-device="d1"]') as HTMLElement).children[3].textContent).toBe('0');
      expect(app.container.querySelector('article.duplicate-pair')).toBeNull();
      expect(screen.queryByText('Loading…')).toBeNull();
      expect(pendingRows(app.container)).toEqual(['r1', 'p1', 'p2', 'p3']);
      // The changes went, a conflict came.
      read.answer({ ...unsyncedView(true), pending: [], conflicts: [unsyncedView(true).conflicts[0], newConflict()] });
      await settle();
      expect(pendingRows(app.container)).toEqual(['r1']);
      expect(screen.getByText('Nothing is waiting: every change has reached the server.')).toBeTruthy();
      expect(app.container.querySelector('article[data-conflict="9"]')).not.toBeNull();
    });

    it('a sync that mirrored other conflicts, as many open as before, shows the ones open now and the one decided', async () => {
      let synced = false;
      const view = unsyncedView(true);
      const decided = { ...view.conflicts[0], status: 'resolved', can_resolve: false, current_value: '+358405556666', resolved_at: '2026-12-07T09:55:00Z' };
      const app = await appOn({ name: 'unsynced' }, {
        ...teamLead,
        unsynced: () => (synced ? { ...view, conflicts: [newConflict()], closed_conflicts: [decided, ...view.closed_conflicts] } : view),
      });
      expect(app.container.querySelector('article[data-conflict="7"][data-status="open"]')).not.toBeNull();
      synced = true;
      await app.sync(SYNC_OTHER_CONFLICTS);
      expect(app.calls('unsynced')).toBe(2);
      expect(app.container.querySelector('article[data-conflict="7"][data-status="open"]')).toBeNull();
      expect(app.container.querySelector('article[data-conflict="7"][data-status="resolved"]')).not.toBeNull();
      expect(app.container.querySelector('article[data-conflict="9"][data-status="open"]')).not.toBeNull();
    });

    it('a value being written in a conflict, its refusal and the focus stay over a read again', async () => {
      let synced = false;
      const app = await appOn({ name: 'unsynced' }, {
        ...teamLead,
        unsynced: () => (synced ? { ...unsyncedView(true), conflicts: [newConflict(), unsyncedView(true).conflicts[0]] } : unsyncedView(true)),
        resolve_conflict: () => {
          throw { kind: 'validation', message: 'phone: too short', field: 'phone' };
        },
      });
      const card = () => app.container.querySelector('article[data-conflict="7"]') as HTMLElement;
      await fireEvent.click(within(card()).getByRole('button', { name: 'Write another value' }));
      const input = within(card()).getByLabelText('Phone') as HTMLInputElement;
      await fireEvent.input(input, { target: { value: '040' } });
      await fireEvent.click(within(card()).getByRole('button', { name: 'Use this value' }));
      await settle();
      expect(card().querySelector('.write-other .field-error')?.textContent).toBe('phone: too short');
      input.focus();

      synced = true;
      await app.sync(SYNC_CHANGED);
      expect(app.container.querySelector('article[data-conflict="9"]')).not.toBeNull();
      expect(within(card()).getByLabelText('Phone')).toBe(input);
      expect(input.value).toBe('040');
      expect(document.activeElement).toBe(input);
      expect(card().querySelector('.write-other .field-error')?.textContent).toBe('phone: too short');
    });

    it('a conflict decided elsewhere while a value is written for it stays with what was typed, says so, and goes on Cancel', async () => {
      let synced = false;
      const view = unsyncedView(true);
      const other = { ...view.conflicts[0], id: 8, field: 'email' };
      const decided = { ...view.conflicts[0], status: 'resolved', can_resolve: false, current_value: '+358405556666', resolved_at: '2026-12-07T09:55:00Z' };
      const app = await appOn({ name: 'unsynced' }, {
        ...teamLead,
        unsynced: () => (synced
          ? { ...view, conflicts: [], closed_conflicts: [decided, ...view.closed_conflicts] }
          : { ...view, conflicts: [...view.conflicts, other] }),
      });
      const card = () => app.container.querySelector('article[data-conflict="7"][data-status="open"]') as HTMLElement | null;
      await fireEvent.click(within(card()!).getByRole('button', { name: 'Write another value' }));
      const input = within(card()!).getByLabelText('Phone') as HTMLInputElement;
      await fireEvent.input(input, { target: { value: '040 555 6666' } });

      synced = true;
      await app.sync(SYNC_CHANGED);
      // The conflict nobody was writing for went; the one written for stays, as typed.
      expect(app.container.querySelector('article[data-conflict="8"]')).toBeNull();
      expect(within(card()!).getByLabelText('Phone')).toBe(input);
      expect(input.value).toBe('040 555 6666');
      expect(within(card()!).getByRole('status').textContent).toBe(
        'Meanwhile this conflict was decided elsewhere (see Decided conflicts). What you wrote stays here until you cancel it.',
      );
      // Sending it would be refused: nothing offers to.
      expect(within(card()!).queryByRole('button', { name: 'Use this value' })).toBeNull();
      expect(within(card()!).queryByRole('button', { name: /^Keep this/ })).toBeNull();
      expect(await seriousViolations(app.container)).toEqual([]);
      // Another sync keeps it too.
      await app.sync(SYNC_CHANGED);
      expect(input.value).toBe('040 555 6666');
      await fireEvent.click(within(card()!).getByRole('button', { name: 'Cancel' }));
      await settle();
      expect(card()).toBeNull();
      expect(app.container.querySelector('article[data-conflict="7"][data-status="resolved"]')).not.toBeNull();
    });

    it('a value being sent for a conflict is not taken for a decision made elsewhere by a sync that finishes meanwhile', async () => {
      const resolved = later<unknown>();
      let decided = false;
      const view = unsyncedView(true);
      const app = await appOn({ name: 'unsynced' }, {
        ...teamLead,
        unsynced: () => (decided ? { ...view, conflicts: [] } : view),
        // The server has resolved it, and a background sync finishes before the answer comes.
        resolve_conflict: () => {
          decided = true;
          return resolved.promise;
        },
      });
      const card = () => app.container.querySelector('article[data-conflict="7"]') as HTMLElement | null;
      await fireEvent.click(within(card()!).getByRole('button', { name: 'Write another value' }));
      await fireEvent.input(within(card()!).getByLabelText('Phone'), { target: { value: '040 555 6666' } });
      await fireEvent.click(within(card()!).getByRole('button', { name: 'Use this value' }));
      await app.sync(SYNC_CHANGED);
      expect(screen.queryByText(/decided elsewhere/)).toBeNull();
      resolved.answer({ ...view, conflicts: [] });
      await settle();
      expect(screen.getByText('Conflict resolved.')).toBeTruthy();
      expect(card()).toBeNull();
    });

    it('the latest read wins over a slower earlier one', async () => {
      const reads: ReturnType<typeof later<unknown>>[] = [];
      let synced = false;
      const app = await appOn({ name: 'unsynced' }, {
        unsynced: () => {
          if (!synced) return unsyncedView(false);
          reads.push(later());
          return reads[reads.length - 1].promise;
        },
      });
      synced = true;
      await app.sync(SYNC_CHANGED);
      await app.sync(SYNC_CHANGED);
      reads[1].answer({ ...unsyncedView(false), pending: [] });
      await settle();
      reads[0].answer(unsyncedView(false));
      await settle();
      expect(pendingRows(app.container)).toEqual(['r1']);
    });

    it('a read again that fails keeps the lists and says nothing', async () => {
      let synced = false;
      const fail = (kind: string) => {
        if (synced) throw { kind, message: 'no', field: null };
      };
      const app = await appOn({ name: 'unsynced' }, {
        ...teamLead,
        unsynced: () => fail('store') ?? unsyncedView(true),
        team_devices: () => fail('needs_connection') ?? teamDevices,
        duplicates: () => fail('needs_connection') ?? duplicatesView,
      });
      synced = true;
      await app.sync(SYNC_CHANGED);
      expect([app.calls('unsynced'), app.calls('team_devices'), app.calls('duplicates')]).toEqual([2, 2, 2]);
      expect(pendingRows(app.container)).toEqual(['r1', 'p1', 'p2', 'p3']);
      expect(app.container.querySelector('tr[data-device="d1"]')).not.toBeNull();
      expect(app.container.querySelector('article.duplicate-pair')).not.toBeNull();
      expect(screen.queryByRole('alert')).toBeNull();
      // The laptops' Refresh was never disabled under the focus.
      expect((screen.getAllByRole('button', { name: 'Refresh' }) as HTMLButtonElement[]).every((button) => !button.disabled)).toBe(true);
    });
  });

  describe('Reports', () => {
    const firstHalf = { from: '2026-01-01', to: '2026-06-30' };
    const reportView = (participants: number, period = firstHalf, source: ReportView['source'] = 'server'): ReportView => ({
      source,
      offline_reason: source === 'laptop' ? 'the server cannot be reached' : null,
      csv: `from,to,indicator,category,count\n${period.from},${period.to},participants,total,${participants}\n`,
      report: {
        ...period, participants, exits: 0, contacts: 2 * participants, unique_clients: participants, anonymous_visitors: 0,
        participants_by_gender: [], participants_by_age: [], participants_by_employment_status: [], participants_by_education: [],
        third_country_national: [], foreign_background: [], disability: [], exits_by_situation: [], contacts_by_topic: [],
        contacts_by_service_language: [], contacts_by_referral: [], contacts_by_channel: [], contacts_by_site: [],
      },
    });
    const participants = (container: Element) => container.querySelector('[data-indicator="participants"] dd')?.textContent;
    const asked = (app: Awaited<ReturnType<typeof appOn>>) => app.asked('participant_report');
    // A period that ends before it starts, which the shell refuses.
    const refusedPeriod = { from: '2026-12-31', to: '2026-07-01' };
    const secondHalf = { from: '2026-07-01', to: '2026-12-31' };
    /** The report of `period`: 5 participants, 7 in the second half. */
    const reportOf = (period: typeof firstHalf) => reportView(period.from === secondHalf.from ? 7 : 5, period);
    /** Reports, whose reads fail with `failure()` when it gives one, and refuse `refusedPeriod`. */
    const reportsFailing = (failure: () => object | false) =>
      appOn({ name: 'reports' }, {
        participant_report: (args) => {
          const period = args?.request as typeof firstHalf;
          if (period.from > period.to) throw { kind: 'validation', message: 'the period ends before it starts', field: 'to' };
          const error = failure();
          if (error) throw error;
          return reportOf(period);
        },
      });
    /** Reports whose nth read `nth` answers when it has it (a later answer, a failure), the
     * others as `reportOf`. */
    const reportsReading = (nth: Record<number, () => Promise<ReportView>>) =>
      appOn({ name: 'reports' }, {
        participant_report: answersInTurn(nth, (args) => reportOf(args?.request as typeof firstHalf)),
      });
    /** Types `period`'s dates, not asking for its report. */
    async function typePeriod(period: { from: string; to: string }) {
      await fireEvent.input(screen.getByLabelText('From'), { target: { value: period.from } });
      await fireEvent.input(screen.getByLabelText('To'), { target: { value: period.to } });
    }
    async function showPeriod(period: { from: string; to: string }) {
      await typePeriod(period);
      await fireEvent.click(screen.getByRole('button', { name: 'Show report' }));
      await settle();
    }

    it('reads the report shown again for its period after a sync that changed something, none before one is shown', async () => {
      let count = 5;
      const app = await appOn({ name: 'reports' }, { participant_report: () => reportView(count) });
      await app.sync(SYNC_CHANGED);
      expect(app.calls('participant_report')).toBe(0);
      await showPeriod(firstHalf);
      expect(participants(app.container)).toBe('5');
      // Another period typed but not asked for: the report shown is what is read again.
      await fireEvent.input(screen.getByLabelText('From'), { target: { value: '2025-01-01' } });
      await app.sync(SYNC_NOTHING);
      expect(app.calls('participant_report')).toBe(1);
      count = 6;
      await app.sync(SYNC_CHANGED);
      expect(asked(app)).toEqual([{ request: firstHalf }, { request: firstHalf }]);
      expect(participants(app.container)).toBe('6');
      expect((screen.getByLabelText('From') as HTMLInputElement).value).toBe('2025-01-01');
    });

    it('keeps the report while it is read again, then shows the server’s figures once the server is reached', async () => {
      const read = later<ReportView>();
      let synced = false;
      const app = await appOn({ name: 'reports' }, {
        participant_report: () => (synced ? read.promise : reportView(5, firstHalf, 'laptop')),
      });
      await showPeriod(firstHalf);
      expect(screen.getByText(/the server cannot be reached/)).toBeTruthy();
      synced = true;
      await app.sync(SYNC_CHANGED);
      // Read again: the report stays meanwhile, and Show report is not made busy.
      expect(participants(app.container)).toBe('5');
      expect(disabled('Show report')).toBe(false);
      read.answer(reportView(9));
      await settle();
      expect(participants(app.container)).toBe('9');
      expect(screen.getByText('Computed by the server from the whole team’s data.')).toBeTruthy();
    });

    it('a read again that finds the server gone keeps the team’s report, not this laptop’s figures', async () => {
      let offline = false;
      const app = await appOn({ name: 'reports' }, {
        participant_report: () => (offline ? reportView(2, firstHalf, 'laptop') : reportView(8)),
      });
      await showPeriod(firstHalf);
      expect(participants(app.container)).toBe('8');
      // The sync pushed, then the network went before the read again: the lead asked for
      // nothing, so the team's figures stay (the laptop's answer is a fallback, not news).
      offline = true;
      await app.sync(SYNC_CHANGED);
      expect(app.calls('participant_report')).toBe(2);
      expect(participants(app.container)).toBe('8');
      expect(screen.getByText('Computed by the server from the whole team’s data.')).toBeTruthy();
      // Asked for, the laptop's figures are shown, labelled.
      await showPeriod(firstHalf);
      expect(participants(app.container)).toBe('2');
      expect(screen.getByText(/the server cannot be reached/)).toBeTruthy();
    });

    it('a read again whose CSV differs takes away the notice of the one copied or saved; one with the same CSV keeps it', async () => {
      let count = 5;
      const app = await appOn({ name: 'reports' }, {
        participant_report: () => reportView(count),
        save_report_csv: () => '/home/lead/participants.csv',
      });
      await showPeriod(firstHalf);
      await fireEvent.click(screen.getByRole('button', { name: 'Save as CSV…' }));
      await settle();
      expect(screen.getByText('Saved to /home/lead/participants.csv.')).toBeTruthy();
      await app.sync(SYNC_CHANGED);
      expect(app.calls('participant_report')).toBe(2);
      expect(screen.getByText('Saved to /home/lead/participants.csv.')).toBeTruthy();
      count = 6;
      await app.sync(SYNC_CHANGED);
      expect(participants(app.container)).toBe('6');
      expect(screen.queryByText('Saved to /home/lead/participants.csv.')).toBeNull();
    });

    it('a read again that fails keeps the report and says nothing', async () => {
      let synced = false;
      const app = await appOn({ name: 'reports' }, {
        participant_report: () => {
          if (synced) throw { kind: 'store', message: 'database is locked', field: null };
          return reportView(5);
        },
      });
      await showPeriod(firstHalf);
      synced = true;
      await app.sync(SYNC_CHANGED);
      expect(app.calls('participant_report')).toBe(2);
      expect(participants(app.container)).toBe('5');
      expect(screen.queryByRole('alert')).toBeNull();
    });

    it('the period asked for while a sync finishes is what is read again and shown; the slower read asked before does not replace it', async () => {
      const slow = later<ReportView>();
      const app = await reportsReading({ 2: () => slow.promise });
      await showPeriod(firstHalf);
      // The lead asks for the second half; the server is slow to answer, and a sync finishes.
      await showPeriod(secondHalf);
      await app.sync(SYNC_CHANGED);
      expect(asked(app)).toEqual([{ request: firstHalf }, { request: secondHalf }, { request: secondHalf }]);
      expect(participants(app.container)).toBe('7');
      expect(disabled('Show report')).toBe(false);
      slow.answer(reportView(1, secondHalf));
      await settle();
      expect(participants(app.container)).toBe('7');
    });

    it('a read again that overtakes the one the lead waits for and fails says so', async () => {
      const slow = later<ReportView>();
      const app = await reportsReading({
        2: () => slow.promise,
        3: () => Promise.reject({ kind: 'store', message: 'database is locked', field: null }),
      });
      await showPeriod(firstHalf);
      // The lead asks for the second half; the server is slow to answer, and a sync finishes.
      await showPeriod(secondHalf);
      await app.sync(SYNC_CHANGED);
      expect(asked(app).at(-1)).toEqual({ request: secondHalf });
      expect(screen.getByRole('alert').textContent).toContain('database is locked');
      expect(disabled('Show report')).toBe(false);
      slow.answer(reportView(7, secondHalf));
      await settle();
      // Nothing shown: not the slower answer, nor the first half's figures under the second
      // half's dates.
      expect(participants(app.container)).toBeUndefined();
    });

    it('a read again answered after the lead asked for another period leaves Show report busy and the period asked for', async () => {
      const again = later<ReportView>();
      const mine = later<ReportView>();
      const app = await reportsReading({ 2: () => again.promise, 3: () => mine.promise });
      await showPeriod(firstHalf);
      // A sync reads the report shown again; meanwhile the lead asks for the second half.
      await app.sync(SYNC_CHANGED);
      await showPeriod(secondHalf);
      expect(disabled('Show report')).toBe(true);
      again.answer(reportView(6));
      await settle();
      expect(disabled('Show report')).toBe(true);
      // The first half's figures, read again, are not shown under the second half's dates.
      expect(participants(app.container)).toBeUndefined();
      // Still waited for: the next sync reads the second half in its place.
      await app.sync(SYNC_CHANGED);
      expect(asked(app).at(-1)).toEqual({ request: secondHalf });
      expect(participants(app.container)).toBe('7');
      expect(disabled('Show report')).toBe(false);
      mine.answer(reportView(1, secondHalf));
    });

    it('a read again that succeeds takes away the error of a failed read of its period; a refused period is not read again', async () => {
      let failing = false;
      const app = await reportsFailing(() => failing && { kind: 'store', message: 'database is locked', field: null });
      await showPeriod(firstHalf);
      // Asked for again, the period shown fails; a sync later reads it again, and it succeeds.
      failing = true;
      await fireEvent.click(screen.getByRole('button', { name: 'Show report' }));
      await settle();
      expect(screen.getByRole('alert').textContent).toContain('database is locked');
      // Its figures stay meanwhile: they are of the period asked for.
      expect(participants(app.container)).toBe('5');
      failing = false;
      await app.sync(SYNC_CHANGED);
      expect(app.calls('participant_report')).toBe(3);
      expect(screen.queryByRole('alert')).toBeNull();
      // A period that ends before it starts is refused, and the report shown taken away with
      // its dates changed: a sync reads nothing again, and leaves the refusal.
      await showPeriod(refusedPeriod);
      expect(screen.getByRole('alert').textContent).toContain('the period ends before it starts');
      expect(participants(app.container)).toBeUndefined();
      await app.sync(SYNC_CHANGED);
      expect(app.calls('participant_report')).toBe(4);
      expect(screen.getByRole('alert').textContent).toContain('the period ends before it starts');
    });

    it('the figures shown are of the period the dates show: asking for another takes them away, and a sync fills in one that failed only while its dates are shown', async () => {
      let failing = false;
      const app = await reportsFailing(() => failing && { kind: 'server', message: 'the server answered 503', field: null });
      await showPeriod(firstHalf);
      expect(participants(app.container)).toBe('5');
      failing = true;
      await showPeriod(secondHalf);
      expect(screen.getByRole('alert').textContent).toContain('the server answered 503');
      // The first half's figures are not left under the second half's dates.
      expect(app.container.querySelector('#report-period')).toBeNull();
      // The lead types the first half's dates again without asking: the syncs after it read
      // neither half, so the second half's figures do not come under the first half's dates.
      failing = false;
      await typePeriod(firstHalf);
      await app.sync(SYNC_NOTHING);
      await app.sync(SYNC_CHANGED);
      expect(app.calls('participant_report')).toBe(2);
      expect(participants(app.container)).toBeUndefined();
      // The second half's dates again: a sync that reached the server asks for it, and shows it.
      await typePeriod(secondHalf);
      await app.sync(SYNC_NOTHING);
      expect(asked(app).at(-1)).toEqual({ request: secondHalf });
      expect(participants(app.container)).toBe('7');
      expect(screen.queryByRole('alert')).toBeNull();
    });

    it('a report asked for that failed is asked again after a sync that reached the server, though it changed nothing; a refused period is not', async () => {
      let failing = true;
      const app = await reportsFailing(() => failing && { kind: 'server', message: 'the server answered 503', field: null });
      await showPeriod(firstHalf);
      expect(screen.getByRole('alert')).toBeTruthy();
      // A sync that did not reach the server asks nothing; one that did asks for it again.
      await app.sync(SYNC_FAILED);
      expect(app.calls('participant_report')).toBe(1);
      failing = false;
      await app.sync(SYNC_NOTHING);
      expect(asked(app)).toEqual([{ request: firstHalf }, { request: firstHalf }]);
      expect(participants(app.container)).toBe('5');
      expect(screen.queryByRole('alert')).toBeNull();
      // Answered: the syncs after it read nothing, nor one after a refused period.
      await app.sync(SYNC_NOTHING);
      await showPeriod(refusedPeriod);
      await app.sync(SYNC_NOTHING);
      expect(app.calls('participant_report')).toBe(3);
    });
  });

  describe('Audit log', () => {
    const teamLead = { session_state: () => ({ ...session, role: 'team_lead' }) };
    const entry = (seq: number, actor = 'user:u-coach1 device:d2'): AuditEntryView => ({
      seq, at: '2026-12-07T10:00:00Z', actor, action: 'change', entity: 'client', record_id: amina.id, detail: `seq=${seq}`,
    });
    // As the server answers: `next` is the last entry's seq, or the `after` asked with for none.
    const page = (entries: AuditEntryView[], hasMore = false, after = 0): AuditPageView => ({
      entries, next: entries.at(-1)?.seq ?? after, has_more: hasMore,
    });
    const seqs = (container: Element) => [...container.querySelectorAll('tbody tr[data-seq]')].map((row) => row.getAttribute('data-seq'));
    const asked = (app: Awaited<ReturnType<typeof appOn>>) => app.asked('audit_log');
    const newLaptop = { ...teamDevices.devices[1], id: 'd9', name: 'Laptop 9', username: 'coach9', user_id: 'u-coach9' };
    /** The audit log whose nth read `nth` answers when it has it (a later answer, a failure),
     * the others with entries 1 and 2, or 7 for a record. */
    const auditReading = (nth: Record<number, () => Promise<AuditPageView>>) =>
      appOn({ name: 'audit' }, {
        ...teamLead,
        audit_log: answersInTurn(nth, (args) => ((args?.request as AuditRequest).record_id ? page([entry(7)]) : page([entry(1), entry(2)]))),
      });
    /** Types `recordId` as the filter, not asking for its entries. */
    const typeFilter = (recordId: string) => fireEvent.input(screen.getByLabelText('Record id'), { target: { value: recordId } });
    async function filterBy(recordId: string) {
      await typeFilter(recordId);
      await fireEvent.click(screen.getByRole('button', { name: 'Show' }));
      await settle();
    }

    it('at the end of the log, adds the entries written since after a sync that changed something, their laptop named', async () => {
      let synced = false;
      const app = await appOn({ name: 'audit' }, {
        ...teamLead,
        audit_log: (args) => {
          const request = args?.request as AuditRequest;
          if (request.after === 0) return page([entry(1), entry(2)]);
          return synced ? page([entry(3), entry(4, 'user:u-coach9 device:d9')]) : page([], false, request.after);
        },
        team_devices: () => (synced ? { ...teamDevices, devices: [...teamDevices.devices, newLaptop] } : teamDevices),
      });
      expect(seqs(app.container)).toEqual(['1', '2']);
      await app.sync(SYNC_NOTHING);
      expect(app.calls('audit_log')).toBe(1);
      synced = true;
      await app.sync(SYNC_CHANGED);
      expect(asked(app)).toEqual([{ request: { after: 0, record_id: null } }, { request: { after: 2, record_id: null } }]);
      expect(seqs(app.container)).toEqual(['1', '2', '3', '4']);
      expect(app.container.querySelector('tr[data-seq="4"] td:nth-child(3)')?.textContent).toBe('coach9 (Laptop 9)');
      expect(screen.getByText('No more entries.')).toBeTruthy();
    });

    it('the laptops named are those of the latest read, though an earlier one answers after it', async () => {
      const first = later<typeof teamDevices>();
      let reads = 0;
      const app = await appOn({ name: 'audit' }, {
        ...teamLead,
        audit_log: (args) => {
          const after = (args?.request as AuditRequest).after;
          return after === 0 ? page([entry(1), entry(2, 'user:u-coach9 device:d9')]) : page([], false, after);
        },
        team_devices: () => {
          reads += 1;
          return reads === 1 ? first.promise : { ...teamDevices, devices: [...teamDevices.devices, newLaptop] };
        },
      });
      await app.sync(SYNC_CHANGED);
      expect(app.container.querySelector('tr[data-seq="2"] td:nth-child(3)')?.textContent).toBe('coach9 (Laptop 9)');
      first.answer(teamDevices);
      await settle();
      expect(app.container.querySelector('tr[data-seq="2"] td:nth-child(3)')?.textContent).toBe('coach9 (Laptop 9)');
    });

    it('with more entries to load, reads nothing after a sync: Load more brings them', async () => {
      const app = await appOn({ name: 'audit' }, { ...teamLead, audit_log: () => page([entry(1), entry(2)], true) });
      await app.sync(SYNC_CHANGED);
      expect(app.calls('audit_log')).toBe(1);
      expect(screen.getByRole('button', { name: 'Load more' })).toBeTruthy();
    });

    it('a read again that fails keeps the entries and says nothing', async () => {
      let synced = false;
      const app = await appOn({ name: 'audit' }, {
        ...teamLead,
        audit_log: () => {
          if (synced) throw { kind: 'needs_connection', message: 'offline', field: null };
          return page([entry(1), entry(2)]);
        },
      });
      synced = true;
      await app.sync(SYNC_CHANGED);
      expect(app.calls('audit_log')).toBe(2);
      expect(seqs(app.container)).toEqual(['1', '2']);
      expect(screen.getByText('No more entries.')).toBeTruthy();
      expect(screen.queryByRole('alert')).toBeNull();
    });

    it('the entries asked for while a sync finishes are what is read again and shown; the slower read asked before adds nothing', async () => {
      const slow = later<AuditPageView>();
      const app = await auditReading({ 2: () => slow.promise });
      // The lead filters by a record; the server is slow to answer, and a sync finishes.
      await filterBy(amina.id);
      await app.sync(SYNC_CHANGED);
      expect(asked(app).slice(1)).toEqual([{ request: { after: 0, record_id: amina.id } }, { request: { after: 0, record_id: amina.id } }]);
      expect(seqs(app.container)).toEqual(['7']);
      expect(disabled('Show')).toBe(false);
      slow.answer(page([entry(7), entry(8)]));
      await settle();
      expect(seqs(app.container)).toEqual(['7']);
    });

    it('a read again that overtakes the one the user waits for and fails says so', async () => {
      const slow = later<AuditPageView>();
      const app = await auditReading({
        2: () => slow.promise,
        3: () => Promise.reject({ kind: 'needs_connection', message: 'offline', field: null }),
      });
      // The lead filters by a record; the server is slow to answer, and a sync finishes.
      await filterBy(amina.id);
      await app.sync(SYNC_CHANGED);
      expect(asked(app).at(-1)).toEqual({ request: { after: 0, record_id: amina.id } });
      expect(screen.getByRole('alert').textContent).toContain('offline');
      expect(disabled('Show')).toBe(false);
      slow.answer(page([entry(7)]));
      await settle();
      // Nothing shown: not the slower answer, nor the whole log's entries under the filter.
      expect(seqs(app.container)).toEqual([]);
    });

    it('a read again answered after the user asked for another filter leaves Show busy and the filter asked for', async () => {
      const again = later<AuditPageView>();
      const mine = later<AuditPageView>();
      const app = await auditReading({ 2: () => again.promise, 3: () => mine.promise });
      // A sync reads the end of the log again; meanwhile the user filters by a record.
      await app.sync(SYNC_CHANGED);
      await filterBy(amina.id);
      expect(disabled('Show')).toBe(true);
      again.answer(page([], false, 2));
      await settle();
      expect(disabled('Show')).toBe(true);
      // Still waited for: the next sync reads the filter's first entries in its place.
      await app.sync(SYNC_CHANGED);
      expect(asked(app).at(-1)).toEqual({ request: { after: 0, record_id: amina.id } });
      expect(seqs(app.container)).toEqual(['7']);
      expect(disabled('Show')).toBe(false);
      mine.answer(page([entry(7), entry(8)]));
    });

    it('a read again that succeeds takes away the error of a failed read of its filter; a refused filter is not read again', async () => {
      let failing = false;
      const app = await appOn({ name: 'audit' }, {
        ...teamLead,
        audit_log: (args) => {
          const request = args?.request as AuditRequest;
          if (request.record_id === 'not-an-id') throw { kind: 'validation', message: 'not a record id', field: 'record_id' };
          if (failing) throw { kind: 'needs_connection', message: 'offline', field: null };
          return request.after === 0 ? page([entry(1), entry(2)]) : page([], false, request.after);
        },
      });
      // Shown again, the log fails (its entries stay: they are of the filter asked for); a sync
      // later reads it again, and that succeeds.
      failing = true;
      await fireEvent.click(screen.getByRole('button', { name: 'Show' }));
      await settle();
      expect(screen.getByRole('alert').textContent).toContain('offline');
      expect(seqs(app.container)).toEqual(['1', '2']);
      failing = false;
      await app.sync(SYNC_CHANGED);
      expect(app.calls('audit_log')).toBe(3);
      expect(screen.queryByRole('alert')).toBeNull();
      // A filter that is no record id is refused, and the entries shown taken away with the
      // filter changed: a sync reads nothing again, and leaves the refusal.
      await filterBy('not-an-id');
      expect(screen.getByText('not a record id')).toBeTruthy();
      expect(screen.queryByRole('table')).toBeNull();
      await app.sync(SYNC_CHANGED);
      expect(app.calls('audit_log')).toBe(4);
      expect(screen.getByText('not a record id')).toBeTruthy();
    });

    it('a first read that failed offline is read again after a sync that reached the server, though it changed nothing', async () => {
      let offline = true;
      const app = await appOn({ name: 'audit' }, {
        ...teamLead,
        audit_log: () => {
          if (offline) throw { kind: 'needs_connection', message: 'offline', field: null };
          return page([entry(1), entry(2)]);
        },
        team_devices: () => {
          if (offline) throw { kind: 'needs_connection', message: 'offline', field: null };
          return { ...teamDevices, devices: [...teamDevices.devices, newLaptop] };
        },
      });
      expect(screen.getByRole('alert').textContent).toContain('offline');
      await app.sync(SYNC_FAILED);
      expect(app.calls('audit_log')).toBe(1);
      offline = false;
      await app.sync(SYNC_NOTHING);
      expect(asked(app)).toEqual([{ request: { after: 0, record_id: null } }, { request: { after: 0, record_id: null } }]);
      expect(seqs(app.container)).toEqual(['1', '2']);
      expect(screen.queryByRole('alert')).toBeNull();
      expect(app.calls('team_devices')).toBe(2);
      // Answered: a sync that changes nothing reads nothing again.
      await app.sync(SYNC_NOTHING);
      expect(app.calls('audit_log')).toBe(2);
    });

    it('the entries shown are of the filter typed: asking for another takes them away, and a sync reads one that failed, from its first entry, only while it is typed', async () => {
      let offline = false;
      const app = await appOn({ name: 'audit' }, {
        ...teamLead,
        audit_log: (args) => {
          if (offline) throw { kind: 'needs_connection', message: 'offline', field: null };
          return (args?.request as AuditRequest).record_id ? page([entry(7)]) : page([entry(1), entry(2)]);
        },
      });
      expect(seqs(app.container)).toEqual(['1', '2']);
      offline = true;
      await filterBy(amina.id);
      expect(screen.getByRole('alert')).toBeTruthy();
      // The whole log's entries are not left under the record's filter.
      expect(screen.queryByRole('table')).toBeNull();
      // The filter emptied again, not asked for: the syncs after it read nothing.
      offline = false;
      await typeFilter('');
      await app.sync(SYNC_NOTHING);
      await app.sync(SYNC_CHANGED);
      expect(app.calls('audit_log')).toBe(2);
      expect(screen.queryByRole('table')).toBeNull();
      // The record's filter again: a sync reads its entries from the first.
      await typeFilter(amina.id);
      await app.sync(SYNC_CHANGED);
      expect(asked(app).at(-1)).toEqual({ request: { after: 0, record_id: amina.id } });
      expect(seqs(app.container)).toEqual(['7']);
      expect(screen.queryByRole('alert')).toBeNull();
    });
  });

  describe('Client profile', () => {
    const teamLead = { session_state: () => ({ ...session, role: 'team_lead' }) };
    const deletion = { contact: { ...aminaDetail.contacts[0], id: 'c-deleted' }, deleted_by: 'u-coach2', deleted_by_me: false, deleted_at: '2026-11-26T10:00:00Z' };
    const colleagues = { ...aminaDetail.contacts[0], id: 'c-colleague', coach_id: 'u-coach2', occurred_at: '2026-12-07T09:00:00+02:00', summary: 'Housing office visit' };
    const afterSync = { ...aminaDetail, fields: { ...aminaDetail.fields, phone: '+358409999999' }, contacts: [colleagues, ...aminaDetail.contacts], deleted_contacts: [deletion] };
    const phone = (container: Element) => container.querySelector('dd[data-field="phone"]')?.textContent;

    it('shows the client and the contacts as they are after the sync, keeping the questions open, what is typed and the focus', async () => {
      const read = later<unknown>();
      let synced = false;
      const app = await appOn({ name: 'client', clientId: amina.id }, {
        ...teamLead,
        get_client: () => (synced ? read.promise : { ...aminaDetail, deleted_contacts: [deletion] }),
      });
      expect(phone(app.container)).toBe('+358401234567');
      // The erasure asked, the name half typed; the deleted contacts open, a restore asked.
      await fireEvent.click(screen.getByRole('button', { name: 'Erase client…' }));
      const typed = screen.getByLabelText(/^To confirm, type the client’s name/) as HTMLInputElement;
      await fireEvent.input(typed, { target: { value: 'Amina War' } });
      const deleted = app.container.querySelector('details.deleted-contacts') as HTMLDetailsElement;
      deleted.open = true;
      await fireEvent.click(within(deleted).getByRole('button', { name: /^Restore the contact on/ }));
      await settle();
      const question = screen.getByRole('group', { name: /^coach2 deleted this contact\. Restore it\?/ });
      const cancel = within(question).getByRole('button', { name: 'Cancel' });
      expect(document.activeElement).toBe(cancel);

      synced = true;
      await app.sync(SYNC_CHANGED);
      // Read again: the profile stays meanwhile, not replaced by "Loading…".
      expect(screen.queryByText('Loading…')).toBeNull();
      expect(phone(app.container)).toBe('+358401234567');
      read.answer(afterSync);
      await settle();
      expect(phone(app.container)).toBe('+358409999999');
      expect(app.container.querySelector('.edit-contact[data-contact="c-colleague"]')).not.toBeNull();
      expect(app.container.querySelector('.timeline')?.textContent).toContain('Housing office visit');
      expect(app.container.querySelector('details.deleted-contacts')).toBe(deleted);
      expect(deleted.open).toBe(true);
      expect(question.isConnected).toBe(true);
      expect(document.activeElement).toBe(cancel);
      expect(typed.isConnected).toBe(true);
      expect(typed.value).toBe('Amina War');
    });

    it('erasing the client here shows no error for the sync the erasure runs, and goes to Today with its notice', async () => {
      const erased = later<unknown>();
      let purged = false;
      const app = await appOn({ name: 'client', clientId: amina.id }, {
        ...teamLead,
        get_client: () => {
          if (purged) throw { kind: 'not_found', message: `no client ${amina.id}`, field: null };
          return aminaDetail;
        },
        // The shell erases on the server, then syncs, which purges the client here, and answers.
        erase_client: () => {
          purged = true;
          return erased.promise;
        },
      });
      await fireEvent.click(screen.getByRole('button', { name: 'Erase client…' }));
      await fireEvent.input(screen.getByLabelText(/^To confirm, type the client’s name/), { target: { value: 'Amina Warsame' } });
      await fireEvent.click(screen.getByRole('button', { name: 'Erase permanently' }));
      await app.sync(SYNC_CHANGED);
      expect(screen.queryByRole('alert')).toBeNull();
      erased.answer({ records: 1, purged_here: 1 });
      await settle();
      expect(nav.screen).toEqual({ name: 'today' });
      expect(nav.notice).toMatch(/^The client was erased from the server and from this laptop/);
    });

    it('the edit form open is not read again; leaving it shows the client as the sync left it', async () => {
      let synced = false;
      const app = await appOn({ name: 'client', clientId: amina.id }, {
        get_client: () => (synced ? afterSync : aminaDetail),
        form_draft: () => null,
        set_form_draft: () => true,
      });
      await fireEvent.click(screen.getByRole('button', { name: 'Edit' }));
      const nickname = screen.getByLabelText('Nickname') as HTMLInputElement;
      await fireEvent.input(nickname, { target: { value: 'Ami' } });

      synced = true;
      await app.sync(SYNC_CHANGED);
      expect(app.calls('get_client')).toBe(1);
      expect(screen.getByLabelText('Nickname')).toBe(nickname);
      expect(nickname.value).toBe('Ami');
      expect((screen.getByLabelText('Phone') as HTMLInputElement).value).toBe('+358401234567');
      // Unchanged again, the form is left at once, and the profile reads what the sync brought.
      await fireEvent.input(nickname, { target: { value: '' } });
      await fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
      await settle();
      expect(app.calls('get_client')).toBe(2);
      expect(phone(app.container)).toBe('+358409999999');
    });

    it('the latest read wins over a slower earlier one', async () => {
      const reads: ReturnType<typeof later<unknown>>[] = [];
      let synced = false;
      const app = await appOn({ name: 'client', clientId: amina.id }, {
        get_client: () => {
          if (!synced) return aminaDetail;
          reads.push(later());
          return reads[reads.length - 1].promise;
        },
      });
      synced = true;
      await app.sync(SYNC_CHANGED);
      await app.sync(SYNC_CHANGED);
      reads[1].answer(afterSync);
      await settle();
      reads[0].answer(aminaDetail);
      await settle();
      expect(phone(app.container)).toBe('+358409999999');
    });

    it('a read again that fails keeps the profile and says nothing; a client erased meanwhile is shown no more', async () => {
      let failure: { kind: string; message: string; field: null } | null = null;
      const app = await appOn({ name: 'client', clientId: amina.id }, {
        get_client: () => {
          if (failure) throw failure;
          return aminaDetail;
        },
      });
      failure = { kind: 'store', message: 'database is locked', field: null };
      await app.sync(SYNC_CHANGED);
      expect(app.calls('get_client')).toBe(2);
      expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Amina Warsame');
      expect(screen.queryByRole('alert')).toBeNull();
      // Erased on the server, purged here by the sync: nothing of the client stays on screen.
      failure = { kind: 'not_found', message: `no client ${amina.id}`, field: null };
      await app.sync(SYNC_CHANGED);
      expect(screen.getByRole('alert')).toBeTruthy();
      expect(screen.queryByText('Amina Warsame')).toBeNull();
      expect(phone(app.container)).toBeUndefined();
    });
  });
});

describe('a save over a field changed elsewhere while the form was open', () => {
  const changedMeanwhile = (field: string) => Promise.reject({ kind: 'changed_meanwhile', message: `${field} changed`, field });

  it('the client form keeps what was typed, shows the new values, names the field typed over, and saves on the second try', async () => {
    let edits = 0;
    const now = { ...aminaDetail, fields: { ...aminaDetail.fields, phone: '+358407654321', family_name: 'Warsame Ali' } };
    const invoke = answers({
      get_client: () => now,
      edit_client: () => (++edits === 1 ? changedMeanwhile('phone') : { changed_fields: ['phone'] }),
    });
    const onsaved = vi.fn();
    const { container } = render(ClientForm, { detail: aminaDetail, draftOf: amina.id, oncancel: () => {}, onsaved });
    await settle();
    await fireEvent.input(screen.getByLabelText('Phone'), { target: { value: '040 555 6666' } });
    await fireEvent.click(container.querySelector('form.client-form button[type="submit"]')!);
    await settle();
    expect(invoke).toHaveBeenCalledWith('edit_client', { edit: { id: amina.id, fields: { phone: '040 555 6666' }, before: { phone: '+358401234567' }, form: `edit-client:${amina.id}` } });
    expect(onsaved).not.toHaveBeenCalled();
    // What was typed stays, beside what the phone holds now; the family name a colleague
    // corrected (not typed here) shows its new value and is not sent.
    const phone = screen.getByLabelText('Phone') as HTMLInputElement;
    expect(phone.value).toBe('040 555 6666');
    expect(document.getElementById(phone.getAttribute('aria-describedby')!.split(' ')[0])!.textContent).toMatch(
      /^Changed elsewhere while the form was open: now “.*7654321”\. Save again to replace it with what you typed\.$/,
    );
    expect(document.activeElement).toBe(phone);
    expect((screen.getByLabelText('Family name') as HTMLInputElement).value).toBe('Warsame Ali');

    await fireEvent.click(container.querySelector('form.client-form button[type="submit"]')!);
    await settle();
    expect(invoke.mock.calls.filter(([command]) => command === 'edit_client')).toEqual([
      ['edit_client', expect.anything()],
      ['edit_client', { edit: { id: amina.id, fields: { phone: '040 555 6666' }, before: { phone: '+358407654321' }, form: `edit-client:${amina.id}` } }],
    ]);
    expect(onsaved).toHaveBeenCalledOnce();
  });

  it('a correction keeps what was typed, shows the new values, names the field typed over, and saves on the second try', async () => {
    const contact = aminaDetail.contacts[0];
    let edits = 0;
    let current = contact;
    const invoke = answers({
      get_contact: () => ({ contact: current, client: amina }),
      edit_contact: () => (++edits === 1 ? changedMeanwhile('duration_min') : { changed_fields: ['duration_min'] }),
    });
    const { container } = render(ContactForm, { client: amina, contactId: contact.id, returnTo: { name: 'today' } });
    await settle();
    await fireEvent.input(screen.getByLabelText('Duration (minutes)'), { target: { value: '45' } });
    await fireEvent.change(screen.getByLabelText('Site'), { target: { value: 'site-ngo' } });
    current = { ...contact, duration_min: 30, site: 'site-old', summary: 'CV reviewed and sent' };
    await fireEvent.keyDown(container.querySelector('form')!, { key: 'Enter', ctrlKey: true });
    await settle();
    const duration = screen.getByLabelText('Duration (minutes)') as HTMLInputElement;
    expect(duration.value).toBe('45');
    expect(container.textContent).toContain('Changed elsewhere while the form was open: now “30');
    expect((screen.getByLabelText('Summary') as HTMLTextAreaElement).value).toBe('CV reviewed and sent');
    // The site has no place for a note beside it: named above the form, with its new value.
    expect((screen.getByLabelText('Site') as HTMLSelectElement).value).toBe('site-ngo');
    expect([...container.querySelectorAll('.changed-meanwhile li')].map((li) => li.textContent)).toEqual([
      'Site: Changed elsewhere while the form was open: now “Old premises”. Save again to replace it with what you typed.',
    ]);

    await fireEvent.keyDown(container.querySelector('form')!, { key: 'Enter', ctrlKey: true });
    await settle();
    expect(invoke.mock.calls.filter(([command]) => command === 'edit_contact')).toEqual([
      ['edit_contact', expect.anything()],
      ['edit_contact', { edit: { id: contact.id, fields: { duration_min: 45, site: 'site-ngo' }, before: { duration_min: 30, site: 'site-old' }, form: `edit-contact:${contact.id}` } }],
    ]);
  });
});
