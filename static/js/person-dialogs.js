// The People dialogs: add or edit a person (with groups), show a temporary password once,
// and the confirmations for deactivate, reactivate and reset password.
import { post, put, del } from './api.js';
import { h, clear } from './dom.js';
import { openModal, showError, whileBusy, lockDialog, copyValue, clearErrors } from './dialogs.js';

const $ = (id) => document.getElementById(id);
const ALL_USERS = 1;

// A random password that passes every complexity rule (people-and-groups.md 3.1): at least
// `length` characters with lower and upper case letters, digits and special characters.
export function temporaryPassword(length) {
  const sets = ['abcdefghijkmnopqrstuvwxyz', 'ABCDEFGHJKLMNPQRSTUVWXYZ', '23456789', '!#$%*+-=?@'];
  const n = Math.max(16, length);
  const random = (max) => {
    const buf = new Uint32Array(1);
    const limit = Math.floor(0x100000000 / max) * max;
    do { crypto.getRandomValues(buf); } while (buf[0] >= limit);
    return buf[0] % max;
  };
  const chars = [];
  for (const set of sets) for (let i = 0; i < 2; i += 1) chars.push(set[random(set.length)]);
  const all = sets.join('');
  while (chars.length < n) chars.push(all[random(all.length)]);
  for (let i = chars.length - 1; i > 0; i -= 1) {
    const j = random(i + 1);
    [chars[i], chars[j]] = [chars[j], chars[i]];
  }
  return chars.join('');
}

export function personDialogs({ groups, refresh, passwordLength }) {
  // ----- Temporary password (shown once) -----
  const pw = $('password-dialog');
  let pwDone = true;
  lockDialog(pw, () => pwDone);
  $('password-copy').addEventListener('click', () => copyValue($('password-value'), $('password-copied')));
  $('password-done').addEventListener('click', () => {
    pwDone = true;
    pw.close();
    $('password-value').value = '';
    refresh();
  });
  function showPassword(title, text, password) {
    $('password-title').textContent = title;
    $('password-text').textContent = text;
    $('password-value').value = password;
    $('password-copied').textContent = '';
    pwDone = false;
    pw.showModal();
    $('password-value').select();
  }

  // ----- Add / edit -----
  const dialog = $('person-dialog');
  const form = $('person-form');
  let editing = null;
  function fillGroups(selected) {
    const box = clear($('person-groups'));
    for (const g of groups()) {
      const id = `person-group-${g.id}`;
      const fixed = g.id === ALL_USERS;
      box.append(h('label', { for: id },
        h('input', { type: 'checkbox', id, value: String(g.id), checked: fixed || selected.includes(g.id), disabled: fixed }),
        g.name));
    }
  }
  function memberships() {
    const ids = Array.from($('person-groups').querySelectorAll('input:checked')).map((c) => Number(c.value));
    if (!ids.includes(ALL_USERS)) ids.push(ALL_USERS);
    return ids.sort((a, b) => a - b).map((id) => ({ id }));
  }
  const orNull = (s) => (s.trim() === '' ? null : s.trim());
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = {
      first_name: orNull(form.elements.first_name.value),
      last_name: orNull(form.elements.last_name.value),
      email: form.elements.email.value.trim(),
      user_group_memberships: memberships(),
    };
    await whileBusy($('person-submit'), async () => {
      try {
        if (editing) {
          await put(`/api/user/${editing.id}`, body);
          dialog.close();
          refresh();
        } else {
          const password = temporaryPassword(passwordLength);
          const created = await post('/api/user', { ...body, password });
          dialog.close();
          showPassword(`${created.common_name} has been added`,
            `Tell ${created.common_name} to sign in with ${created.email} and this temporary password.`, password);
        }
      } catch (err) {
        showError(dialog, err);
      }
    });
  });
  function openPerson(person) {
    editing = person;
    form.reset();
    $('person-title').textContent = person ? `Edit ${person.common_name}` : 'Add person';
    $('person-submit').textContent = person ? 'Save' : 'Create';
    if (person) {
      form.elements.first_name.value = person.first_name || '';
      form.elements.last_name.value = person.last_name || '';
      form.elements.email.value = person.email;
    }
    fillGroups(person ? person.group_ids : [ALL_USERS]);
    openModal(dialog);
    form.elements.first_name.focus();
  }

  // ----- Confirmations -----
  const confirm = $('confirm-dialog');
  let onConfirm = null;
  $('confirm-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    await whileBusy($('confirm-submit'), async () => {
      try {
        await onConfirm();
      } catch (err) {
        showError(confirm, err);
      }
    });
  });
  function ask(title, text, label, danger, action) {
    $('confirm-title').textContent = title;
    $('confirm-text').textContent = text;
    const submit = $('confirm-submit');
    submit.textContent = label;
    submit.className = danger ? 'btn btn-danger' : 'btn btn-primary';
    onConfirm = action;
    clearErrors(confirm);
    openModal(confirm);
  }

  const openDeactivate = (p) => ask(`Deactivate ${p.common_name}?`,
    `${p.common_name} won't be able to sign in anymore. Their sessions end at once. You can reactivate them later.`,
    'Deactivate', true, async () => {
      await del(`/api/user/${p.id}`);
      confirm.close();
      refresh();
    });
  const openReactivate = (p) => ask(`Reactivate ${p.common_name}?`,
    `${p.common_name} will be able to sign in again and is placed back into their groups, except Administrators: admin rights must be given again.`,
    'Reactivate', false, async () => {
      await put(`/api/user/${p.id}/reactivate`, {});
      confirm.close();
      refresh();
    });
  const openResetPassword = (p) => ask(`Reset ${p.common_name}'s password?`,
    `A new temporary password replaces the current one, and ${p.common_name} is signed out everywhere.`,
    'Reset password', true, async () => {
      const password = temporaryPassword(passwordLength);
      await put(`/api/user/${p.id}/password`, { password });
      confirm.close();
      showPassword(`${p.common_name}'s password was reset`,
        `Tell ${p.common_name} to sign in with ${p.email} and this temporary password.`, password);
    });

  return { openPerson, openDeactivate, openReactivate, openResetPassword };
}
