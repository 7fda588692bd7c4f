// Sign-in: POST /api/session, then back to the page that sent the person here.
import { post } from './api.js';
import { clearErrors, showBanner, whileBusy } from './dialogs.js';

const form = document.getElementById('login-form');
const root = form.closest('section');

// Only local paths (the server already checked; this keeps the page honest on its own).
function target() {
  const t = form.dataset.redirect || '/';
  return t.startsWith('/') && !t.startsWith('//') && !t.includes('\\') ? t : '/';
}

function fieldError(name, message) {
  const el = root.querySelector(`[data-error-for="${name}"]`);
  el.textContent = message;
  el.hidden = false;
  form.elements[name].setAttribute('aria-invalid', 'true');
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearErrors(root);
  const username = form.elements.username.value.trim();
  const password = form.elements.password.value;
  if (!username) fieldError('username', 'Enter your email address.');
  if (!password) fieldError('password', 'Enter your password.');
  if (!username || !password) return;
  const submit = form.querySelector('[type="submit"]');
  await whileBusy(submit, async () => {
    try {
      await post('/api/session', { username, password, remember: form.elements.remember.checked }, { signInOn401: false });
      location.assign(target());
    } catch (err) {
      const errors = (err.body && err.body.errors) || {};
      if (errors.username && errors.username.startsWith('Too many attempts')) {
        // The throttle (people-and-groups.md 2.4): say how long to wait.
        showBanner(root, errors.username);
      } else if (errors.password === 'did not match stored password') {
        showBanner(root, 'Wrong email or password. Please try again.');
        form.elements.password.value = '';
        form.elements.password.focus();
      } else if (errors._error) {
        showBanner(root, errors._error);
      } else if (errors.username || errors.password) {
        if (errors.username) fieldError('username', errors.username);
        if (errors.password) fieldError('password', errors.password);
      } else {
        showBanner(root, err.message);
      }
    }
  });
});
