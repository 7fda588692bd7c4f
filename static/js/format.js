// Dates as people read them, in the viewer's time zone, to the minute.

const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit',
});

export function dateTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateTimeFormat.format(d);
}

export function isPast(iso) {
  return Boolean(iso) && new Date(iso).getTime() <= Date.now();
}

// The value of an <input type="datetime-local"> (local time, no zone) as RFC 3339 in UTC.
export function localInputToIso(value) {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

// now + days, as RFC 3339 in UTC.
export function daysFromNow(days) {
  return new Date(Date.now() + days * 86400000).toISOString();
}

// An RFC 3339 instant as the value of an <input type="datetime-local">.
export function isoToLocalInput(iso) {
  const d = iso ? new Date(iso) : new Date(Date.now() + 86400000);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}
