// Translated, friendly messages for command errors. The UI never matches on the English detail.
import { AppError, toAppError } from '../ipc';
import { t } from '../i18n/index.svelte';

const KNOWN = new Set([
  'validation', 'not_found', 'keyring_unavailable', 'store_unreadable', 'update_required',
  'locked', 'not_signed_in', 'wrong_password', 'offline', 'server', 'sign_in_mismatch',
  'device_revoked', 'invalid_provisioning', 'store', 'disk_full', 'needs_connection', 'not_allowed',
  'conflict_not_open', 'locked_out', 'file_not_saved', 'updates_off', 'update_unverified', 'not_on_server',
  'update_failed',
]);

/** The translated sentence for an error of any kind. */
export function errorText(error: unknown): string {
  const appError = toAppError(error);
  return KNOWN.has(appError.kind) ? t(`error.${appError.kind}`) : t('error.unknown');
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
