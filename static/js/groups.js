// Admin › People › Groups: member counts with the API keys each group holds
// (api-keys.md §9.8), and create, rename and remove.
import { get, post, put, del } from './api.js';
import { h, clear, showOnly, initials } from './dom.js';
import { plural } from './format.js';
import { icon } from './icons.js';
import { openModal, showError, showBanner, whileBusy } from './dialogs.js';

const root = document.querySelector('.admin-content');
const loading = document.getElementById('groups-loading');
const tableWrap = document.getElementById('groups-table-wrap');
const tbody = document.querySelector('#groups-table tbody');

const nameDialog = document.getElementById('group-name-dialog');
const nameForm = document.getElementById('group-name-form');
const removeDialog = document.getElementById('remove-group-dialog');
let renaming = null;
let removing = null;

function keyNote(n) {
  return n === 1 ? '(includes 1 API key)' : `(includes ${n} API keys)`;
}

function row(g, keyCount) {
  const fixed = g.magic_group_type !== null && g.magic_group_type !== undefined;
  return h('tr', { dataset: { groupId: g.id } },
    h('td', {}, h('a', { class: 'person-cell', href: `/admin/people/groups/${g.id}` },
      h('span', { class: 'avatar', 'aria-hidden': 'true' }, initials(g.name)),
      h('span', { class: 'cell-strong' }, g.name))),
    h('td', {}, h('span', { class: 'cell-with-badge' },
      String(g.member_count),
      keyCount > 0 ? h('span', { class: 'member-note' }, keyNote(keyCount)) : null)),
    h('td', { class: 'col-actions' }, fixed ? null : h('div', { class: 'row-actions' },
      h('button', { type: 'button', class: 'icon-button', title: 'Rename group', 'aria-label': `Rename group ${g.name}`, onclick: () => openName(g) }, icon('pencil')),
      h('button', { type: 'button', class: 'icon-button danger', title: 'Remove group', 'aria-label': `Remove group ${g.name}`, onclick: () => openRemove(g, keyCount) }, icon('trash')))));
}

async function refresh() {
  try {
    const [groups, keys] = await Promise.all([
      get('/api/permissions/group'),
      get('/api/api-key').catch(() => []),
    ]);
    const perGroup = new Map();
    for (const k of keys) if (k.group) perGroup.set(k.group.id, (perGroup.get(k.group.id) || 0) + 1);
    clear(tbody).append(...groups.map((g) => row(g, perGroup.get(g.id) || 0)));
    showOnly(tableWrap, loading, tableWrap);
  } catch (err) {
    loading.hidden = true;
    showBanner(root, `Could not load the groups: ${err.message}`);
  }
}

function openName(group) {
  renaming = group;
  nameForm.reset();
  document.getElementById('group-name-title').textContent = group ? 'Rename group' : 'Create a group';
  document.getElementById('group-name-submit').textContent = group ? 'Save' : 'Create';
  if (group) nameForm.elements.name.value = group.name;
  openModal(nameDialog);
  nameForm.elements.name.focus();
}

nameForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const name = nameForm.elements.name.value;
  await whileBusy(document.getElementById('group-name-submit'), async () => {
    try {
      if (renaming) await put(`/api/permissions/group/${renaming.id}`, { name });
      else await post('/api/permissions/group', { name });
      nameDialog.close();
      refresh();
    } catch (err) {
      showError(nameDialog, err, { textField: 'name' });
    }
  });
});

function openRemove(group, keyCount) {
  removing = group;
  const title = document.getElementById('remove-group-title');
  const text = document.getElementById('remove-group-text');
  if (keyCount > 0) {
    title.textContent = keyCount === 1
      ? 'Are you sure you want to remove this group and its API key?'
      : 'Are you sure you want to remove this group and its API keys?';
    text.textContent = 'All members of this group will lose any permissions settings they have based on this group, and its API keys will be moved to the All Users group.';
  } else {
    title.textContent = 'Remove this group?';
    text.textContent = `All members of ${group.name} will lose any permissions settings they have based on this group. This can't be undone.`;
  }
  openModal(removeDialog);
}

document.getElementById('remove-group-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  await whileBusy(document.getElementById('remove-group-submit'), async () => {
    try {
      await del(`/api/permissions/group/${removing.id}`);
      removeDialog.close();
      refresh();
    } catch (err) {
      showError(removeDialog, err);
    }
  });
});

document.getElementById('create-group-button').addEventListener('click', () => openName(null));
refresh();
