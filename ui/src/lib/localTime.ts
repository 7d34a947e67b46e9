// Moments as a datetime-local input shows and takes them: this laptop's wall-clock time, as
// contacts record it (RFC 3339 with the laptop's UTC offset, like the shell's "now").

const pad = (n: number) => String(n).padStart(2, '0');

/** An RFC 3339 moment as a datetime-local value (YYYY-MM-DDTHH:MM) on this laptop's clock. */
export function toLocalInput(rfc3339: string): string {
  const at = new Date(rfc3339);
  if (Number.isNaN(at.getTime())) return '';
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
}

/**
 * A datetime-local value as RFC 3339 with this laptop's UTC offset at that moment (summer
 * and winter time differ), or null for an empty or unreadable value.
 */
export function fromLocalInput(value: string): string | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(value);
  if (!match) return null;
  const [year, month, day, hours, minutes] = match.slice(1).map(Number);
  const at = new Date(year, month - 1, day, hours, minutes);
  if (Number.isNaN(at.getTime())) return null;
  const offset = -at.getTimezoneOffset();
  const sign = offset < 0 ? '-' : '+';
  const zone = `${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
  return `${value}:00${zone}`;
}
