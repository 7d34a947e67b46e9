// A client's data-protection actions against mocked command answers: shown to team leads and
// admins only; the export saved where the user picks (and nothing said when they cancel);
// erasure only after the client's name is typed, then back to Today with a notice; offline a
// clear error and the client still there.
import { fireEvent, render, screen } from '@testing-library/svelte';
import { tick } from 'svelte';
import { describe, expect, it } from 'vitest';
import { setLocale } from '../../i18n/index.svelte';
import { nav } from '../../lib/nav.svelte';
import { amina, aminaDetail, answerCommands } from '../../test/commands';
import ClientProfile from './ClientProfile.svelte';

async function settle() {
  for (let i = 0; i < 5; i++) {
    await tick();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

function answers(overrides: Parameters<typeof answerCommands>[0] = {}) {
  return answerCommands({
    get_client: () => aminaDetail,
    erase_client: () => ({ records: 2, purged_here: 2 }),
    save_client_export: (args) => `/home/lead/client-${String(args?.clientId)}.${String(args?.format)}`,
    ...overrides,
  });
}

async function profile(role: string | null) {
  const result = render(ClientProfile, { clientId: amina.id, role });
  await settle();
  return result;
}

setLocale('en');

describe('client data protection', () => {
  it('is not offered to a coach', async () => {
    answers();
    await profile('coach');
    expect(screen.queryByRole('heading', { name: 'Data protection' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Erase client…' })).toBeNull();
  });

  it('an admin may erase but gets no export (the server gives admins no client data)', async () => {
    answers();
    await profile('admin');
    expect(screen.getByRole('button', { name: 'Erase client…' })).toBeTruthy();
    expect(screen.queryByRole('button', { name: /Export client data/ })).toBeNull();
  });

  it('a team lead saves the export as JSON or CSV where they pick', async () => {
    const invoke = answers();
    await profile('team_lead');
    await fireEvent.click(screen.getByRole('button', { name: 'Export client data as CSV…' }));
    await settle();
    expect(invoke).toHaveBeenCalledWith('save_client_export', { clientId: amina.id, format: 'csv' });
    expect(screen.getByRole('status').textContent).toBe(`Saved to /home/lead/client-${amina.id}.csv.`);
    await fireEvent.click(screen.getByRole('button', { name: 'Export client data as JSON…' }));
    await settle();
    expect(invoke).toHaveBeenLastCalledWith('save_client_export', { clientId: amina.id, format: 'json' });
  });

  it('a cancelled save dialog says nothing; an offline export says it needs a connection', async () => {
    answers({ save_client_export: () => null });
    await profile('team_lead');
    await fireEvent.click(screen.getByRole('button', { name: 'Export client data as JSON…' }));
    await settle();
    expect(screen.queryByRole('status')).toBeNull();
    expect(screen.queryByRole('alert')).toBeNull();
    answers({
      save_client_export: () => {
        throw { kind: 'needs_connection', message: 'server unreachable', field: null };
      },
    });
    await fireEvent.click(screen.getByRole('button', { name: 'Export client data as JSON…' }));
    await settle();
    expect(screen.getByRole('alert').textContent).toContain('This needs a connection to the server.');
  });

  it('erasing says what happens and needs the client’s name typed', async () => {
    const invoke = answers();
    await profile('team_lead');
    await fireEvent.click(screen.getByRole('button', { name: 'Erase client…' }));
    const form = screen.getByRole('form', { name: 'Erase Amina Warsame everywhere?' });
    expect(form.textContent).toContain('removed from the server now, and from every laptop at its next sync');
    expect(form.textContent).toContain('Only an entry in the audit log remains, without personal data');
    const confirm = screen.getByRole('button', { name: 'Erase permanently' }) as HTMLButtonElement;
    expect(confirm.disabled).toBe(true);
    const input = screen.getByLabelText('To confirm, type the client’s name: Amina Warsame');
    await fireEvent.input(input, { target: { value: 'Amina' } });
    expect(confirm.disabled).toBe(true);
    await fireEvent.submit(form);
    await settle();
    expect(invoke).not.toHaveBeenCalledWith('erase_client', expect.anything());
    await fireEvent.input(input, { target: { value: ' amina warsame ' } });
    expect(confirm.disabled).toBe(false);
    await fireEvent.click(confirm);
    await settle();
    expect(invoke).toHaveBeenCalledWith('erase_client', { clientId: amina.id });
    expect(nav.screen).toEqual({ name: 'today' });
    expect(nav.notice).toMatch(/^The client was erased from the server and from this laptop/);
  });

  it('says when the erasure stands but this laptop removes the client only at its next sync', async () => {
    answers({ erase_client: () => ({ records: 1, purged_here: 0 }) });
    await profile('team_lead');
    await fireEvent.click(screen.getByRole('button', { name: 'Erase client…' }));
    await fireEvent.input(screen.getByLabelText(/To confirm, type/), { target: { value: 'Amina Warsame' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Erase permanently' }));
    await settle();
    expect(nav.screen).toEqual({ name: 'today' });
    expect(nav.notice).toMatch(/^The client was erased from the server. This laptop removes it at its next sync/);
  });

  it('offline, erasing says it needs a connection and the client stays', async () => {
    answers({
      erase_client: () => {
        throw { kind: 'needs_connection', message: 'server unreachable', field: null };
      },
    });
    nav.screen = { name: 'client', clientId: amina.id };
    await profile('team_lead');
    await fireEvent.click(screen.getByRole('button', { name: 'Erase client…' }));
    await fireEvent.input(screen.getByLabelText(/To confirm, type/), { target: { value: 'Amina Warsame' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Erase permanently' }));
    await settle();
    expect(screen.getByRole('alert').textContent).toContain('Nothing was changed');
    expect(nav.screen).toEqual({ name: 'client', clientId: amina.id });
    expect(screen.getByRole('heading', { name: 'Amina Warsame', level: 1 })).toBeTruthy();
    // Cancelling closes the confirmation.
    await fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('form')).toBeNull();
  });

  it('opens the audit log of this client', async () => {
    answers();
    await profile('team_lead');
    await fireEvent.click(screen.getByRole('button', { name: 'Audit log of this client' }));
    expect(nav.screen).toEqual({ name: 'audit', recordId: amina.id });
  });
});
