// Admin › People › Groups › <group>: its people and its API keys (api-keys.md §9.8), and
// adding or removing people. Key users are shown as their keys, never as people.
import { get, post, del } from './api.js';
import { h, clear, showOnly, initials } from './dom.js';
import { plural } from './format.js';
import { icon } from './icons.js';
import { openModal, showError, showBanner, whileBusy } from './dialogs.js';

const page = document.getElementById('group-page');
const groupId = Number(page.dataset.groupId);
const isAllUsers = page.dataset.magic === 'all-internal-users';
const loading = document.getElementById('members-loading');
const empty = document.getElementById('members-empty');
const tableWrap = document.getElementById('members-table-wrap');
const tbody = document.querySelector('#members-table tbody');
const count = document.getElementById('group-count');
const isKeyUser = (m) => m.email.endsWith('@api-key.invalid');

let members = [];

function personRow(m) {
  return h('tr', { dataset: { userId: m.user_id } },
    h('td', {}, h('div', { class: 'person-cell' },
      h('span', { class: 'avatar', 'aria-hidden': 'true' }, initials(m.common_name)),
      h('span', { class: 'cell-strong' }, m.common_name))),
    h('td', {}, m.email),
    h('td', { class: 'col-actions' }, isAllUsers ? null : h('button', {
      type: 'button', class: 'icon-button danger', title: 'Remove from group',
      'aria-label': `Remove ${m.common_name} from this group`, onclick: (e) => removeMember(m, e.currentTarget),
    }, icon('x'))));
}

function keyRow(k) {
  return h('tr', { dataset: { keyId: k.id } },
    h('td', {}, h('div', { class: 'person-cell' },
      h('span', { class: 'avatar avatar-key', 'aria-hidden': 'true' }, icon('key', 16)),
      h('span', { class: 'cell-with-badge' }, h('span', { class: 'cell-strong' }, k.name), h('span', { class: 'badge' }, 'API Key')))),
    h('td', {}),
    h('td', { class: 'col-actions' }, h('a', {
      class: 'icon-button', href: '/admin/settings/authentication/api-keys', title: 'Manage API keys', 'aria-label': 'Manage API keys',
    }, icon('link'))));
}

async function refresh() {
  try {
    const [group, keys] = await Promise.all([
      get(`/api/permissions/group/${groupId}`),
      get('/api/api-key').catch(() => []),
    ]);
    members = group.members.filter((m) => !isKeyUser(m));
    const groupKeys = keys.filter((k) => k.group && k.group.id === groupId);
    const total = members.length + groupKeys.length;
    count.textContent = groupKeys.length
      ? `${plural(members.length, 'person', 'people')} and ${plural(groupKeys.length, 'API key', 'API keys')}`
      : plural(members.length, 'member', 'members');
    clear(tbody).append(...members.map(personRow), ...groupKeys.map(keyRow));
    showOnly(total ? tableWrap : empty, loading, empty, tableWrap);
  } catch (err) {
    loading.hidden = true;
    showBanner(page, `Could not load this group: ${err.message}`);
  }
}

async function removeMember(m, button) {
  await whileBusy(button, async () => {
    try {
      await del(`/api/permissions/membership/${m.membership_id}`);
      refresh();
    } catch (err) {
      showBanner(page, err.message);
    }
  });
}

// ----- Add members -----
const dialog = document.getElementById('add-members-dialog');
const select = document.getElementById('add-member-select');
const submit = document.getElementById('add-member-submit');
select.addEventListener('change', () => { submit.disabled = !select.value; });

document.getElementById('add-members-button')?.addEventListener('click', async () => {
  clear(select).append(h('option', { value: '', disabled: true, selected: true }, 'Choose a person'));
  submit.disabled = true;
  openModal(dialog);
  try {
    const people = await get('/api/user?status=active');
    const inGroup = new Set(members.map((m) => m.user_id));
    const candidates = people.data.filter((p) => !inGroup.has(p.id));
    for (const p of candidates) select.append(h('option', { value: String(p.id) }, `${p.common_name} (${p.email})`));
    if (!candidates.length) select.append(h('option', { value: '', disabled: true }, 'Everyone is already a member'));
  } catch (err) {
    showError(dialog, err);
  }
  select.focus();
});

document.getElementById('add-members-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  if (!select.value) return;
  await whileBusy(submit, async () => {
    try {
      await post('/api/permissions/membership', { group_id: groupId, user_id: Number(select.value) });
      dialog.close();
      refresh();
    } catch (err) {
      showError(dialog, err);
    }
  });
});

refresh();
