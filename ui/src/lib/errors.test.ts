import { describe, expect, it } from 'vitest';
import { LOCALES, MESSAGES } from '../i18n/index.svelte';
import { ERROR_KINDS } from './errors';

describe('error texts', () => {
  it('every kind of error the shell can send has a text of its own in every language', () => {
    expect(ERROR_KINDS).toContain('disk_full');
    for (const locale of LOCALES) {
      const missing = ERROR_KINDS.filter((kind) => !MESSAGES[locale][`error.${kind}`]);
      expect(missing, locale).toEqual([]);
    }
  });
});
