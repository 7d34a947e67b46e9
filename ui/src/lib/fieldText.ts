// A field's value as a sentence shows it: labels of enumerations, language names, dates in the
// interface language. The client's profile lists values this way, and a form names the
// values it could not give back from a draft.
import { CLIENT_FIELDS, CONTACT_FIELDS, type JsonValue } from '../ipc';
import { enumLabel, formatDate, formatDateTime, languageName, t } from '../i18n/index.svelte';
import { siteName } from './sites.svelte';
import { userName } from './users.svelte';

/** The value of `entity`'s field `name` as text; '' for an empty one. */
export function fieldValueText(entity: 'client' | 'contact', name: string, value: JsonValue | undefined): string {
  const field = (entity === 'client' ? CLIENT_FIELDS : CONTACT_FIELDS).find((f) => f.name === name);
  if (value === null || value === undefined || (Array.isArray(value) && value.length === 0)) return '';
  if (entity === 'contact' && name === 'site') return siteName(String(value)) ?? String(value);
  if (entity === 'contact' && name === 'coach_id') return userName(String(value)) ?? String(value);
  switch (field?.kind) {
    case 'enumeration':
      return enumLabel(name, String(value));
    case 'enumeration_set':
      return (value as string[]).map((item) => enumLabel(name, item)).join(', ');
    case 'language':
      return languageName(String(value));
    case 'language_set':
      return (value as string[]).map(languageName).join(', ');
    case 'bool':
      return value ? t('common.yes') : t('common.no');
    case 'date':
      return formatDate(String(value));
    case 'date_time':
      return formatDateTime(String(value));
    default:
      return Array.isArray(value) ? value.join(', ') : String(value);
  }
}
