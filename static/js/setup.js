// First run: creates the first administrator with POST /api/setup, using the setup token that
// the page embeds (spec README 3.4), then opens the home page signed in.
import { post } from './api.js';
import { clearErrors, showError, showBanner, whileBusy } from './dialogs.js';

const form = document.getElementById('setup-form');
const root = form.closest('section');
const properties = JSON.parse(document.getElementById('ferrobase-properties')?.textContent || '{}');
const value = (name) => form.elements[name].value;
const orNull = (s) => (s.trim() === '' ? null : s);

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearErrors(root);
  if (value('password') !== value('password_confirm')) {
    const el = root.querySelector('[data-error-for="password_confirm"]');
    el.textContent = 'Passwords do not match.';
    el.hidden = false;
    form.elements.password_confirm.setAttribute('aria-invalid', 'true');
    form.elements.password_confirm.focus();
    return;
  }
  const body = {
    token: properties['setup-token'],
    user: {
      first_name: orNull(value('first_name')),
      last_name: orNull(value('last_name')),
      email: value('email').trim(),
      password: value('password'),
    },
    prefs: { site_name: value('site_name'), site_locale: 'en', allow_tracking: false },
    database: null,
    invite: null,
  };
  const submit = form.querySelector('[type="submit"]');
  await whileBusy(submit, async () => {
    try {
      await post('/api/setup', body, { signInOn401: false });
      location.assign('/');
    } catch (err) {
      if (err.status === 403) {
        showBanner(root, 'This ferrobase is already set up. Sign in instead.');
        setTimeout(() => location.assign('/auth/login'), 1500);
        return;
      }
      showError(root, err);
      root.querySelector('[aria-invalid="true"]')?.focus();
    }
  });
});
