// Every screen rendered against mocked command answers: keyboard flows, and an axe-core check
// for serious or critical accessibility violations (colour contrast cannot be computed in
// jsdom; it is checked by the palette in app.css and in the E2E screenshots).
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import axe from 'axe-core';
import { tick } from 'svelte';
import { describe, expect, it } from 'vitest';
import App from '../App.svelte';
import { setLocale } from '../i18n/index.svelte';
import { go, nav } from '../lib/nav.svelte';
import { amina, aminaDetail, answerCommands, offlineStatus, session } from '../test/commands';
import ClientProfile from './client/ClientProfile.svelte';
import ContactForm from './contact/ContactForm.svelte';
import FollowUps from './followups/FollowUps.svelte';
import Settings from './settings/Settings.svelte';
import SignIn from './signin/SignIn.svelte';
import Today from './today/Today.svelte';
import Unsynced from './unsynced/Unsynced.svelte';

const settingsView = {
  language: 'en',
  lock_after_minutes: 10,
  server_url: 'http://127.0.0.1:8080',
  organisation: 'demo',
  data_dir: '/home/coach/.local/share/tandem',
};

function answers() {
  return answerCommands({
    recent_clients: () => [amina],
    search_clients: (args) => (String(args?.query).toLowerCase().startsWith('ami') ? [amina] : []),
    get_client: () => aminaDetail,
    create_contact: () => ({ id: 'new-contact' }),
    create_client: () => ({ id: 'new-client' }),
    follow_ups_due: () => ({
      overdue: [{ contact: aminaDetail.contacts[0], client: amina }],
      today: [],
      this_week: [{ contact: { ...aminaDetail.contacts[0], id: 'c2', client_id: null }, client: null }],
    }),
    unsynced: () => ({
      pending: [{ change_id: 'p1', entity: 'client', record_id: amina.id, record_label: 'Amina Warsame', field: 'phone', value: '+358401234567', created_at: '2026-11-26T09:30:00Z' }],
      rejected: [{ change_id: 'r1', entity: 'client', record_id: amina.id, record_label: 'Amina Warsame', field: 'email', value: 'x@', reason: 'email: `x@` has no domain', rejected_at: '2026-11-26T09:31:00Z' }],
      conflicts: [{ id: 7, entity: 'client', record_id: amina.id, record_label: 'Amina Warsame', field: 'phone', policy: 'review', base_value: null, current_value: '+358401234567',
        candidates: [
          { value: '+358401234567', author: 'coach1', written_at: '2026-11-26T09:30:00Z', from_this_device: true },
          { value: '+358409999999', author: 'coach2', written_at: '2026-11-26T09:32:00Z', from_this_device: false },
        ], clock_skew: false }],
    }),
    resolve_conflict: () => ({ pending: [], rejected: [], conflicts: [] }),
    get_settings: () => settingsView,
    set_settings: (args) => ({ ...settingsView, language: (args?.input as { language: string }).language }),
    session_state: () => session,
    sync_status: () => offlineStatus,
    watch_sync: () => null,
    lock: () => ({ ...session, unlocked: false }),
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
    ['Contact form', () => render(ContactForm, { client: amina, returnTo: { name: 'today' } })],
    ['Follow-ups', () => render(FollowUps)],
    ['Unsynced & conflicts', () => render(Unsynced)],
    ['Settings', () => render(Settings)],
    ['Sign in', () => render(SignIn, { session: { ...session, signed_in: false, unlocked: false }, onsignedin: () => {} })],
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
    await waitFor(() => expect(nav.screen.name).toBe('today'));
    expect(nav.notice).toBe('Contact saved for Amina Warsame.');
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
