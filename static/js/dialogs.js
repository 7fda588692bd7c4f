// Native <dialog> helpers: open with a clean slate, show API errors next to their fields (or
// in the dialog's banner), keep buttons from firing twice, copy secrets.
import { ApiError } from './api.js';

// Any [data-close] button closes its dialog (Cancel, "No, don't delete", …).
document.addEventListener('click', (event) => {
  const button = event.target.closest('[data-close]');
  if (button) button.closest('dialog')?.close();
});

export function clearErrors(root) {
  for (const el of root.querySelectorAll('[data-error-for]')) {
    el.textContent = '';
    el.hidden = true;
  }
  for (const el of root.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  const banner = root.querySelector('[data-banner]');
  if (banner) {
    banner.textContent = '';
    banner.hidden = true;
  }
}

export function openModal(dialog) {
  clearErrors(dialog);
  if (!dialog.open) dialog.showModal();
}

export function showBanner(root, message) {
  const banner = root.querySelector('[data-banner]');
  if (!banner) return;
  banner.textContent = message;
  banner.hidden = false;
}

// Shows each `errors` message of a 400 under its field; messages without a field on this form,
// and every other failure, go to the banner. `textField` names the field that a plain-text 400
// is about (e.g. "A group with that name already exists." belongs under the group name).
// `fieldFor(field, message)` may name a finer field than the API's key (key restrictions put
// every member's message under `restrictions`).
export function showError(root, err, { textField, fieldFor } = {}) {
  clearErrors(root);
  const entries = Object.entries(err instanceof ApiError ? err.fieldErrors : {})
    .map(([field, message]) => [fieldFor ? fieldFor(field, message) : field, message]);
  if (entries.length) {
    const unplaced = entries.filter(([field, message]) => !placeFieldError(root, field, message));
    if (unplaced.length) showBanner(root, unplaced.map(([, message]) => message).join(' '));
    revealError(root);
    return;
  }
  const plainText400 = err instanceof ApiError && err.status === 400 && err.body === null;
  if (textField && plainText400 && placeFieldError(root, textField, err.message)) return revealError(root);
  showBanner(root, (err && err.message) || 'Something went wrong.');
  revealError(root);
}

// A long dialog is scrolled to its buttons when it is submitted: bring the first message into
// view, and focus its field so a keyboard or screen-reader user lands on what needs fixing.
function revealError(root) {
  const banner = root.querySelector('[data-banner]');
  if (banner && !banner.hidden) {
    banner.scrollIntoView({ block: 'nearest' });
    return;
  }
  const control = root.querySelector('[aria-invalid="true"]');
  const message = Array.from(root.querySelectorAll('[data-error-for]')).find((el) => !el.hidden);
  if (control) control.focus();
  if (message) message.scrollIntoView({ block: 'nearest' });
}

function placeFieldError(root, field, message) {
  const el = root.querySelector(`[data-error-for="${CSS.escape(field)}"]`);
  if (!el) return false;
  el.textContent = message;
  el.hidden = false;
  const control = el.id ? root.querySelector(`[aria-describedby~="${CSS.escape(el.id)}"]`) : null;
  if (control) control.setAttribute('aria-invalid', 'true');
  return true;
}

// Runs `action` with `button` disabled, so a double click sends one request.
export async function whileBusy(button, action) {
  if (button.getAttribute('aria-busy') === 'true') return undefined;
  const wasDisabled = button.disabled;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await action();
  } finally {
    button.removeAttribute('aria-busy');
    button.disabled = wasDisabled;
  }
}

// A dialog that only its own button may close: Escape and clicks outside do nothing
// (closedby="none" in the markup, plus these guards for browsers without it).
export function lockDialog(dialog, isDone) {
  dialog.addEventListener('cancel', (event) => event.preventDefault());
  dialog.addEventListener('close', () => {
    if (!isDone()) dialog.showModal();
  });
}

export async function copyValue(input, status) {
  input.focus();
  input.select();
  let ok = false;
  try {
    await navigator.clipboard.writeText(input.value);
    ok = true;
  } catch {
    try { ok = document.execCommand('copy'); } catch { ok = false; }
  }
  status.textContent = ok ? 'Copied to the clipboard.' : 'Press Ctrl+C (or ⌘C) to copy.';
}
