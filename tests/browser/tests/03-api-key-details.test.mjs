// API-key screens, the details: the card's count (s87), the Expired badge (s93), errors next to
// the field (s95), sorting, expiry choices, and keyboard use of the dialogs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, assertNoPageErrors, shot, api, adminSession, group, deleteAllKeys,
  recordRequests, onlyBody, sleep,
} from '../lib/harness.mjs';

let browser;
let admin;
let page;
let seen;
let cool;

before(async () => {
  browser = await launch();
  admin = await adminSession();
  await deleteAllKeys(admin);
  cool = await group(admin, 'Cool Friends');
  page = await newPage(browser, { session: admin });
  seen = recordRequests(page);
});
after(async () => { await browser?.close(); });

const dialog = (name) => page.getByRole('dialog', { name });
const row = (name) => page.locator('#keys-table tbody tr').filter({ has: page.getByRole('cell', { name, exact: true }) });

async function createKey(body) {
  const r = await api('POST', '/api/api-key', { session: admin, body });
  assert.equal(r.status, 200, r.text);
  return r.json;
}

test('s87: the Authentication card counts keys: "1 API Key", then "3 API Keys"', async () => {
  await createKey({ name: 'beta', group_id: cool });
  await page.goto('/admin/settings/authentication');
  await page.locator('#api-key-count').getByText('1 API Key', { exact: true }).waitFor();
  await page.locator('#api-keys-card').getByRole('link', { name: 'Manage' }).waitFor();
  // Expires two seconds from now (s93 below).
  await createKey({ name: 'Alpha', group_id: 2, expires_at: new Date(Date.now() + 2000).toISOString() });
  await createKey({ name: 'gamma', group_id: 1 });
  await page.reload();
  await page.locator('#api-key-count').getByText('3 API Keys', { exact: true }).waitFor();
  assertNoPageErrors(page);
});

test('s93 + sorting: rows sorted by name case-insensitively; a key past its expiry shows the Expired badge', async () => {
  await sleep(2500);
  await page.goto('/admin/settings/authentication/api-keys');
  await row('Alpha').waitFor();
  const names = await page.locator('#keys-table tbody tr td:first-child').allTextContents();
  assert.deepEqual(names, ['Alpha', 'beta', 'gamma']);
  const expires = row('Alpha').locator('td').nth(3);
  await expires.locator('.badge-danger').getByText('Expired', { exact: true }).waitFor();
  assert.match(await expires.textContent(), /\d{4}.*Expired$/);
  assert.equal(await row('beta').locator('.badge-danger').count(), 0);
  assert.equal((await row('beta').locator('td').nth(3).textContent()).trim(), 'Never');
  await shot(page, '14-api-keys-list-expired');
  assertNoPageErrors(page);
});

test('s95: a duplicate name shows "An API key with this name already exists." under Key name', async () => {
  await page.getByRole('button', { name: 'Create API Key' }).click();
  const create = dialog('Create a new API Key');
  await create.getByLabel('Key name').fill('Alpha');
  await create.getByLabel('Which group should this key belong to?').selectOption({ label: 'Cool Friends' });
  await create.getByRole('button', { name: 'Create' }).click();
  const error = create.locator('#ck-name-error');
  await error.waitFor();
  assert.equal(await error.textContent(), 'An API key with this name already exists.');
  assert.equal(await create.getByLabel('Key name').getAttribute('aria-invalid'), 'true');
  assert.equal(await create.locator('[data-banner]').isHidden(), true, 'the message is under the field, not in a banner');
  assert.equal(await create.isVisible(), true, 'the dialog stays open');
  await shot(page, '12-api-key-create-duplicate');
  // Cancel closes it; nothing was created.
  await create.getByRole('button', { name: 'Cancel' }).click();
  await create.waitFor({ state: 'hidden' });
  assert.equal((await api('GET', '/api/api-key/count', { session: admin })).json, 3);
  assertNoPageErrors(page);
});

test('create with an expiry sends expires_at; a past date shows the API message under Expires', async () => {
  await page.getByRole('button', { name: 'Create API Key' }).click();
  const create = dialog('Create a new API Key');
  await create.getByLabel('Key name').fill('nightly export');
  await create.getByLabel('Which group should this key belong to?').selectOption({ label: 'Administrators' });
  await create.getByLabel('Expires').selectOption({ label: 'On a date…' });
  await create.getByLabel('Expiry date and time').fill('2020-01-01T10:00');
  await create.getByRole('button', { name: 'Create' }).click();
  const error = create.locator('#ck-expires-error');
  await error.waitFor();
  assert.equal(await error.textContent(), 'Expiration must be in the future.');

  await create.getByLabel('Expires').selectOption({ label: 'In 30 days' });
  seen.splice(0);
  await create.getByRole('button', { name: 'Create' }).click();
  await dialog('Copy and save the API key').waitFor();
  const body = JSON.parse(onlyBody(seen, 'POST', '/api/api-key'));
  assert.deepEqual(Object.keys(body), ['name', 'group_id', 'expires_at']);
  const days = (Date.parse(body.expires_at) - Date.now()) / 86400000;
  assert.ok(days > 29.9 && days < 30.1, `${days}`);
  await dialog('Copy and save the API key').getByRole('button', { name: 'Done' }).click();
  await row('nightly export').waitFor();

  // Edit: "Never" removes the expiry and sends expires_at: null; nothing else changed.
  await row('nightly export').getByTitle('Edit API key').click();
  const edit = dialog('Edit API Key');
  await edit.getByLabel('Expires').selectOption({ label: 'Never' });
  seen.splice(0);
  await edit.getByRole('button', { name: 'Save' }).click();
  await edit.waitFor({ state: 'hidden' });
  const put = onlyBody(seen, 'PUT', /^\/api\/api-key\/\d+$/);
  assert.equal(put, JSON.stringify({ group_id: 2, name: 'nightly export', expires_at: null }));
  await row('nightly export').locator('td').nth(3).getByText('Never', { exact: true }).waitFor();
  assertNoPageErrors(page);
});

test('dialogs work from the keyboard: labelled fields, Escape closes, focus starts in the form', async () => {
  await page.goto('/admin/settings/authentication/api-keys');
  await row('beta').waitFor();
  await page.getByRole('button', { name: 'Create API Key' }).focus();
  await page.keyboard.press('Enter');
  const create = dialog('Create a new API Key');
  await create.waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'ck-name', 'focus in Key name');
  await page.keyboard.type('Keyboard key');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'ck-group');
  // Every control of every dialog has an accessible name.
  const unlabelled = await page.evaluate(() => Array.from(document.querySelectorAll('dialog input, dialog select'))
    .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')).map((el) => el.id));
  assert.deepEqual(unlabelled, []);
  await page.keyboard.press('Escape');
  await create.waitFor({ state: 'hidden' });

  // The row actions are buttons reachable by Tab, named for their key.
  const edit = page.getByRole('button', { name: 'Edit API key beta' });
  await edit.focus();
  await page.keyboard.press('Enter');
  await dialog('Edit API Key').waitFor();
  await page.keyboard.press('Escape');
  await dialog('Edit API Key').waitFor({ state: 'hidden' });
  assertNoPageErrors(page);
});

test('the group\'s permissions: a key moved out of Administrators loses admin rights at once', async () => {
  const key = (await createKey({ name: 'mover', group_id: 2 })).unmasked_key;
  assert.equal((await api('GET', '/api/user', { key })).status, 200);
  await page.goto('/admin/settings/authentication/api-keys');
  await row('mover').getByTitle('Edit API key').click();
  const edit = dialog('Edit API Key');
  await edit.getByLabel('Which group should this key belong to?').selectOption({ label: 'Cool Friends' });
  await edit.getByRole('button', { name: 'Save' }).click();
  await row('mover').getByRole('cell', { name: 'Cool Friends' }).waitFor();
  assert.equal((await api('GET', '/api/user', { key })).status, 403);
  await deleteAllKeys(admin);
});
