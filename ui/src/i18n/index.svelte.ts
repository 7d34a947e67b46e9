// The interface language and everything that depends on it: texts with {placeholders},
// enumeration and field labels, language names, dates and numbers (Intl).
import { en } from './en';
import { fi } from './fi';
import { sv } from './sv';
import type { Messages } from './types';

export type Locale = 'fi' | 'sv' | 'en';
export const LOCALES: readonly Locale[] = ['fi', 'sv', 'en'];
export const MESSAGES: Record<Locale, Messages> = { fi, sv, en };
/** The name of each interface language in itself. */
export const LOCALE_NAMES: Record<Locale, string> = { fi: 'suomi', sv: 'svenska', en: 'English' };

const current = $state({ locale: 'fi' as Locale });

export function locale(): Locale {
  return current.locale;
}

export function setLocale(next: Locale): void {
  current.locale = next;
  if (typeof document !== 'undefined') document.documentElement.lang = next;
}

/**
 * The text of `key` in the current language, with `{name}` placeholders filled in. A numeric
 * `count` that the language reads as singular ("1 conflict", "1 ristiriita") takes the text of
 * `key.one` where there is one.
 */
export function t(key: string, params: Record<string, string | number> = {}): string {
  const messages = MESSAGES[current.locale];
  const singular =
    typeof params.count === 'number' && pluralRules(current.locale).select(params.count) === 'one'
      ? messages[`${key}.one`]
      : undefined;
  const text = singular ?? messages[key] ?? MESSAGES.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? formatParam(params[name]) : whole,
  );
}

const PLURAL_RULES = new Map<Locale, Intl.PluralRules>();

/** The plural rules of `locale`, made once. */
function pluralRules(locale: Locale): Intl.PluralRules {
  let rules = PLURAL_RULES.get(locale);
  if (!rules) {
    rules = new Intl.PluralRules(locale);
    PLURAL_RULES.set(locale, rules);
  }
  return rules;
}

function formatParam(value: string | number): string {
  return typeof value === 'number' ? formatNumber(value) : value;
}

/** The label of an enumeration value of a field. */
export function enumLabel(field: string, value: string): string {
  return t(`enum.${field}.${value}`);
}

/** The label of a field of an entity. */
export function fieldLabel(entity: 'client' | 'contact', field: string): string {
  return t(`field.${entity}.${field}`);
}

/** A language's name in the interface language ("somali", "somaliska", "Somali"). */
export function languageName(code: string): string {
  try {
    const names = new Intl.DisplayNames([current.locale], { type: 'language' });
    const name = names.of(code);
    if (name && name !== code) return name.charAt(0).toLocaleUpperCase(current.locale) + name.slice(1);
  } catch {
    // An unknown code shows as itself.
  }
  return code;
}

/**
 * The Intl locale of an interface language: English uses British conventions (day first). The
 * desktop shell gives the web view the same locales for its date fields (`web_locale` in
 * src-tauri/src/settings.rs).
 */
function intlLocale(): string {
  return current.locale === 'en' ? 'en-GB' : current.locale;
}

export function formatNumber(value: number): string {
  return new Intl.NumberFormat(intlLocale()).format(value);
}

/** A calendar date (`YYYY-MM-DD`) in the interface language. */
export function formatDate(isoDate: string): string {
  const [year, month, day] = isoDate.split('-').map(Number);
  if (!year || !month || !day) return isoDate;
  return new Intl.DateTimeFormat(intlLocale(), { dateStyle: 'medium' }).format(
    new Date(year, month - 1, day),
  );
}

/** A moment (RFC 3339) as date and time in the interface language. */
export function formatDateTime(rfc3339: string): string {
  const at = new Date(rfc3339);
  if (Number.isNaN(at.getTime())) return rfc3339;
  return new Intl.DateTimeFormat(intlLocale(), { dateStyle: 'medium', timeStyle: 'short' }).format(at);
}

/** A moment (RFC 3339) as a time of day in the interface language. */
export function formatTime(rfc3339: string): string {
  const at = new Date(rfc3339);
  if (Number.isNaN(at.getTime())) return rfc3339;
  return new Intl.DateTimeFormat(intlLocale(), { timeStyle: 'short' }).format(at);
}

/** A moment relative to `now` ("5 minutes ago"). */
export function formatRelative(rfc3339: string, now: Date = new Date()): string {
  const at = new Date(rfc3339);
  if (Number.isNaN(at.getTime())) return rfc3339;
  const seconds = Math.round((at.getTime() - now.getTime()) / 1000);
  const format = new Intl.RelativeTimeFormat(intlLocale(), { numeric: 'auto' });
  const abs = Math.abs(seconds);
  if (abs < 60) return format.format(seconds, 'second');
  if (abs < 3600) return format.format(Math.round(seconds / 60), 'minute');
  if (abs < 86400) return format.format(Math.round(seconds / 3600), 'hour');
  return format.format(Math.round(seconds / 86400), 'day');
}
