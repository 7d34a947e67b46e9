// Translated, friendly messages for command errors. The UI never matches on the English detail.
import { AppError, toAppError, type ErrorKind, type JsonValue, type RejectCode, type Rule } from '../ipc';
import { fieldLabel, t } from '../i18n/index.svelte';
import { fieldValueText } from './fieldText';

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
  wrong_server_address: true,
  sign_in_mismatch: true,
  device_revoked: true,
  device_not_recognised: true,
  invalid_provisioning: true,
  store: true,
  disk_full: true,
  needs_connection: true,
  not_allowed: true,
  conflict_not_open: true,
  changed_meanwhile: true,
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

// Every rule a field's value can break (generated from Rust): TypeScript refuses this table
// when a rule has no entry, and errors.test.ts a rule without a text in every language.
const RULES: Record<Rule['rule'], true> = {
  required: true,
  empty: true,
  too_long: true,
  one_line: true,
  control_characters: true,
  phone_length: true,
  phone_prefix: true,
  phone_digits: true,
  phone_international: true,
  email_no_at: true,
  email_many_at: true,
  email_local_part: true,
  email_spaces: true,
  email_domain: true,
  language: true,
  unknown_choice: true,
  year_range: true,
  number_range: true,
  date: true,
  date_time: true,
  too_many_members: true,
  wrong_type: true,
  lawful_basis_required: true,
  lawful_basis_in_use: true,
  too_late: true,
};

/** Every rule a field's value can break. */
export const RULE_NAMES = Object.keys(RULES) as Rule['rule'][];

/** What a broken rule asks of the user, in the current language, with its limits. */
export function ruleText(rule: Rule): string {
  switch (rule.rule) {
    case 'too_long':
    case 'too_many_members':
      return t(`validation.${rule.rule}`, { max: rule.max });
    // Years are written without a thousands separator.
    case 'year_range':
      return t('validation.year_range', { min: String(rule.min), max: String(rule.max) });
    case 'number_range':
      return t('validation.number_range', { min: rule.min, max: rule.max });
    case 'lawful_basis_in_use':
      return t('validation.lawful_basis_in_use', { field: fieldLabel('client', rule.field) });
    default:
      return t(`validation.${rule.rule}`);
  }
}

// The server's refusals of a value a user chose (a team lead's resolution of a conflict),
// each with a text in every language (errors.test.ts); another code shows the server's words.
const REFUSALS: Partial<Record<RejectCode, true>> = {
  invalid_value: true,
  user_not_in_team: true,
  lawful_basis_required: true,
  lawful_basis_in_use: true,
};

/** The server's refusals of a value that have a text of their own. */
export const REFUSAL_CODES = Object.keys(REFUSALS) as RejectCode[];

/**
 * Validation errors by field name, for messages next to the form controls: the broken rule
 * or the server's refusal in the user's language, or the detail where the error names
 * neither (a server's words).
 */
export function fieldErrors(error: unknown): Record<string, string> {
  const appError = toAppError(error);
  if (appError.kind !== 'validation' || !appError.field) return {};
  if (appError.rule) return { [appError.field]: ruleText(appError.rule) };
  if (appError.reasonCode && Object.hasOwn(REFUSALS, appError.reasonCode)) {
    return { [appError.field]: t(`refusal.${appError.reasonCode}`) };
  }
  return { [appError.field]: appError.message };
}

/** Beside a field a save found changed elsewhere since the form was filled in (and the user
 * changed too): what it holds now. */
export function changedMeanwhileText(entity: 'client' | 'contact', name: string, now: JsonValue | undefined): string {
  const text = fieldValueText(entity, name, now);
  return text ? t('form.changed_meanwhile', { value: text }) : t('form.emptied_meanwhile');
}

export { AppError };
