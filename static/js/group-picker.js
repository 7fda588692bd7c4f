// The group <select> of the API-key dialogs: every group, by name, with a placeholder.
import { h, clear } from './dom.js';

export function fillGroupSelect(select, groups, selectedId) {
  clear(select);
  select.append(h('option', { value: '', disabled: true, selected: selectedId == null }, 'Select a group'));
  for (const g of groups) {
    select.append(h('option', { value: String(g.id), selected: g.id === selectedId }, g.name));
  }
  if (selectedId == null) select.value = '';
}
