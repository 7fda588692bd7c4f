// The API-key dialogs (api-keys.md §9.3–9.7): create, copy-once secret, edit, regenerate,
// delete, with the restriction fields of key-restrictions.md §4 (key-restrictions.js). Request
// bodies are exactly those the specs list: `restrictions` is sent on create when something is
// restricted, and on edit when it changed (null when everything is back to the defaults).
import { post, put, del } from './api.js';
import { h, clear } from './dom.js';
import { dateTime, daysFromNow, isoToLocalInput, localInputToIso } from './format.js';
import { openModal, showError, whileBusy, lockDialog, copyValue, clearErrors } from './dialogs.js';
import { fillGroupSelect } from './group-picker.js';
import { restrictionFields, restrictionErrorField } from './key-restrictions.js';

const $ = (id) => document.getElementById(id);

// The "Expires" control: a choice plus a date-time input for "On a date…". Returns
// {changed, value} where value is an RFC 3339 string, or null for "Never".
function expiryValue(choice, input, initial) {
  switch (choice.value) {
    case 'current': return { changed: false, value: initial };
    case 'never': return { changed: initial !== null, value: null };
    case 'custom': {
      const iso = localInputToIso(input.value);
      return { changed: true, value: iso, invalid: iso === null };
    }
    default: return { changed: true, value: daysFromNow(Number(choice.value)) };
  }
}

function wireExpiry(choice, input, onChange) {
  choice.addEventListener('change', () => {
    input.hidden = choice.value !== 'custom';
    if (!input.hidden && !input.value) input.value = isoToLocalInput(null);
    onChange();
  });
  input.addEventListener('input', onChange);
}

function expiryOptions(select, current) {
  clear(select);
  if (current) select.append(h('option', { value: 'current' }, `${dateTime(current)} (current)`));
  select.append(
    h('option', { value: 'never' }, 'Never'),
    h('option', { value: '30' }, 'In 30 days'),
    h('option', { value: '90' }, 'In 90 days'),
    h('option', { value: '365' }, 'In 1 year'),
    h('option', { value: 'custom' }, 'On a date…'),
  );
  select.value = current ? 'current' : 'never';
}

function invalidExpiry(dialog, field) {
  clearErrors(dialog);
  const el = dialog.querySelector('[data-error-for="expires_at"]');
  el.textContent = 'Choose a date and time.';
  el.hidden = false;
  field.setAttribute('aria-invalid', 'true');
  field.focus();
}

const showKeyError = (dialog, err) => showError(dialog, err, { fieldFor: restrictionErrorField });

// `catalog()` gives the collection and database choices (key-restrictions.js catalogFrom).
export function keyDialogs({ groups, catalog, refresh }) {
  // ----- Secret (copy once) -----
  const secret = $('secret-dialog');
  let secretDone = true;
  lockDialog(secret, () => secretDone);
  $('secret-copy').addEventListener('click', () => copyValue($('secret-key'), $('secret-copied')));
  $('secret-done').addEventListener('click', () => {
    secretDone = true;
    secret.close();
    $('secret-key').value = '';
    refresh();
  });
  function openSecret(key, graceUntil) {
    $('secret-key').value = key;
    $('secret-copied').textContent = '';
    const grace = $('secret-grace');
    grace.hidden = !graceUntil;
    grace.textContent = graceUntil ? `The previous key keeps working until ${dateTime(graceUntil)}.` : '';
    secretDone = false;
    secret.showModal();
    $('secret-key').select();
  }

  // ----- Create -----
  const create = $('create-key-dialog');
  const createForm = $('create-key-form');
  const ckSubmit = $('ck-submit');
  const ckRestrictions = restrictionFields(createForm.querySelector('[data-restrictions]'));
  const ckValid = () => {
    ckSubmit.disabled = !(createForm.elements.name.value.trim() && $('ck-group').value);
  };
  createForm.addEventListener('input', ckValid);
  createForm.addEventListener('change', ckValid);
  wireExpiry($('ck-expires'), $('ck-expires-at'), ckValid);
  createForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (ckSubmit.disabled) return;
    const body = { name: createForm.elements.name.value, group_id: Number($('ck-group').value) };
    const expiry = expiryValue($('ck-expires'), $('ck-expires-at'), null);
    if (expiry.invalid) return invalidExpiry(create, $('ck-expires-at'));
    if (expiry.value) body.expires_at = expiry.value;
    const restrictions = ckRestrictions.read();
    if (restrictions) body.restrictions = restrictions;
    await whileBusy(ckSubmit, async () => {
      try {
        const created = await post('/api/api-key', body);
        create.close();
        openSecret(created.unmasked_key, null);
      } catch (err) {
        showKeyError(create, err);
      }
    });
  });
  function openCreate() {
    createForm.reset();
    fillGroupSelect($('ck-group'), groups(), null);
    $('ck-expires').value = 'never';
    $('ck-expires-at').hidden = true;
    $('ck-expires-at').value = '';
    ckRestrictions.fill(null, catalog());
    ckSubmit.disabled = true;
    openModal(create);
    createForm.elements.name.focus();
  }

  // ----- Edit -----
  const edit = $('edit-key-dialog');
  const editForm = $('edit-key-form');
  const ekSave = $('ek-save');
  const ekRestrictions = restrictionFields(editForm.querySelector('[data-restrictions]'));
  let editing = null;
  let storedRestrictions = 'null'; // read() of the fields as openEdit filled them, as JSON
  const restrictionsChanged = () => JSON.stringify(ekRestrictions.read()) !== storedRestrictions;
  const ekChanged = () => {
    if (!editing) return false;
    const e = expiryValue($('ek-expires'), $('ek-expires-at'), editing.expires_at);
    return editForm.elements.name.value !== editing.name
      || Number($('ek-group').value) !== editing.group.id
      || e.changed
      || restrictionsChanged();
  };
  const ekRefresh = () => { ekSave.disabled = !ekChanged(); };
  editForm.addEventListener('input', ekRefresh);
  editForm.addEventListener('change', ekRefresh);
  wireExpiry($('ek-expires'), $('ek-expires-at'), ekRefresh);
  editForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!ekChanged()) return;
    const body = { group_id: Number($('ek-group').value), name: editForm.elements.name.value };
    const expiry = expiryValue($('ek-expires'), $('ek-expires-at'), editing.expires_at);
    if (expiry.invalid) return invalidExpiry(edit, $('ek-expires-at'));
    if (expiry.changed) body.expires_at = expiry.value;
    if (restrictionsChanged()) body.restrictions = ekRestrictions.read();
    await whileBusy(ekSave, async () => {
      try {
        await put(`/api/api-key/${editing.id}`, body);
        edit.close();
        refresh();
      } catch (err) {
        showKeyError(edit, err);
      }
    });
  });
  function openEdit(key) {
    editing = key;
    editForm.reset();
    editForm.elements.name.value = key.name;
    fillGroupSelect($('ek-group'), groups(), key.group.id);
    expiryOptions($('ek-expires'), key.expires_at);
    $('ek-expires-at').hidden = true;
    $('ek-expires-at').value = '';
    $('ek-masked').value = key.masked_key;
    ekRestrictions.fill(key.restrictions, catalog());
    storedRestrictions = JSON.stringify(ekRestrictions.read());
    ekSave.disabled = true;
    openModal(edit);
    editForm.elements.name.focus();
  }

  // ----- Regenerate (on top of the edit dialog) -----
  const regen = $('regenerate-key-dialog');
  const regenForm = $('regenerate-key-form');
  $('ek-regenerate').addEventListener('click', () => {
    $('rk-name').textContent = editing.name;
    $('rk-group').textContent = editing.group.name;
    $('rk-grace').value = '0';
    openModal(regen);
    $('rk-grace').focus();
  });
  $('rk-back').addEventListener('click', () => regen.close());
  regenForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const grace = Number($('rk-grace').value);
    const body = grace > 0 ? { grace_period_seconds: grace } : {};
    await whileBusy($('rk-submit'), async () => {
      try {
        const res = await put(`/api/api-key/${editing.id}/regenerate`, body);
        regen.close();
        edit.close();
        openSecret(res.unmasked_key, grace > 0 ? res.previous_key_valid_until : null);
      } catch (err) {
        showError(regen, err);
      }
    });
  });

  // ----- Delete -----
  const remove = $('delete-key-dialog');
  let deleting = null;
  $('delete-key-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    await whileBusy($('dk-submit'), async () => {
      try {
        await del(`/api/api-key/${deleting.id}`);
        remove.close();
        refresh();
      } catch (err) {
        showError(remove, err);
      }
    });
  });
  function openDelete(key) {
    deleting = key;
    clearErrors(remove);
    openModal(remove);
  }

  return { openCreate, openEdit, openDelete };
}
