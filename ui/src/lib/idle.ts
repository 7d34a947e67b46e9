// Locks the app after a period without keyboard, mouse or touch activity.
const EVENTS = ['keydown', 'pointerdown', 'pointermove', 'wheel', 'touchstart'] as const;

/** Calls `onIdle` after `minutes` without activity; returns a function that stops watching. */
export function watchIdle(minutes: number, onIdle: () => void, target: EventTarget = window): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const restart = () => {
    clearTimeout(timer);
    timer = setTimeout(onIdle, minutes * 60_000);
  };
  for (const event of EVENTS) target.addEventListener(event, restart, { passive: true });
  restart();
  return () => {
    clearTimeout(timer);
    for (const event of EVENTS) target.removeEventListener(event, restart);
  };
}
