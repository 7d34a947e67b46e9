import { invoke } from '@tauri-apps/api/core';
import { describe, expect, it, vi } from 'vitest';
import { AppError, api, toAppError } from './index';

describe('the IPC wrapper', () => {


  it('calls the command by its Rust name with camelCase argument names', async () => {
    vi.mocked(invoke).mockResolvedValue([]);
    await api.searchClients('amina');
    expect(invoke).toHaveBeenCalledWith('search_clients', { query: 'amina' });
    await api.completeFollowUp('c1');
    expect(invoke).toHaveBeenLastCalledWith('complete_follow_up', { contactId: 'c1' });
    await api.createContact({ client_id: null, fields: { topics: ['housing'] } });
    expect(invoke).toHaveBeenLastCalledWith('create_contact', {
      draft: { client_id: null, fields: { topics: ['housing'] } },
    });
  });

  it('turns a {kind, message, field} rejection into an AppError with the field', async () => {
    vi.mocked(invoke).mockImplementation(async () => {
      throw { kind: 'validation', message: 'must be a year', field: 'birth_year' };
    });
    let error: AppError | undefined;
    try {
      await api.editClient({ id: 'x', fields: { birth_year: 1850 } });
    } catch (thrown) {
      error = thrown as AppError;
    }
    expect(error?.kind).toBe('validation');
    expect(error?.field).toBe('birth_year');
    expect(error?.message).toBe('must be a year');
    expect(error?.name).toBe('AppError');
  });

  it('turns anything else thrown into an AppError of kind unknown', () => {
    expect(toAppError('boom').kind).toBe('unknown');
    expect(toAppError(new Error('lost')).message).toBe('lost');
  });
});
