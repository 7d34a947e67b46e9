// Unit tests mock only the Tauri boundary: `invoke` and `Channel` of @tauri-apps/api/core.
// Everything above it (the IPC wrapper, screens, components) is the real code.
import { vi } from 'vitest';

vi.mock('@tauri-apps/api/core', () => ({
  invoke: vi.fn(),
  Channel: class {
    onmessage: (message: unknown) => void = () => {};
  },
}));

// Each test starts from an empty document, on the Today screen with no notice and no undo.
import { cleanup } from '@testing-library/svelte';
import { afterEach } from 'vitest';
import { nav } from './lib/nav.svelte';
afterEach(() => {
  cleanup();
  Object.assign(nav, { screen: { name: 'today' }, notice: null, undo: null });
});
