// The UI's one door to the desktop shell: typed wrappers over the Tauri commands. This is the
// only module that imports @tauri-apps/*; screens import from here. Every failure becomes an
// AppError with the `{kind, message, field}` the shell sent.
import { Channel, invoke } from '@tauri-apps/api/core';
import type {
  AuditPageView,
  AuditRequest,
  ClientDetail,
  ClientDraft,
  ClientSummary,
  CommandError,
  ContactDetail,
  ContactDraft,
  ConflictResolution,
  DuplicatePairInput,
  DuplicatesView,
  EditResult,
  ErasureView,
  ErrorKind,
  ExportFormatInput,
  FollowUpsDue,
  FormDraftView,
  LoggedContacts,
  RecordEdit,
  RecordRef,
  RejectCode,
  ReportRequest,
  ReportView,
  Rule,
  SessionState,
  SettingsInput,
  SettingsView,
  SignInInput,
  SitesView,
  UserNamesView,
  SyncEvent,
  SyncStatusView,
  TeamDevicesView,
  UnlockInput,
  UnsyncedView,
  UpdateStatusView,
} from './generated/types';

export type * from './generated/types';
export { CLIENT_FIELDS, CONTACT_FIELDS, REJECT_CODES, type FieldInfo } from './generated/catalogue';

/** A failed command, as the shell reported it. */
export class AppError extends Error {
  readonly kind: ErrorKind | 'unknown';
  readonly field: string | null;
  /** The field's rule the value broke, for a validation error of a value. */
  readonly rule: Rule | null;
  /** The server's refusal of the value, for a validation error the server found. */
  readonly reasonCode: RejectCode | null;

  constructor(
    kind: ErrorKind | 'unknown',
    message: string,
    field: string | null = null,
    rule: Rule | null = null,
    reasonCode: RejectCode | null = null,
  ) {
    super(message);
    this.name = 'AppError';
    this.kind = kind;
    this.field = field;
    this.rule = rule;
    this.reasonCode = reasonCode;
  }
}

function isCommandError(value: unknown): value is CommandError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as CommandError).kind === 'string' &&
    typeof (value as CommandError).message === 'string'
  );
}

/** Turns whatever a failed invoke threw into an AppError. */
export function toAppError(thrown: unknown): AppError {
  if (thrown instanceof AppError) return thrown;
  if (isCommandError(thrown)) {
    return new AppError(thrown.kind, thrown.message, thrown.field ?? null, thrown.rule ?? null, thrown.reason_code ?? null);
  }
  if (thrown instanceof Error) return new AppError('unknown', thrown.message);
  return new AppError('unknown', String(thrown));
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (thrown) {
    throw toAppError(thrown);
  }
}

export const api = {
  sessionState: () => call<SessionState>('session_state'),
  signIn: (input: SignInInput) => call<SessionState>('sign_in', { input }),
  unlock: (input: UnlockInput) => call<SessionState>('unlock', { input }),
  lock: () => call<SessionState>('lock'),

  searchClients: (query: string) => call<ClientSummary[]>('search_clients', { query }),
  recentClients: () => call<ClientSummary[]>('recent_clients'),
  getClient: (id: string) => call<ClientDetail>('get_client', { id }),
  createClient: (draft: ClientDraft) => call<RecordRef>('create_client', { draft }),
  editClient: (edit: RecordEdit) => call<EditResult>('edit_client', { edit }),

  createContact: (draft: ContactDraft) => call<RecordRef>('create_contact', { draft }),
  getContact: (id: string) => call<ContactDetail>('get_contact', { id }),
  editContact: (edit: RecordEdit) => call<EditResult>('edit_contact', { edit }),
  /** Deletes a contact; `form`: the correction open on it, whose draft goes with it. */
  deleteContact: (id: string, form: string | null = null) => call<void>('delete_contact', { id, form }),
  /** Brings back a deleted contact. */
  restoreContact: (id: string) => call<void>('restore_contact', { id }),
  /** A new contact's unsaved values, kept in the store while they are typed (lib/drafts.ts). */
  formDraft: () => call<FormDraftView | null>('form_draft'),
  /** Keeps `text` as the draft of `form`, about the client `about`; no text forgets it. */
  setFormDraft: (form: string, about: string | null, text: string | null) =>
    call<boolean>('set_form_draft', { form, about, text }),
  followUpsDue: (onlyMine: boolean) => call<FollowUpsDue>('follow_ups_due', { onlyMine }),
  /** The contacts the signed-in coach logged in the last `days` days (1: today), newest first,
   * with those they deleted. */
  contactsLogged: (days: number) => call<LoggedContacts>('contacts_logged', { days }),
  completeFollowUp: (contactId: string) => call<void>('complete_follow_up', { contactId }),
  sites: () => call<SitesView>('sites'),
  userNames: () => call<UserNamesView>('user_names'),

  syncStatus: () => call<SyncStatusView>('sync_status'),
  syncNow: () => call<SyncStatusView>('sync_now'),
  unsynced: () => call<UnsyncedView>('unsynced'),
  retryRejected: (changeId: string) => call<void>('retry_rejected', { changeId }),
  dismissRejected: (changeId: string) => call<void>('dismiss_rejected', { changeId }),
  /** A team lead's choice for an open conflict; needs the server. */
  resolveConflict: (resolution: ConflictResolution) =>
    call<UnsyncedView>('resolve_conflict', { resolution }),
  /** Restores the losing value of an auto-resolved (lww) conflict as an ordinary edit. */
  revertAutoResolved: (resolution: ConflictResolution) =>
    call<UnsyncedView>('revert_auto_resolved', { resolution }),
  /** The team's laptops and their health (team leads); needs the server. */
  teamDevices: () => call<TeamDevicesView>('team_devices'),
  /** The team's possible duplicate clients and recent merges (team leads); needs the server. */
  duplicates: () => call<DuplicatesView>('duplicates'),
  /** Merges `second_id` into `first_id` (team leads); needs the server. */
  mergeDuplicate: (pair: DuplicatePairInput) => call<DuplicatesView>('merge_duplicate', { pair }),
  undoDuplicateMerge: (mergeId: string) => call<DuplicatesView>('undo_duplicate_merge', { mergeId }),
  /** Marks a pair as not one person; it is not proposed again. */
  dismissDuplicate: (pair: DuplicatePairInput) => call<DuplicatesView>('dismiss_duplicate', { pair }),
  /** The participant report of a period (team leads): the server's, or this laptop's offline. */
  participantReport: (request: ReportRequest) => call<ReportView>('participant_report', { request }),
  /** Erases a client on the server and every laptop (team leads, admins); needs the server. */
  eraseClient: (clientId: string) => call<ErasureView>('erase_client', { clientId }),
  /** Saves a client's subject-access export where the user picks; the path, or null if cancelled. */
  saveClientExport: (clientId: string, format: ExportFormatInput) =>
    call<string | null>('save_client_export', { clientId, format }),
  /** Saves CSV where the user picks (offering `fileName`); the path, or null if cancelled. */
  saveReportCsv: (csv: string, fileName: string) => call<string | null>('save_report_csv', { csv, fileName }),
  /** A page of the audit log, oldest first (team leads, admins); needs the server. */
  auditLog: (request: AuditRequest) => call<AuditPageView>('audit_log', { request }),
  /** Sends sync progress and status to `onEvent` until the app closes. */
  watchSync: (onEvent: (event: SyncEvent) => void) => {
    const channel = new Channel<SyncEvent>();
    channel.onmessage = onEvent;
    return call<void>('watch_sync', { onEvent: channel });
  },

  /** Where the app stands with updates (off unless IT's provisioning file turns them on). */
  updateStatus: () => call<UpdateStatusView>('update_status'),
  /** Sends every change of the update status to `onEvent` until the app closes. */
  watchUpdates: (onEvent: (status: UpdateStatusView) => void) => {
    const channel = new Channel<UpdateStatusView>();
    channel.onmessage = onEvent;
    return call<void>('watch_updates', { onEvent: channel });
  },
  /** Asks the provisioned update endpoint for a newer version now. */
  checkForUpdate: () => call<UpdateStatusView>('check_for_update'),
  /** Downloads, verifies and installs the update found; the app then restarts into it. */
  installUpdate: () => call<void>('install_update'),

  /** Holds the window's close requests while a form holds unsaved changes: they go to
   * `watchCloseRequests` instead of closing the window. */
  holdClose: (hold: boolean) => call<void>('hold_close', { hold }),
  /** Calls `onRequest` for each close request held. */
  watchCloseRequests: (onRequest: () => void) => {
    const channel = new Channel<null>();
    channel.onmessage = () => onRequest();
    return call<void>('watch_close_requests', { onRequest: channel });
  },
  /** Tells the shell that the close requests sent were heard (a UI that does not say so
   * within three seconds lets the next request close the window). */
  closeRequestHeard: () => call<void>('close_request_heard'),
  /** Closes the window (and quits): after a close request, once the form may be left. */
  closeWindow: () => call<void>('close_window'),

  getSettings: () => call<SettingsView>('get_settings'),
  setSettings: (input: SettingsInput) => call<SettingsView>('set_settings', { input }),
};

export type Api = typeof api;
