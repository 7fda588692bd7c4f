// The page frame: the gear menu in the top bar (Admin settings, Sign out), usable with the
// keyboard, and signing out through DELETE /api/session.
import { del } from './api.js';

const button = document.getElementById('gear-button');
const menu = document.getElementById('gear-menu');

function items() {
  return Array.from(menu.querySelectorAll('[role="menuitem"]'));
}

function openMenu(focusFirst) {
  menu.hidden = false;
  button.setAttribute('aria-expanded', 'true');
  if (focusFirst) items()[0]?.focus();
}

function closeMenu(returnFocus) {
  if (menu.hidden) return;
  menu.hidden = true;
  button.setAttribute('aria-expanded', 'false');
  if (returnFocus) button.focus();
}

if (button && menu) {
  button.addEventListener('click', () => (menu.hidden ? openMenu(false) : closeMenu(false)));
  button.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowDown' || event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      openMenu(true);
    }
  });
  menu.addEventListener('keydown', (event) => {
    const list = items();
    const i = list.indexOf(document.activeElement);
    if (event.key === 'ArrowDown') { event.preventDefault(); list[(i + 1) % list.length].focus(); }
    else if (event.key === 'ArrowUp') { event.preventDefault(); list[(i - 1 + list.length) % list.length].focus(); }
    else if (event.key === 'Tab') closeMenu(false);
  });
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !menu.hidden) {
      event.preventDefault();
      closeMenu(true);
    }
  });
  document.addEventListener('click', (event) => {
    if (!menu.hidden && !menu.contains(event.target) && !button.contains(event.target)) closeMenu(false);
  });
  menu.querySelector('[data-action="sign-out"]')?.addEventListener('click', async () => {
    try {
      await del('/api/session', { signInOn401: false });
    } catch {
      // The session may already be gone; the sign-in page is the right place either way.
    }
    location.assign('/auth/login');
  });
}
