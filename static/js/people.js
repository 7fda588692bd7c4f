// Admin › People: active or deactivated people, with their groups, and the actions of
// person-dialogs.js. Key users never appear here (GET /api/user leaves them out).
import { get } from './api.js';
import { h, clear, showOnly, initials } from './dom.js';
import { dateTime, plural } from './format.js';
import { icon } from './icons.js';
import { showBanner } from './dialogs.js';
import { personDialogs } from './person-dialogs.js';

const page = document.getElementById('people-page');
const status = page.dataset.status;
const viewerId = Number(page.dataset.viewerId);
const loading = document.getElementById('people-loading');
const empty = document.getElementById('people-empty');
const tableWrap = document.getElementById('people-table-wrap');
const tbody = document.querySelector('#people-table tbody');
const count = document.getElementById('people-count');

const state = { people: [], groups: [] };
const dialogs = personDialogs({
  groups: () => state.groups,
  refresh,
  passwordLength: Number(page.dataset.passwordLength) || 16,
});
document.getElementById('add-person-button').addEventListener('click', () => dialogs.openPerson(null));

function action(label, iconName, onclick, danger) {
  return h('button', { type: 'button', class: danger ? 'icon-button danger' : 'icon-button', title: label, 'aria-label': label, onclick }, icon(iconName));
}

function row(p) {
  const names = new Map(state.groups.map((g) => [g.id, g.name]));
  const chips = p.group_ids.filter((id) => id !== 1).map((id) =>
    h('span', { class: id === 2 ? 'badge badge-brand' : 'badge' }, names.get(id) || `Group ${id}`));
  const actions = status === 'deactivated'
    ? [action(`Reactivate ${p.common_name}`, 'reactivate', () => dialogs.openReactivate(p))]
    : [
      action(`Edit ${p.common_name}`, 'pencil', () => dialogs.openPerson(p)),
      p.id === viewerId ? null : action(`Reset ${p.common_name}'s password`, 'key', () => dialogs.openResetPassword(p)),
      p.id === viewerId ? null : action(`Deactivate ${p.common_name}`, 'userX', () => dialogs.openDeactivate(p), true),
    ];
  return h('tr', { dataset: { userId: p.id } },
    h('td', {}, h('div', { class: 'person-cell' },
      h('span', { class: 'avatar', 'aria-hidden': 'true' }, initials(p.common_name)),
      h('span', { class: 'cell-strong' }, p.common_name),
      p.id === viewerId ? h('span', { class: 'muted' }, '(you)') : null)),
    h('td', {}, p.email),
    h('td', {}, chips.length ? h('div', { class: 'chips' }, chips) : h('span', { class: 'muted' }, 'All Users only')),
    h('td', { class: 'cell-nowrap' }, p.last_login ? dateTime(p.last_login) : 'Never'),
    h('td', { class: 'col-actions' }, h('div', { class: 'row-actions' }, actions)));
}

async function refresh() {
  try {
    const [list, groups] = await Promise.all([
      get(`/api/user?status=${status}`),
      get('/api/permissions/group'),
    ]);
    state.people = list.data;
    state.groups = groups;
    count.textContent = plural(list.total, status === 'deactivated' ? 'deactivated person' : 'person', status === 'deactivated' ? 'deactivated people' : 'people');
    clear(tbody).append(...state.people.map(row));
    showOnly(state.people.length ? tableWrap : empty, loading, empty, tableWrap);
  } catch (err) {
    loading.hidden = true;
    showBanner(page, `Could not load people: ${err.message}`);
  }
}

refresh();
