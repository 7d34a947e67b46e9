import { afterEach, describe, expect, it, vi } from 'vitest';
import { watchIdle } from './idle';

describe('locking after inactivity', () => {
  afterEach(() => vi.useRealTimers());

  it('locks after the given minutes without activity, and activity postpones it', () => {
    vi.useFakeTimers();
    const target = new EventTarget();
    let locked = 0;
    const stop = watchIdle(10, () => locked++, target);
    vi.advanceTimersByTime(9 * 60_000);
    target.dispatchEvent(new Event('keydown'));
    vi.advanceTimersByTime(9 * 60_000);
    expect(locked).toBe(0);
    vi.advanceTimersByTime(60_000);
    expect(locked).toBe(1);
    stop();
    vi.advanceTimersByTime(60 * 60_000);
    expect(locked).toBe(1);
  });
});
