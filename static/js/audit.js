// Admin › Audit log: GET /api/audit-log, newest first, 50 a page, filtered by model.
import { get } from './api.js';
import { h, clear, showOnly } from './dom.js';
import { dateTime } from './format.js';
import { showBanner } from './dialogs.js';

const LIMIT = 50;
const root = document.querySelector('.admin-content');
const loading = document.getElementById('audit-loading');
const empty = document.getElementById('audit-empty');
const tableWrap = document.getElementById('audit-table-wrap');
const tbody = document.querySelector('#audit-table tbody');
const model = document.getElementById('audit-model');
const newer = document.getElementById('audit-newer');
const older = document.getElementById('audit-older');
const range = document.getElementById('audit-range');
let offset = 0;
let names = new Map();

// A short human summary of an event's details.
function summary(e) {
  const d = e.details || {};
  const value = (v) => {
    if (v === null) return 'none';
    if (typeof v === 'object') return v.name ?? v.key_prefix ?? JSON.stringify(v);
    if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v)) return dateTime(v);
    return String(v);
  };
  const describe = (side) => Object.entries(side || {}).map(([k, v]) => `${k.replace(/_/g, ' ')}: ${value(v)}`).join(', ');
  if (d.previous || d.new) {
    const parts = [];
    if (d.previous) parts.push(`from ${describe(d.previous)}`);
    if (d.new) parts.push(`to ${describe(d.new)}`);
    if (d.grace_period_seconds) parts.push(`grace ${d.grace_period_seconds} s`);
    return parts.join(' ');
  }
  const bits = [];
  if (d.name) bits.push(d.name);
  if (d.group && d.group.name) bits.push(`group ${d.group.name}`);
  if (d.key_prefix) bits.push(`${d.key_prefix}...`);
  if (d.email) bits.push(d.email);
  if (d.group_id) bits.push(`group ${d.group_id}, user ${d.user_id}`);
  return bits.join(' · ') || `${e.model} ${e.model_id ?? ''}`.trim();
}

async function load() {
  loading.hidden = false;
  try {
    const params = new URLSearchParams({ limit: String(LIMIT), offset: String(offset) });
    if (model.value) params.set('model', model.value);
    const page = await get(`/api/audit-log?${params}`);
    clear(tbody).append(...page.data.map((e) => h('tr', {},
      h('td', { class: 'cell-nowrap' }, dateTime(e.timestamp)),
      h('td', {}, h('code', {}, e.topic)),
      h('td', {}, names.get(e.user_id) || `User ${e.user_id}`),
      h('td', {}, summary(e)))));
    showOnly(page.data.length ? tableWrap : empty, loading, empty, tableWrap);
    newer.disabled = offset === 0;
    older.disabled = offset + LIMIT >= page.total;
    range.textContent = page.total ? `${offset + 1}–${offset + page.data.length} of ${page.total}` : '';
  } catch (err) {
    loading.hidden = true;
    showBanner(root, `Could not load the audit log: ${err.message}`);
  }
}

model.addEventListener('change', () => { offset = 0; load(); });
newer.addEventListener('click', () => { offset = Math.max(0, offset - LIMIT); load(); });
older.addEventListener('click', () => { offset += LIMIT; load(); });

try {
  const people = await get('/api/user?status=all');
  names = new Map(people.data.map((p) => [p.id, p.common_name]));
} catch {
  // Names are a nicety; ids still identify the actors.
}
load();
