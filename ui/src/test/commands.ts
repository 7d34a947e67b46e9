// Answers for the mocked `invoke`, by command name, for screen and component tests.
import { invoke } from '@tauri-apps/api/core';
import { vi } from 'vitest';
import type { ClientDetail, ClientSummary, SessionState, SitesView, SyncStatusView, UpdateStatusView } from '../ipc';

type Handler = (args: Record<string, unknown> | undefined) => unknown;

/** Makes `invoke(command, args)` answer with `handlers[command](args)`; unknown commands fail. */
export function answerCommands(handlers: Record<string, Handler>) {
  const mocked = vi.mocked(invoke);
  mocked.mockClear();
  mocked.mockImplementation(async (command: string, args?: unknown) => {
    const handler = handlers[command];
    if (!handler) throw { kind: 'store', message: `no test answer for ${command}`, field: null };
    return handler(args as Record<string, unknown> | undefined) as never;
  });
  return mocked;
}

/** An answer the test gives when it chooses. */
export function later<T>() {
  let answer!: (value: T) => void;
  let fail!: (error: unknown) => void;
  const promise = new Promise<T>((resolve, reject) => {
    answer = resolve;
    fail = reject;
  });
  return { promise, answer, fail };
}

export const amina: ClientSummary = {
  id: '0190f0c4-8d5e-7c3a-9f1e-00000000000a',
  given_name: 'Amina',
  family_name: 'Warsame',
  nickname: null,
  birth_year: 1988,
  phone: '+358401234567',
  languages: ['so', 'fi'],
  interpreter_needed: true,
  preferred_language: 'so',
};

export const aminaDetail: ClientDetail = {
  id: amina.id,
  fields: {
    given_name: 'Amina',
    family_name: 'Warsame',
    birth_year: 1988,
    languages: ['fi', 'so'],
    preferred_language: 'so',
    interpreter_needed: true,
    gender: 'female',
    phone: '+358401234567',
    tags: [],
    deleted: false,
  },
  contacts: [
    {
      id: '0190f0c4-8d5e-7c3a-9f1e-0000000000c1',
      client_id: amina.id,
      occurred_at: '2026-11-26T09:30:00+02:00',
      channel: 'drop_in',
      site: 'site-library',
      coach_id: 'u-coach1',
      duration_min: 20,
      topics: ['employment', 'housing'],
      referrals: ['kela'],
      service_language: 'so',
      interpreter_used: true,
      summary: 'CV reviewed',
      follow_up_on: '2026-12-01',
      follow_up_done: false,
    },
  ],
  follow_ups: [],
  deleted_contacts: [],
};

/** Three sites, one archived; coach1 logged the last contact at the NGO house. */
export const sitesView: SitesView = {
  sites: [
    { id: 'site-library', name: 'Myyrmäki library drop-in', archived: false },
    { id: 'site-old', name: 'Old premises', archived: true },
    { id: 'site-ngo', name: 'Tikkurila NGO house', archived: false },
  ],
  last_used: 'site-ngo',
};

export const session: SessionState = {
  signed_in: true,
  unlocked: true,
  username: 'coach1',
  role: 'coach',
  team: 'demo',
  server_url: 'http://127.0.0.1:8080',
  unlock_wait_secs: null,
};

export const offlineStatus: SyncStatusView = {
  online: false,
  syncing: false,
  pending_count: 12,
  rejected_count: 1,
  open_conflicts: 1,
  last_sync_at: null,
  last_error: { kind: 'offline', message: 'connection refused' },
  next_attempt_at: null,
  clock_skewed: false,
  update_required: false,
  server_url: 'http://127.0.0.1:8080',
};

/** Updates turned on by IT, and a newer signed version offered. */
export const updateOffered: UpdateStatusView = {
  state: 'available',
  current_version: '0.1.0',
  endpoint: 'https://updates.vantaa.example/tandem/latest.json',
  available_version: '0.2.0',
  notes: 'Faster search.',
  last_checked_at: '2026-11-27T12:00:00Z',
  error: null,
};
