// Translated, friendly messages for command errors. The UI never matches on the English detail.
import { AppError, toAppError, type ErrorKind } from '../ipc';
import { t } from '../i18n/index.svelte';

// Every kind the shell sends (generated from Rust): TypeScript refuses this table when a
// kind has no entry, and errors.test.ts a kind without a text in every language.
const KNOWN: Record<ErrorKind, true> = {
  validation: true,
  not_found: true,
  keyring_unavailable: true,
  store_unreadable: true,
  update_required: true,
  locked: true,
  not_signed_in: true,
  wrong_password: true,
  offline: true,
  server: true,
  sign_in_mismatch: true,
  device_revoked: true,
  device_not_recognised: true,
  invalid_provisioning: true,
  store: true,
  disk_full: true,
  needs_connection: true,
  not_allowed: true,
  conflict_not_open: true,
  locked_out: true,
  file_not_saved: true,
  updates_off: true,
  update_unverified: true,
  not_on_server: true,
  update_failed: true,
};

/** Every kind of error the shell can send. */
export const ERROR_KINDS = Object.keys(KNOWN) as ErrorKind[];

/** The translated sentence for an error of any kind. */
export function errorText(error: unknown): string {
  const appError = toAppError(error);
  return Object.hasOwn(KNOWN, appError.kind) ? t(`error.${appError.kind}`) : t('error.unknown');
}

/** Validation errors by field name, for messages next to the form controls. */
export function fieldErrors(error: unknown): Record<string, string> {
  const appError = toAppError(error);
  if (appError.kind === 'validation' && appError.field) {
    return { [appError.field]: appError.message };
  }
  return {};
}

export { AppError };
