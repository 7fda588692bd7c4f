// Key restrictions in the UI (key-restrictions.md §4): the restriction fields of the create and
// edit dialogs (markup in templates/admin/key_restriction_fields.html), the one-line-per-member
// description of the list page's tooltip, and where a 400's `errors.restrictions` goes. The
// server validates and canonicalises; this module only turns fields into the API's object and
// back.
import { h, clear } from './dom.js';

const ROOT_NAME = 'Our analytics';

// The choices of the Collections and Databases lists, from GET /api/collection and
// GET /api/database: [{value, label}], collections by path ("Sales / EMEA"), root first.
export function catalogFrom(collections, databases) {
  const colls = Array.isArray(collections) ? collections : [];
  const byId = new Map(colls.filter((c) => typeof c.id === 'number').map((c) => [c.id, c]));
  const rootEntry = colls.find((c) => c.id === 'root');
  const path = (c) => String(c.location || '/').split('/').filter(Boolean)
    .map((id) => byId.get(Number(id))?.name ?? `#${id}`)
    .concat(c.name)
    .join(' / ');
  const collectionChoices = [...byId.values()]
    .filter((c) => !c.archived)
    .map((c) => ({ value: c.id, label: path(c) }))
    .sort((a, b) => a.label.localeCompare(b.label, undefined, { sensitivity: 'base' }) || a.value - b.value);
  const dbs = Array.isArray(databases) ? databases : (databases && Array.isArray(databases.data) ? databases.data : []);
  const databaseChoices = dbs
    .filter((d) => typeof d.id === 'number' && d.id > 0)
    .map((d) => ({ value: d.id, label: d.name }))
    .sort((a, b) => a.label.localeCompare(b.label, undefined, { sensitivity: 'base' }) || a.value - b.value);
  const rootName = rootEntry ? rootEntry.name : ROOT_NAME;
  return {
    collections: [{ value: 'root', label: `${rootName} (its own items only)` }, ...collectionChoices],
    databases: databaseChoices,
    rootName,
  };
}

export const emptyCatalog = () => catalogFrom([], []);

// Stored ids come back as numbers, "root" as a string; ids the catalog does not know (a deleted
// collection, §2.2) keep a label so that saving keeps them.
function labelOf(choices, value, noun) {
  const found = choices.find((c) => c.value === value);
  return found ? found.label : `${noun} ${value} (not found)`;
}

const sortIds = (values) => [...values].sort((a, b) => {
  if (a === b) return 0;
  if (a === 'root') return -1;
  if (b === 'root') return 1;
  return a - b;
});

// The lines of the Restricted badge's tooltip: every member except access (the Read only badge
// shows that), in the API's member order.
export function describe(restrictions, catalog) {
  const r = restrictions || {};
  const lines = [];
  const names = (values, choices, noun) => values.map((v) => (v === 'root' ? catalog.rootName : labelOf(choices, v, noun)));
  if (Array.isArray(r.collections)) {
    lines.push(r.collections.length
      ? `Collections: ${names(r.collections, catalog.collections, 'Collection').join(', ')}`
      : 'Collections: none');
  }
  if (Array.isArray(r.databases)) {
    lines.push(r.databases.length
      ? `Databases: ${names(r.databases, catalog.databases, 'Database').join(', ')}`
      : 'Databases: none');
  }
  if (Array.isArray(r.allowed_ips)) {
    lines.push(r.allowed_ips.length ? `IP addresses: ${r.allowed_ips.join(', ')}` : 'IP addresses: none');
  }
  if (r.rate_limit) {
    const { requests, per_seconds: seconds } = r.rate_limit;
    lines.push(`Rate limit: ${requests} ${requests === 1 ? 'request' : 'requests'} per ${seconds} ${seconds === 1 ? 'second' : 'seconds'}`);
  }
  return lines;
}

export const isReadOnly = (restrictions) => Boolean(restrictions && restrictions.access === 'read-only');

// Every 400 about restrictions is keyed `restrictions`; the message names its member
// ("allowed_ips must be …"), so it is shown under that member's field. Others (an unknown
// member, too many entries) go under the fieldset.
const MEMBERS = ['access', 'collections', 'databases', 'allowed_ips', 'rate_limit'];
export function restrictionErrorField(field, message) {
  if (field !== 'restrictions') return field;
  const member = MEMBERS.find((m) => String(message).startsWith(`${m} `));
  return member ? `restrictions.${member}` : field;
}

// The fields of one dialog. `fill(restrictions, catalog)` shows a key's stored value (null for
// a new key); `read()` gives the API's object, or null when nothing is restricted.
export function restrictionFields(fieldset) {
  const control = (member) => fieldset.querySelector(`[data-restriction="${member}"]`);
  const access = control('access');
  const ips = control('allowed_ips');
  const rate = control('rate_limit');
  const rateValues = rate.parentElement.querySelector('.rate-limit-values');
  const [requests, seconds] = rateValues.querySelectorAll('input');
  const choiceLists = {
    collections: { mode: control('collections'), list: fieldset.querySelector('[data-choices="collections"]'), noun: 'Collection' },
    databases: { mode: control('databases'), list: fieldset.querySelector('[data-choices="databases"]'), noun: 'Database' },
  };

  const sync = () => {
    for (const { mode, list } of Object.values(choiceLists)) list.hidden = mode.value !== 'some';
    rateValues.hidden = rate.value !== 'limit';
  };
  for (const { mode } of Object.values(choiceLists)) mode.addEventListener('change', sync);
  rate.addEventListener('change', sync);

  // A message from the last save goes once its field is edited (the others stay until the
  // next save, which shows the server's verdict again).
  const forget = (event) => {
    const field = event.target.closest('.field');
    if (!field || field === fieldset) return;
    for (const el of field.querySelectorAll('[data-error-for]')) { el.textContent = ''; el.hidden = true; }
    for (const el of field.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  };
  fieldset.addEventListener('input', forget);
  fieldset.addEventListener('change', forget);

  function fillChoices(member, stored, choices) {
    const { mode, list, noun } = choiceLists[member];
    const chosen = new Set(stored || []);
    const all = [...choices];
    for (const value of chosen) {
      if (!all.some((c) => c.value === value)) all.push({ value, label: labelOf(choices, value, noun) });
    }
    clear(list);
    if (!all.length) list.append(h('p', { class: 'hint' }, `No ${member} yet.`));
    for (const [i, c] of all.entries()) {
      const id = `${mode.id}-${i}`;
      list.append(h('label', { for: id },
        h('input', { type: 'checkbox', id, value: String(c.value), checked: chosen.has(c.value) }),
        c.label));
    }
    mode.value = stored ? 'some' : 'all';
  }

  function checked(member) {
    const values = [...choiceLists[member].list.querySelectorAll('input:checked')]
      .map((el) => (el.value === 'root' ? 'root' : Number(el.value)));
    return sortIds(values);
  }

  // An empty number field is sent as null: the API's message then says what is expected.
  const number = (input) => (input.value.trim() === '' ? null : Number(input.value));

  return {
    fill(restrictions, catalog) {
      const r = restrictions || {};
      access.value = r.access === 'read-only' ? 'read-only' : 'read-write';
      fillChoices('collections', r.collections, catalog.collections);
      fillChoices('databases', r.databases, catalog.databases);
      ips.value = (r.allowed_ips || []).join('\n');
      rate.value = r.rate_limit ? 'limit' : 'none';
      requests.value = String(r.rate_limit ? r.rate_limit.requests : 100);
      seconds.value = String(r.rate_limit ? r.rate_limit.per_seconds : 60);
      sync();
    },
    read() {
      const out = {};
      if (access.value === 'read-only') out.access = 'read-only';
      if (choiceLists.collections.mode.value === 'some') out.collections = checked('collections');
      if (choiceLists.databases.mode.value === 'some') out.databases = checked('databases');
      const lines = ips.value.split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
      if (lines.length) out.allowed_ips = lines;
      if (rate.value === 'limit') out.rate_limit = { requests: number(requests), per_seconds: number(seconds) };
      return Object.keys(out).length ? out : null;
    },
  };
}
