import { describe, expect, it } from 'vitest';
import { CLIENT_FIELDS, CONTACT_FIELDS, REJECT_CODES } from '../ipc/generated/catalogue';
import { LOCALES, MESSAGES, enumLabel, formatDate, formatNumber, languageName, setLocale, t } from './index.svelte';

describe('translations', () => {
  it('every key of any language exists in every language, none empty', () => {
    const keys = new Set(LOCALES.flatMap((locale) => Object.keys(MESSAGES[locale])));
    for (const locale of LOCALES) {
      const missing = [...keys].filter((key) => !(key in MESSAGES[locale]));
      expect(missing, `missing in ${locale}`).toEqual([]);
      const empty = Object.entries(MESSAGES[locale]).filter(([, text]) => text.trim() === '');
      expect(empty, `empty in ${locale}`).toEqual([]);
    }
  });

  it('every field and every enumeration value of tandem-domain has a label in every language', () => {
    const needed: string[] = [];
    for (const [entity, fields] of [['client', CLIENT_FIELDS], ['contact', CONTACT_FIELDS]] as const) {
      for (const field of fields) {
        needed.push(`field.${entity}.${field.name}`);
        for (const value of field.values) needed.push(`enum.${field.name}.${value}`);
      }
    }
    for (const locale of LOCALES) {
      const missing = needed.filter((key) => !(key in MESSAGES[locale]));
      expect(missing, `missing in ${locale}`).toEqual([]);
    }
  });

  it('every code of a refused change is explained in every language', () => {
    expect(REJECT_CODES).toContain('user_not_in_team');
    for (const locale of LOCALES) {
      const missing = REJECT_CODES.filter((code) => !(`unsynced.reason_code.${code}` in MESSAGES[locale]));
      expect(missing, `missing in ${locale}`).toEqual([]);
    }
  });

  it('a count the language reads as singular takes the singular text', () => {
    try {
      setLocale('fi');
      expect(t('sync.conflicts', { count: 1 })).toBe('1 ristiriita');
      expect(t('sync.conflicts', { count: 2 })).toBe('2 ristiriitaa');
      expect(t('sync.rejected', { count: 1 })).toBe('1 hylätty');
      setLocale('sv');
      expect(t('sync.pending', { count: 1 })).toBe('1 ändring väntar');
      expect(t('settings.lock_after', { count: 1 })).toBe('Låses efter 1 minut utan användning');
    } finally {
      setLocale('en');
    }
    expect(t('sync.pending', { count: 1 })).toBe('1 change waiting');
    expect(t('sync.pending', { count: 0 })).toBe('0 changes waiting');
    // Keys without a singular text read the same for every count.
    expect(t('unsynced.by_coach', { name: 'coach1', count: 1 })).toBe('By coach1 (1)');
  });

  it('placeholders are the same in every language', () => {
    const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const [key, english] of Object.entries(MESSAGES.en)) {
      for (const locale of LOCALES) {
        expect(placeholders(MESSAGES[locale][key]), `${locale} ${key}`).toEqual(placeholders(english));
      }
    }
  });

  it('texts, labels, languages, dates and numbers follow the interface language', () => {
    setLocale('fi');
    expect(t('sync.pending', { count: 3 })).toBe('3 muutosta odottaa');
    expect(enumLabel('referrals', 'kela')).toBe('Kela');
    expect(languageName('so')).toBe('Somali');
    expect(formatNumber(1234.5)).toBe('1\u00a0234,5');
    setLocale('sv');
    expect(enumLabel('referrals', 'kela')).toBe('FPA');
    expect(languageName('fi')).toBe('Finska');
    expect(formatDate('2026-12-01')).toBe('1 dec. 2026');
    setLocale('en');
    expect(formatDate('2026-12-01')).toBe('1 Dec 2026');
    expect(formatNumber(1234.5)).toBe('1,234.5');
    setLocale('fi');
  });
});
