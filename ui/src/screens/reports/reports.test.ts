// The Reports screen against mocked command answers: the figures as tables (with translated
// categories) and charts, the label of where they come from, the CSV on the clipboard or in a
// file, errors, and the nav entry that only team leads see.
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import axe from 'axe-core';
import { tick } from 'svelte';
import { describe, expect, it, vi } from 'vitest';
import App from '../../App.svelte';
import type { CategoryCount, ParticipantReport, ReportView } from '../../ipc';
import { setLocale } from '../../i18n/index.svelte';
import { answerCommands, later, offlineStatus, session } from '../../test/commands';
import Reports from './Reports.svelte';

const counts = (pairs: [string, number][]): CategoryCount[] => pairs.map(([category, count]) => ({ category, count }));

const report: ParticipantReport = {
  from: '2024-01-01',
  to: '2024-06-30',
  participants: 5,
  participants_by_gender: counts([['female', 2], ['male', 1], ['non_binary', 1], ['undisclosed', 0], ['not_recorded', 1]]),
  participants_by_age: counts([['under_18', 1], ['18_29', 0], ['30_54', 2], ['55_and_over', 1], ['not_recorded', 1]]),
  participants_by_employment_status: counts([['employed', 0], ['unemployed', 1], ['not_recorded', 4]]),
  participants_by_education: counts([['isced_0_2', 1], ['isced_3_4', 1], ['isced_5_8', 1], ['undisclosed', 1], ['not_recorded', 1]]),
  third_country_national: counts([['yes', 2], ['no', 1], ['declined', 1], ['not_recorded', 1]]),
  foreign_background: counts([['yes', 3], ['no', 0], ['declined', 1], ['not_recorded', 1]]),
  disability: counts([['yes', 1], ['no', 1], ['declined', 2], ['not_recorded', 1]]),
  exits: 1,
  exits_by_situation: counts([['in_education', 1], ['not_recorded', 0]]),
  contacts: 8,
  contacts_by_topic: counts([['employment', 1], ['residence_permit', 2], ['not_recorded', 1]]),
  contacts_by_service_language: counts([['ar', 3], ['so', 2], ['not_recorded', 1]]),
  contacts_by_referral: counts([['kela', 1], ['not_recorded', 5]]),
  contacts_by_channel: counts([['drop_in', 5], ['phone', 1]]),
  contacts_by_site: counts([['0190f0c4-8d5e-7c3a-9f1e-0000000000f1', 4], ['not_recorded', 1]]),
  unique_clients: 5,
  anonymous_visitors: 2,
};

const fromServer: ReportView = { source: 'server', offline_reason: null, report, csv: 'from,to,indicator,category,count\n2024-01-01,2024-06-30,participants,total,5\n' };

async function settle() {
  for (let i = 0; i < 5; i++) {
    await tick();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

function answers(view: ReportView | (() => never) = fromServer) {
  return answerCommands({
    participant_report: typeof view === 'function' ? view : () => view,
    session_state: () => session,
    sync_status: () => offlineStatus,
    get_settings: () => ({ language: 'en', lock_after_minutes: 10, server_url: null, server_provisioned: false, organisation: null, data_dir: '/tmp' }),
    watch_sync: () => null,
    recent_clients: () => [],
    contacts_logged: () => ({ items: [], more: false }),
    sites: () => ({ sites: [{ id: '0190f0c4-8d5e-7c3a-9f1e-0000000000f1', name: 'Myyrmäki library drop-in', archived: false }], last_used: null }),
  });
}

async function showReport(from = '2024-01-01', to = '2024-06-30') {
  const result = render(Reports);
  await fireEvent.input(screen.getByLabelText('From'), { target: { value: from } });
  await fireEvent.input(screen.getByLabelText('To'), { target: { value: to } });
  await fireEvent.click(screen.getByRole('button', { name: 'Show report' }));
  await settle();
  return result;
}

setLocale('en');

describe('reports', () => {
  it('asks for the chosen period and shows every figure with translated categories', async () => {
    const invoke = answers();
    const { container } = await showReport();
    expect(invoke).toHaveBeenCalledWith('participant_report', { request: { from: '2024-01-01', to: '2024-06-30' } });
    expect(screen.getByText('Computed by the server from the whole team’s data.')).toBeTruthy();
    const total = (name: string) => container.querySelector(`[data-indicator="${name}"] dd`)?.textContent;
    expect(total('participants')).toBe('5');
    expect(total('contacts')).toBe('8');
    expect(total('unique_clients')).toBe('5');
    expect(total('anonymous_visitors')).toBe('2');
    const cell = (indicator: string, category: string) =>
      container.querySelector(`[data-indicator="${indicator}"] tr[data-category="${category}"]`)?.textContent;
    expect(cell('participants_by_gender', 'non_binary')).toBe('Non-binary1');
    expect(cell('participants_by_gender', 'not_recorded')).toBe('Not recorded1');
    expect(cell('participants_by_age', '55_and_over')).toBe('55 and over1');
    expect(cell('disability', 'declined')).toBe('Declined to say2');
    expect(cell('contacts_by_service_language', 'ar')).toBe('Arabic3');
    expect(cell('contacts_by_topic', 'residence_permit')).toBe('Residence permit2');
    expect(cell('contacts_by_site', '0190f0c4-8d5e-7c3a-9f1e-0000000000f1')).toBe('Myyrmäki library drop-in4');
    expect(screen.getByRole('table', { name: 'Gender' })).toBeTruthy();
    // Charts for the figures people would rather look at, each with a text summary.
    const chart = screen.getByRole('img', { name: /^Gender: Female 2, Male 1, Non-binary 1/ });
    expect(chart.querySelector('canvas')).toBeTruthy();
    expect(screen.getAllByRole('img').length).toBe(6);
  });

  it('says when the figures are this laptop’s, and why', async () => {
    answers({ ...fromServer, source: 'laptop', offline_reason: 'server http://127.0.0.1:9 unreachable' });
    const { container } = await showReport();
    expect(screen.getByText(/^From this laptop’s data/)).toBeTruthy();
    expect(screen.getByText('server http://127.0.0.1:9 unreachable')).toBeTruthy();
    expect(container.querySelector('[data-source="laptop"]')).toBeTruthy();
  });

  it('copies the CSV to the clipboard', async () => {
    answers();
    const writeText = vi.fn(async () => {});
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    await showReport();
    await fireEvent.click(screen.getByRole('button', { name: 'Copy as CSV' }));
    await waitFor(() => expect(writeText).toHaveBeenCalledWith(fromServer.csv));
    expect(screen.getByText(/on the clipboard as CSV/)).toBeTruthy();
  });

  it('saves the CSV to a file the user picks, named after the period', async () => {
    const invoke = answerCommands({
      participant_report: () => fromServer,
      save_report_csv: (args) => `/home/lead/${String(args?.fileName)}`,
    });
    await showReport();
    await fireEvent.click(screen.getByRole('button', { name: 'Save as CSV…' }));
    await settle();
    expect(invoke).toHaveBeenCalledWith('save_report_csv', { csv: fromServer.csv, fileName: 'participants-2024-01-01-2024-06-30.csv' });
    expect(screen.getByText('Saved to /home/lead/participants-2024-01-01-2024-06-30.csv.')).toBeTruthy();
  });

  it('says when the file could not be saved, and keeps the report', async () => {
    answerCommands({
      participant_report: () => fromServer,
      save_report_csv: () => {
        throw { kind: 'file_not_saved', message: 'cannot save /readonly/r.csv: permission denied', field: null };
      },
    });
    const { container } = await showReport();
    await fireEvent.click(screen.getByRole('button', { name: 'Save as CSV…' }));
    await settle();
    expect(screen.getByRole('alert').textContent).toContain('The file could not be saved there.');
    expect(screen.getByText('cannot save /readonly/r.csv: permission denied')).toBeTruthy();
    expect(container.querySelector('[data-indicator="participants"] dd')?.textContent).toBe('5');
  });

  it('the error of a file not saved goes with its report: not shown with the next one', async () => {
    answerCommands({
      participant_report: (args) => ({ ...fromServer, report: { ...report, ...(args?.request as object) } }),
      save_report_csv: () => {
        throw { kind: 'file_not_saved', message: 'cannot save /readonly/r.csv: permission denied', field: null };
      },
    });
    await showReport();
    await fireEvent.click(screen.getByRole('button', { name: 'Save as CSV…' }));
    await settle();
    expect(screen.getByRole('alert').textContent).toContain('The file could not be saved there.');
    await fireEvent.input(screen.getByLabelText('To'), { target: { value: '2024-12-31' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Show report' }));
    await settle();
    expect(screen.getByRole('heading', { level: 2, name: /2024/ }).textContent).toContain('31');
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('a save or copy that finishes after another period was asked for says nothing under it', async () => {
    const notSaved = { kind: 'file_not_saved', message: 'cannot save /readonly/r.csv: permission denied', field: null };
    for (const [action, fails] of [['Save as CSV…', false], ['Save as CSV…', true], ['Copy as CSV', false], ['Copy as CSV', true]] as const) {
      const done = later<string | void>();
      answerCommands({
        // Each period's CSV has its dates on every line, as the shell's does.
        participant_report: (args) => {
          const period = args?.request as { from: string; to: string };
          return { ...fromServer, report: { ...report, ...period }, csv: `${fromServer.csv}${period.from},${period.to}\n` };
        },
        save_report_csv: () => done.promise,
      });
      Object.defineProperty(navigator, 'clipboard', { value: { writeText: () => done.promise }, configurable: true });
      const { unmount } = await showReport();
      // The save dialog open (the clipboard busy), the lead asks for another period.
      await fireEvent.click(screen.getByRole('button', { name: action }));
      await fireEvent.input(screen.getByLabelText('To'), { target: { value: '2024-12-31' } });
      await fireEvent.click(screen.getByRole('button', { name: 'Show report' }));
      await settle();
      expect(screen.getByRole('heading', { level: 2, name: /2024/ }).textContent).toContain('31');
      if (fails) done.fail(notSaved);
      else done.answer('/home/lead/participants-2024-01-01-2024-06-30.csv');
      await settle();
      expect(screen.queryByText(/Saved to|on the clipboard|Copying to the clipboard failed/)).toBeNull();
      expect(screen.queryByRole('alert')).toBeNull();
      unmount();
    }
  });

  it('shows the error of a refused period', async () => {
    answers(() => {
      throw { kind: 'validation', message: 'the period ends before it starts (from 2024-07-01 is after to 2024-06-30)', field: 'to' };
    });
    await showReport('2024-07-01', '2024-06-30');
    expect(screen.getByText(/the period ends before it starts/)).toBeTruthy();
  });

  it('has no serious or critical axe violations with a report shown', async () => {
    answers();
    const { container } = await showReport();
    const results = await axe.run(container, { rules: { 'color-contrast': { enabled: false } } });
    const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.html).join(' | ')}`)).toEqual([]);
  });

  it('is in the navigation of team leads only', async () => {
    answers();
    const lead = render(App);
    await settle();
    expect(lead.container.querySelector('[data-nav="reports"]')).toBeNull();
    lead.unmount();
    answerCommands({
      session_state: () => ({ ...session, role: 'team_lead' }),
      sync_status: () => offlineStatus,
      get_settings: () => ({ language: 'en', lock_after_minutes: 10, server_url: null, server_provisioned: false, organisation: null, data_dir: '/tmp' }),
      watch_sync: () => null,
      recent_clients: () => [],
      contacts_logged: () => ({ items: [], more: false }),
      participant_report: () => fromServer,
    });
    const app = render(App);
    await settle();
    const entry = app.container.querySelector('[data-nav="reports"]') as HTMLElement;
    expect(entry.textContent?.trim()).toBe('Reports');
    await fireEvent.click(entry);
    await settle();
    expect(screen.getByRole('heading', { name: 'Participant report' })).toBeTruthy();
  });
});
