// Settings › Authentication › API Keys (api-keys.md §9.2): the list, its empty state, and the
// dialogs of api-key-dialogs.js. Every change refetches GET /api/api-key. A restricted key
// shows the Read only and Restricted badges of key-restrictions.md §4 next to its name; the
// collections and databases the tooltip names (and the dialogs offer) come from
// GET /api/collection and GET /api/database.
import { get } from './api.js';
import { h, clear, showOnly } from './dom.js';
import { dateTime, isPast } from './format.js';
import { icon } from './icons.js';
import { showBanner } from './dialogs.js';
import { keyDialogs } from './api-key-dialogs.js';
import { catalogFrom, emptyCatalog, describe, isReadOnly } from './key-restrictions.js';

const root = document.querySelector('.admin-content');
const loading = document.getElementById('keys-loading');
const empty = document.getElementById('keys-empty');
const tableWrap = document.getElementById('keys-table-wrap');
const tbody = document.querySelector('#keys-table tbody');
const subtitle = document.getElementById('keys-subtitle');
const headerButton = document.getElementById('create-key-button');

const state = { keys: [], groups: [], catalog: emptyCatalog() };
const dialogs = keyDialogs({ groups: () => state.groups, catalog: () => state.catalog, refresh });

for (const b of document.querySelectorAll('[data-action="create-key"]')) {
  b.addEventListener('click', () => dialogs.openCreate());
}

function expiresCell(key) {
  if (!key.expires_at) return 'Never';
  return h('span', { class: 'cell-with-badge' },
    dateTime(key.expires_at),
    isPast(key.expires_at) ? h('span', { class: 'badge badge-danger' }, 'Expired') : null);
}

// The name, then a Read only badge and a Restricted badge whose tooltip lists the other
// restrictions (also read out to screen readers, which ignore title).
function nameCell(key) {
  const lines = describe(key.restrictions, state.catalog);
  if (!isReadOnly(key.restrictions) && !lines.length) return h('td', { class: 'cell-strong' }, key.name);
  return h('td', { class: 'cell-strong' }, h('span', { class: 'cell-with-badge' },
    h('span', { class: 'key-name' }, key.name),
    isReadOnly(key.restrictions)
      ? h('span', { class: 'badge badge-brand', title: 'This key can read but never change anything.' }, 'Read only')
      : null,
    lines.length
      ? h('span', { class: 'badge badge-warning', title: lines.join('\n') },
        'Restricted', h('span', { class: 'visually-hidden' }, `: ${lines.join('; ')}`))
      : null));
}

function row(key) {
  return h('tr', { dataset: { keyId: key.id } },
    nameCell(key),
    h('td', {}, key.group ? key.group.name : ''),
    h('td', {}, h('code', { class: 'key-prefix' }, `${key.masked_key.slice(0, 7)}...`)),
    h('td', { class: 'cell-nowrap' }, expiresCell(key)),
    h('td', { class: 'cell-nowrap' }, key.last_used_at ? dateTime(key.last_used_at) : 'Never'),
    h('td', {}, key.updated_by ? key.updated_by.common_name : ''),
    h('td', { class: 'cell-nowrap' }, dateTime(key.updated_at)),
    h('td', { class: 'col-actions' }, h('div', { class: 'row-actions' },
      h('button', { type: 'button', class: 'icon-button', title: 'Edit API key', 'aria-label': `Edit API key ${key.name}`, onclick: () => dialogs.openEdit(key) }, icon('pencil')),
      h('button', { type: 'button', class: 'icon-button danger', title: 'Delete API key', 'aria-label': `Delete API key ${key.name}`, onclick: () => dialogs.openDelete(key) }, icon('trash')))));
}

function render() {
  const keys = [...state.keys].sort((a, b) =>
    a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }) || a.id - b.id);
  const any = keys.length > 0;
  subtitle.hidden = !any;
  headerButton.hidden = !any;
  clear(tbody).append(...keys.map(row));
  showOnly(any ? tableWrap : empty, loading, empty, tableWrap);
}

async function refresh() {
  try {
    // The choices only name things: without them the list and dialogs still work.
    const soft = (path) => get(path).catch(() => null);
    const [keys, groups, collections, databases] = await Promise.all([
      get('/api/api-key'), get('/api/permissions/group'), soft('/api/collection'), soft('/api/database'),
    ]);
    state.keys = keys;
    state.groups = groups;
    state.catalog = catalogFrom(collections, databases);
    render();
  } catch (err) {
    loading.hidden = true;
    showBanner(root, `Could not load the API keys: ${err.message}`);
  }
}

refresh();
