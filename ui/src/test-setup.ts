// Unit tests mock only the Tauri boundary: `invoke` and `Channel` of @tauri-apps/api/core.
// Everything above it (the IPC wrapper, screens, components) is the real code.
import { vi } from 'vitest';

vi.mock('@tauri-apps/api/core', () => ({
  invoke: vi.fn(),
  Channel: class {
    onmessage: (message: unknown) => void = () => {};
  },
}));

// Each test starts from an empty document, on the Today screen with no notice and no undo,
// with no user whose form drafts are kept.
import { cleanup } from '@testing-library/svelte';
import { afterEach } from 'vitest';
import { draftsOf } from './lib/drafts';
import { nav } from './lib/nav.svelte';
afterEach(() => {
  cleanup();
  draftsOf(null);
  Object.assign(nav, { screen: { name: 'today' }, notice: null, undo: null });
});
