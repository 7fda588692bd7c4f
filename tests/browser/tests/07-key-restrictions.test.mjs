// Key restrictions in the admin UI (key-restrictions.md §4, scenario 28): the restriction fields
// of the create and edit dialogs, the exact `restrictions` they send, the Read only and
// Restricted badges of the list, the stored values shown again on edit, and the API's message
// under the Allowed IP addresses field. The key shown once is then used against the JSON API
// from this machine (127.0.0.1) to see the restrictions hold.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  PHONE, launch, newPage, assertNoPageErrors, shot, api, adminSession, group, deleteAllKeys,
  recordRequests, onlyBody,
} from '../lib/harness.mjs';

let browser;
let admin;
let page;
let seen;
let analysts;
let sales; // collection ids
let emea;
let key; // the plain-text key shown once
let keyId;

const IPS_MESSAGE = 'allowed_ips must be an array of IP addresses or CIDR blocks.';
const GROUP_LABEL = 'Which group should this key belong to? The key will have the same permissions granted to that group.';

// A collection with this name under `parentId` (created when missing); returns its id.
async function collection(name, parentId) {
  const list = (await api('GET', '/api/collection', { session: admin })).json;
  const found = list.find((c) => c.name === name && (c.parent_id ?? null) === (parentId ?? null));
  if (found) return found.id;
  const body = parentId ? { name, parent_id: parentId } : { name };
  const r = await api('POST', '/api/collection', { session: admin, body });
  assert.equal(r.status, 200, r.text);
  return r.json.id;
}

before(async () => {
  browser = await launch();
  admin = await adminSession();
  await deleteAllKeys(admin);
  analysts = await group(admin, 'Analysts');
  sales = await collection('Sales', null);
  emea = await collection('EMEA', sales);
  page = await newPage(browser, { session: admin });
  seen = recordRequests(page);
});
after(async () => { await browser?.close(); });

const dialog = (name) => page.getByRole('dialog', { name });
const row = (name) => page.locator('#keys-table tbody tr').filter({ has: page.locator('.key-name', { hasText: name }) });
const plainRow = (name) => page.locator('#keys-table tbody tr').filter({ has: page.getByRole('cell', { name, exact: true }) });

async function storedRestrictions() {
  const keys = (await api('GET', '/api/api-key', { session: admin })).json;
  return keys.find((k) => k.id === keyId).restrictions;
}

test('s28: the create dialog offers the restriction fields with their defaults, below the group', async () => {
  await page.goto('/admin/settings/authentication/api-keys');
  await page.locator('#keys-empty').getByRole('button', { name: 'Create API Key' }).click();
  const create = dialog('Create a new API Key');
  await create.waitFor();

  // Order: the group field, then the restrictions, then Expires.
  const labels = (await create.locator('label').allTextContents()).map((s) => s.trim()).filter(Boolean);
  const at = (l) => labels.indexOf(l);
  for (const l of ['Access', 'Collections', 'Databases', 'Allowed IP addresses', 'Rate limit']) {
    assert.ok(at(l) > at(GROUP_LABEL) && at(l) < at('Expires'), `${l} sits between the group and Expires: ${labels}`);
  }
  const access = create.getByLabel('Access', { exact: true });
  assert.deepEqual((await access.locator('option').allTextContents()).map((s) => s.trim()), ['Read and write', 'Read only']);
  assert.equal(await access.inputValue(), 'read-write');
  const collections = create.getByLabel('Collections', { exact: true });
  assert.equal(await collections.locator('option:checked').textContent(), 'All collections the group can see');
  const databases = create.getByLabel('Databases', { exact: true });
  assert.equal(await databases.locator('option:checked').textContent(), 'All databases the group can query');
  assert.equal(await create.getByLabel('Allowed IP addresses').inputValue(), '');
  const rate = create.getByLabel('Rate limit', { exact: true });
  assert.equal(await rate.locator('option:checked').textContent(), 'None');
  assert.equal(await create.getByRole('group', { name: 'Collections the key may use' }).isHidden(), true);
  assert.equal(await create.getByLabel('Rate limit: requests').isHidden(), true);

  // "Only the collections chosen below" lists them by path; the root collection means its own items.
  await collections.selectOption('some');
  const choices = create.getByRole('group', { name: 'Collections the key may use' });
  await choices.waitFor();
  const names = (await choices.locator('label').allTextContents()).map((s) => s.trim());
  assert.equal(names[0], 'Our analytics (its own items only)');
  assert.ok(names.includes('Sales') && names.includes('Sales / EMEA'), names.join(' | '));
  await databases.selectOption('some');
  await create.getByRole('group', { name: 'Databases the key may use' }).getByLabel('Sample Database').waitFor();
  await rate.selectOption('limit');
  assert.equal(await create.getByLabel('Rate limit: requests').inputValue(), '100');
  assert.equal(await create.getByLabel('Rate limit: per seconds').inputValue(), '60');
  // Back to the defaults: nothing of it is sent.
  await collections.selectOption('all');
  await databases.selectOption('all');
  await rate.selectOption('none');
  assertNoPageErrors(page);
});

test('s28: create with Read only and two allowed addresses sends exactly those restrictions', async () => {
  const create = dialog('Create a new API Key');
  await create.getByLabel('Key name').fill('Assistant');
  await create.getByLabel(GROUP_LABEL).selectOption({ label: 'Analysts' });
  await create.getByLabel('Access', { exact: true }).selectOption({ label: 'Read only' });
  await create.getByLabel('Allowed IP addresses').fill('10.0.0.0/8\n  192.168.1.7 \n');
  await shot(page, '50-api-key-create-restricted');
  seen.splice(0);
  await create.getByRole('button', { name: 'Create' }).click();
  const secret = dialog('Copy and save the API key');
  await secret.waitFor();
  assert.equal(onlyBody(seen, 'POST', '/api/api-key'), JSON.stringify({
    name: 'Assistant', group_id: analysts,
    restrictions: { access: 'read-only', allowed_ips: ['10.0.0.0/8', '192.168.1.7'] },
  }));
  key = await secret.getByLabel('The API key').inputValue();
  await secret.getByRole('button', { name: 'Done' }).click();
  await secret.waitFor({ state: 'hidden' });
  keyId = (await api('GET', '/api/api-key', { session: admin })).json.find((k) => k.name === 'Assistant').id;
  assert.deepEqual(await storedRestrictions(), { access: 'read-only', allowed_ips: ['10.0.0.0/8', '192.168.1.7'] });
  // This machine (127.0.0.1) is not among the addresses: the key fails authentication.
  assert.equal((await api('GET', '/api/user/current', { key })).status, 401);
  assertNoPageErrors(page);
});

test('s28: the list shows the Read only and Restricted badges next to the name; the tooltip lists the restrictions', async () => {
  await row('Assistant').waitFor();
  const nameCell = row('Assistant').locator('td').first();
  const readOnly = nameCell.locator('.badge', { hasText: 'Read only' });
  const restricted = nameCell.locator('.badge', { hasText: 'Restricted' });
  await readOnly.waitFor();
  await restricted.waitFor();
  assert.equal(await restricted.getAttribute('title'), 'IP addresses: 10.0.0.0/8, 192.168.1.7');
  assert.equal(await readOnly.getAttribute('title'), 'This key can read but never change anything.');
  assert.equal((await row('Assistant').locator('td').nth(1).textContent()).trim(), 'Analysts');
  // An unrestricted key shows neither badge.
  const plain = await api('POST', '/api/api-key', { session: admin, body: { name: 'Plain', group_id: analysts } });
  assert.equal(plain.status, 200, plain.text);
  await page.reload();
  await plainRow('Plain').waitFor();
  assert.equal(await plainRow('Plain').locator('.badge').count(), 0);
  await restricted.hover();
  await shot(page, '51-api-keys-list-restricted');
  assertNoPageErrors(page);
});

test('s28: the edit dialog shows the stored values; Save stays disabled until one changes', async () => {
  await row('Assistant').getByTitle('Edit API key').click();
  const edit = dialog('Edit API Key');
  await edit.waitFor();
  assert.equal(await edit.getByLabel('Access', { exact: true }).inputValue(), 'read-only');
  assert.equal(await edit.getByLabel('Allowed IP addresses').inputValue(), '10.0.0.0/8\n192.168.1.7');
  assert.equal(await edit.getByLabel('Collections', { exact: true }).inputValue(), 'all');
  assert.equal(await edit.getByLabel('Databases', { exact: true }).inputValue(), 'all');
  assert.equal(await edit.getByLabel('Rate limit', { exact: true }).inputValue(), 'none');
  const save = edit.getByRole('button', { name: 'Save' });
  assert.equal(await save.isDisabled(), true);
  await shot(page, '52-api-key-edit-restricted');
  assertNoPageErrors(page);
});

test('s28: an invalid address shows the API\'s message under the field and changes nothing', async () => {
  const edit = dialog('Edit API Key');
  const ips = edit.getByLabel('Allowed IP addresses');
  await ips.fill('10.0.0.0/8\n192.168.1.7\n10.0.0.300');
  const save = edit.getByRole('button', { name: 'Save' });
  assert.equal(await save.isEnabled(), true);
  seen.splice(0);
  await save.click();
  const error = edit.locator('[data-error-for="restrictions.allowed_ips"]');
  await error.waitFor();
  assert.equal(await error.textContent(), IPS_MESSAGE);
  assert.equal(await ips.getAttribute('aria-invalid'), 'true');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'ek-ips', 'focus moves to the field to fix');
  assert.equal(await edit.locator('[data-banner]').isHidden(), true, 'no banner: the message is under its field');
  assert.equal(await edit.isVisible(), true, 'the dialog stays open');
  const body = JSON.parse(onlyBody(seen, 'PUT', `/api/api-key/${keyId}`));
  assert.deepEqual(body.restrictions.allowed_ips, ['10.0.0.0/8', '192.168.1.7', '10.0.0.300']);
  await error.scrollIntoViewIfNeeded();
  await shot(page, '53-api-key-restriction-error');
  assert.deepEqual(await storedRestrictions(), { access: 'read-only', allowed_ips: ['10.0.0.0/8', '192.168.1.7'] });
  assertNoPageErrors(page);
});

test('editing the restrictions: collections by path, a rate limit and this machine\'s address, sent whole', async () => {
  const edit = dialog('Edit API Key');
  await edit.getByLabel('Allowed IP addresses').fill('10.0.0.0/8\n127.0.0.1');
  assert.equal(await edit.locator('[data-error-for="restrictions.allowed_ips"]').isHidden(), true, 'editing the field clears its message');
  assert.equal(await edit.getByLabel('Allowed IP addresses').getAttribute('aria-invalid'), null);
  await edit.getByLabel('Collections', { exact: true }).selectOption('some');
  await edit.getByRole('group', { name: 'Collections the key may use' }).getByLabel('Sales / EMEA').check();
  await edit.getByLabel('Rate limit', { exact: true }).selectOption('limit');
  await edit.getByLabel('Rate limit: requests').fill('50');
  await edit.getByLabel('Rate limit: per seconds').fill('10');
  await edit.getByLabel('Rate limit: per seconds').scrollIntoViewIfNeeded();
  await shot(page, '54-api-key-edit-collections');
  seen.splice(0);
  await edit.getByRole('button', { name: 'Save' }).click();
  await edit.waitFor({ state: 'hidden' });
  const expected = {
    access: 'read-only', collections: [emea], allowed_ips: ['10.0.0.0/8', '127.0.0.1'],
    rate_limit: { requests: 50, per_seconds: 10 },
  };
  assert.equal(onlyBody(seen, 'PUT', `/api/api-key/${keyId}`), JSON.stringify({ group_id: analysts, name: 'Assistant', restrictions: expected }));
  assert.deepEqual(await storedRestrictions(), expected);
  const restricted = row('Assistant').locator('.badge', { hasText: 'Restricted' });
  await page.waitForFunction(() => document.querySelector('.badge-warning')?.title.includes('Sales / EMEA'));
  assert.equal(await restricted.getAttribute('title'),
    'Collections: Sales / EMEA\nIP addresses: 10.0.0.0/8, 127.0.0.1\nRate limit: 50 requests per 10 seconds');

  // From this machine the key now authenticates, and is read-only.
  const me = await api('GET', '/api/user/current', { key });
  assert.equal(me.status, 200, me.text);
  const write = await api('POST', '/api/collection', { key, body: { name: 'Nope' } });
  assert.equal(write.status, 403);
  assert.equal(write.text, 'This API key is read-only.');

  // A rename alone sends no restrictions; the edit dialog shows the chosen collection checked.
  await row('Assistant').getByTitle('Edit API key').click();
  await edit.waitFor();
  assert.equal(await edit.getByLabel('Collections', { exact: true }).inputValue(), 'some');
  const choices = edit.getByRole('group', { name: 'Collections the key may use' });
  assert.equal(await choices.getByLabel('Sales / EMEA').isChecked(), true);
  assert.equal(await choices.getByLabel('Sales', { exact: true }).isChecked(), false);
  assert.equal(await edit.getByLabel('Rate limit: requests').inputValue(), '50');
  await edit.getByLabel('Key name').fill('Assistant 2');
  seen.splice(0);
  await edit.getByRole('button', { name: 'Save' }).click();
  await edit.waitFor({ state: 'hidden' });
  assert.equal(onlyBody(seen, 'PUT', `/api/api-key/${keyId}`), JSON.stringify({ group_id: analysts, name: 'Assistant 2' }));
  await row('Assistant 2').waitFor();
  assert.deepEqual(await storedRestrictions(), expected);
  assertNoPageErrors(page);
});

test('every field back to its default sends "restrictions": null and the badges go', async () => {
  const edit = dialog('Edit API Key');
  await row('Assistant 2').getByTitle('Edit API key').click();
  await edit.waitFor();
  await edit.getByLabel('Access', { exact: true }).selectOption('read-write');
  await edit.getByLabel('Collections', { exact: true }).selectOption('all');
  await edit.getByLabel('Allowed IP addresses').fill('');
  await edit.getByLabel('Rate limit', { exact: true }).selectOption('none');
  seen.splice(0);
  await edit.getByRole('button', { name: 'Save' }).click();
  await edit.waitFor({ state: 'hidden' });
  assert.equal(onlyBody(seen, 'PUT', `/api/api-key/${keyId}`), JSON.stringify({ group_id: analysts, name: 'Assistant 2', restrictions: null }));
  await plainRow('Assistant 2').waitFor();
  assert.equal(await plainRow('Assistant 2').locator('.badge').count(), 0);
  assert.equal(await storedRestrictions(), null);
  assertNoPageErrors(page);
});

test('the restriction fields at 390 px', async () => {
  const phone = await newPage(browser, { session: admin, viewport: PHONE });
  await phone.goto('/admin/settings/authentication/api-keys');
  await phone.locator('#keys-table tbody tr').first().waitFor();
  await phone.locator('#create-key-button').click();
  const create = phone.getByRole('dialog', { name: 'Create a new API Key' });
  await create.waitFor();
  await create.getByLabel('Rate limit', { exact: true }).selectOption('limit');
  await create.getByLabel('Rate limit: per seconds').scrollIntoViewIfNeeded();
  const overflow = await create.evaluate((d) => d.scrollWidth - d.clientWidth);
  assert.ok(overflow <= 0, `no horizontal scrolling in the dialog (${overflow}px)`);
  await shot(phone, '55-api-key-create-restricted-phone');
  assertNoPageErrors(phone);
  await phone.context().close();
});
