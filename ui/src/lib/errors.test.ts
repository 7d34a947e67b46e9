import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../ipc';
import { LOCALES, MESSAGES, setLocale } from '../i18n/index.svelte';
import { ERROR_KINDS, REFUSAL_CODES, RULE_NAMES, fieldErrors, ruleText } from './errors';

describe('error texts', () => {
  afterEach(() => setLocale('fi'));

  it('every kind of error the shell can send has a text of its own in every language', () => {
    expect(ERROR_KINDS).toContain('disk_full');
    for (const locale of LOCALES) {
      const missing = ERROR_KINDS.filter((kind) => !MESSAGES[locale][`error.${kind}`]);
      expect(missing, locale).toEqual([]);
    }
  });

  it('every rule a value can break has a text of its own in every language', () => {
    expect(RULE_NAMES).toContain('phone_prefix');
    for (const locale of LOCALES) {
      const missing = RULE_NAMES.filter((rule) => !MESSAGES[locale][`validation.${rule}`]);
      expect(missing, locale).toEqual([]);
    }
  });

  it('every refusal of a value with a text of its own has it in every language', () => {
    expect(REFUSAL_CODES).toContain('user_not_in_team');
    for (const locale of LOCALES) {
      const missing = REFUSAL_CODES.filter((code) => !MESSAGES[locale][`refusal.${code}`]);
      expect(missing, locale).toEqual([]);
    }
  });

  it('a broken rule is said in the user’s language with its limits, years without a separator', () => {
    setLocale('fi');
    expect(ruleText({ rule: 'year_range', min: 1900, max: 2026 })).toBe('Anna vuosi väliltä 1900–2026.');
    expect(ruleText({ rule: 'too_long', max: 20000 })).toBe(`Enintään ${(20000).toLocaleString('fi')} merkkiä.`);
    expect(ruleText({ rule: 'lawful_basis_in_use', field: 'disability' })).toContain('”Vamma”');
    setLocale('sv');
    expect(ruleText({ rule: 'phone_prefix' })).toBe('Börja med + och landsnumret, eller med 0 för ett finskt nummer.');
  });

  it('a validation error shows the rule next to its field, or the detail when it names none', () => {
    setLocale('en');
    const ruled = new AppError('validation', '`040` is not a Finnish phone number', 'phone', { rule: 'phone_length' });
    expect(fieldErrors(ruled)).toEqual({ phone: 'A Finnish number that starts with 0 has 6 to 12 digits.' });
    // A server's refusal is said by its code; one without a code, or with a code this
    // version has no text for, by the server's words.
    setLocale('fi');
    const refused = new AppError('validation', 'consent_by: x is not a user of this team', 'consent_by', null, 'user_not_in_team');
    expect(fieldErrors(refused)).toEqual({ consent_by: MESSAGES.fi['refusal.user_not_in_team'] });
    const worded = new AppError('validation', 'consent_by: not a user of this team', 'consent_by');
    expect(fieldErrors(worded)).toEqual({ consent_by: 'consent_by: not a user of this team' });
    const unknown = new AppError('validation', 'lawful_basis: quota exceeded', 'lawful_basis', null, 'other');
    expect(fieldErrors(unknown)).toEqual({ lawful_basis: 'lawful_basis: quota exceeded' });
    expect(fieldErrors(new AppError('offline', 'no network'))).toEqual({});
  });
});
