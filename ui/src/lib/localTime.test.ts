import { describe, expect, it } from 'vitest';
import { fromLocalInput, toLocalInput } from './localTime';

describe('contact times on this laptop’s clock', () => {
  it('a moment becomes the wall-clock time of this laptop, and back the same moment', () => {
    const moment = '2026-11-26T09:30:00+02:00';
    const shown = toLocalInput(moment);
    expect(shown).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/);
    const back = fromLocalInput(shown)!;
    expect(back).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00[+-]\d{2}:\d{2}$/);
    expect(new Date(back).getTime()).toBe(new Date(moment).getTime());
  });

  it('the offset is the one of that day, as the laptop keeps summer and winter time', () => {
    for (const value of ['2026-01-15T10:00', '2026-07-15T10:00']) {
      const at = fromLocalInput(value)!;
      expect(new Date(at).getTime()).toBe(new Date(2026, value.startsWith('2026-01') ? 0 : 6, 15, 10, 0).getTime());
    }
  });

  it('an empty or unreadable value is none, not a moment', () => {
    expect(fromLocalInput('')).toBeNull();
    expect(fromLocalInput('26.11.2026 9.30')).toBeNull();
    expect(toLocalInput('yesterday')).toBe('');
  });
});
