// The API-key screens end to end, the way Metabase's documentation describes them: gear →
// Admin settings → Settings → Authentication → API Keys → Manage → Create API Key (api-keys.md
// §9; scenarios 87–92). The key shown once is then used against the JSON API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  ADMIN, PHONE, launch, newPage, assertNoPageErrors, shot, api, adminSession, group, deleteAllKeys,
  recordRequests, onlyBody,
} from '../lib/harness.mjs';

let browser;
let admin;
let page;
let seen;
let analysts; // the group id of scenario 89 (5 on a fresh instance)
const keys = {}; // plain-text keys shown by the secret dialog

before(async () => {
  browser = await launch();
  admin = await adminSession();
  await deleteAllKeys(admin);
  await group(admin, 'Cool Friends');
  await group(admin, 'Less Cool Friends');
  analysts = await group(admin, 'Analysts');
  assert.equal(analysts, 5, 'on the fresh instance of run.sh the third group has id 5, as in scenario 89');
  page = await newPage(browser, { session: admin });
  seen = recordRequests(page);
});
after(async () => { await browser?.close(); });

const dialog = (name) => page.getByRole('dialog', { name });
const row = (name) => page.locator('#keys-table tbody tr').filter({ has: page.getByRole('cell', { name, exact: true }) });

async function cells(name) {
  return (await row(name).locator('td').allTextContents()).map((s) => s.trim());
}

// Reads the key from the copy-once dialog, checks the dialog cannot be dismissed by Escape,
// and closes it with Done.
async function takeSecret(label) {
  const secret = dialog('Copy and save the API key');
  await secret.waitFor();
  const key = await secret.getByLabel('The API key').inputValue();
  assert.match(key, /^mb_[0-9A-Za-z]{46}$/);
  await page.keyboard.press('Escape');
  assert.equal(await secret.isVisible(), true, 'Escape does not close the secret dialog');
  keys[label] = key;
  seen.splice(0);
  await secret.getByRole('button', { name: 'Done' }).click();
  await secret.waitFor({ state: 'hidden' });
  return key;
}

test('s87/s88: gear → Admin settings → Authentication shows the API Keys card; Set up opens the empty list', async () => {
  await page.goto('/');
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByRole('menuitem', { name: 'Admin settings' }).click();
  await page.getByRole('link', { name: 'Settings', exact: true }).waitFor();
  assert.equal(await page.getByRole('link', { name: 'Settings', exact: true }).getAttribute('aria-current'), 'page');
  await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Authentication' }).click();
  const card = page.locator('#api-keys-card');
  await card.getByRole('heading', { name: 'API Keys' }).waitFor();
  assert.ok((await card.textContent()).includes('Create keys to authenticate API calls.'));
  const button = card.getByRole('link', { name: 'Set up' });
  await button.waitFor();
  assert.equal(await page.locator('#api-key-count').isHidden(), true, 'no badge without keys');
  await shot(page, '10-settings-authentication');

  await button.click();
  await page.waitForURL('**/admin/settings/authentication/api-keys');
  await page.getByRole('heading', { name: 'Manage API Keys' }).waitFor();
  const empty = page.locator('#keys-empty');
  await empty.getByRole('heading', { name: 'No API keys here yet' }).waitFor();
  assert.ok((await empty.textContent()).includes('You can create an API key to make API calls programmatically.'));
  await empty.getByRole('button', { name: 'Create API Key' }).waitFor();
  assert.equal(await page.locator('#keys-subtitle').isHidden(), true);
  await shot(page, '11-api-keys-empty');
  assertNoPageErrors(page);
});

test('s89: create "New key" in a group: exact POST body, copy-once dialog, then the row', async () => {
  await page.locator('#keys-empty').getByRole('button', { name: 'Create API Key' }).click();
  const create = dialog('Create a new API Key');
  await create.waitFor();
  const submit = create.getByRole('button', { name: 'Create' });
  assert.equal(await submit.isDisabled(), true, 'disabled until a name and a group are given');
  await create.getByLabel('Key name').fill('New key');
  assert.equal(await submit.isDisabled(), true);
  const picker = create.getByLabel('Which group should this key belong to? The key will have the same permissions granted to that group.');
  const options = (await picker.locator('option').allTextContents()).map((s) => s.trim());
  assert.deepEqual(options.slice(0, 3), ['Select a group', 'Administrators', 'All Users']);
  assert.ok(options.includes('Analysts') && options.includes('Cool Friends') && options.includes('Less Cool Friends'));
  await picker.selectOption({ label: 'Analysts' });
  assert.equal(await create.getByLabel('Expires').inputValue(), 'never');
  assert.equal(await submit.isEnabled(), true);
  await shot(page, '12-api-key-create');

  seen.splice(0);
  await submit.click();
  await dialog('Copy and save the API key').waitFor();
  assert.equal(onlyBody(seen, 'POST', '/api/api-key'), JSON.stringify({ name: 'New key', group_id: analysts }));
  const secret = dialog('Copy and save the API key');
  assert.ok((await secret.textContent()).includes("Please copy this key and save it somewhere safe. For security reasons, we can't show it to you again."));
  assert.equal(await page.locator('#secret-grace').isHidden(), true);
  await secret.getByRole('button', { name: 'Copy' }).click();
  await secret.getByText('Copied to the clipboard.').waitFor();
  await shot(page, '13-api-key-secret');
  const clip = await page.evaluate(() => navigator.clipboard.readText());
  const key = await takeSecret('first');
  assert.equal(clip, key, 'Copy puts the key on the clipboard');

  // Done refetches the list.
  await row('New key').waitFor();
  assert.ok(seen.some((r) => r.method === 'GET' && r.path === '/api/api-key'), 'Done refetches GET /api/api-key');
  const [name, grp, masked, expires, lastUsed, by, on] = await cells('New key');
  assert.deepEqual([name, grp, masked, expires, lastUsed, by], ['New key', 'Analysts', `${key.slice(0, 7)}...`, 'Never', 'Never', `${ADMIN.first} ${ADMIN.last}`]);
  assert.match(on, /\d{4}/);
  assert.equal(await page.locator('#keys-subtitle').textContent(), 'Allow users to use the API keys to authenticate their API calls.');
  await shot(page, '14-api-keys-list');
  assertNoPageErrors(page);
});

test('the key from the dialog works against the JSON API with exactly its group\'s permissions', async () => {
  const key = keys.first;
  const me = await api('GET', '/api/user/current', { key });
  assert.equal(me.status, 200, me.text);
  assert.equal(me.json.common_name, 'New key');
  assert.deepEqual(me.json.group_ids, [1, analysts]);
  assert.equal(me.json.is_superuser, false);
  const people = await api('GET', '/api/user', { key });
  assert.equal(people.status, 403, 'not an admin group');
  assert.equal(people.text, "You don't have permissions to do that.");

  // Used once: the list shows it at once (same instance), and the card counts it.
  await page.reload();
  await row('New key').waitFor();
  const lastUsed = (await cells('New key'))[4];
  assert.notEqual(lastUsed, 'Never');
  await page.goto('/admin/settings/authentication');
  await page.locator('#api-key-count').getByText('1 API Key', { exact: true }).waitFor();
  const manage = page.locator('#api-keys-card').getByRole('link', { name: 'Manage' });
  await manage.waitFor();
  await shot(page, '10-settings-authentication-with-key');
  await manage.click();
  await row('New key').waitFor();
});

test('s90: edit: Save disabled until a change; rename to "My Key" sends {"group_id":5,"name":"My Key"}; a group change moves the key', async () => {
  await row('New key').getByTitle('Edit API key').click();
  const edit = dialog('Edit API Key');
  await edit.waitFor();
  const save = edit.getByRole('button', { name: 'Save' });
  assert.equal(await save.isDisabled(), true, 'Save is disabled before any change');
  const masked = await edit.getByLabel('API Key', { exact: true }).inputValue();
  assert.equal(masked, keys.first.slice(0, 7) + '*'.repeat(42));
  assert.equal(await edit.getByLabel('API Key', { exact: true }).isDisabled(), true);
  await edit.getByLabel('Key name').fill('My Key');
  assert.equal(await save.isEnabled(), true);
  await edit.getByLabel('Which group should this key belong to?').selectOption({ label: 'Analysts' });
  await shot(page, '15-api-key-edit');
  seen.splice(0);
  await save.click();
  await edit.waitFor({ state: 'hidden' });
  await row('My Key').waitFor();
  const put = seen.filter((r) => r.method === 'PUT');
  assert.equal(put.length, 1);
  assert.match(put[0].path, /^\/api\/api-key\/\d+$/);
  assert.equal(put[0].body, JSON.stringify({ group_id: analysts, name: 'My Key' }));

  // Change the group to Administrators: the key becomes an admin key at once.
  await row('My Key').getByTitle('Edit API key').click();
  await edit.waitFor();
  await edit.getByLabel('Which group should this key belong to?').selectOption({ label: 'Administrators' });
  seen.splice(0);
  await edit.getByRole('button', { name: 'Save' }).click();
  await edit.waitFor({ state: 'hidden' });
  await row('My Key').getByRole('cell', { name: 'Administrators', exact: true }).waitFor();
  assert.equal(onlyBody(seen, 'PUT', /^\/api\/api-key\/\d+$/), JSON.stringify({ group_id: 2, name: 'My Key' }));
  const people = await api('GET', '/api/user', { key: keys.first });
  assert.equal(people.status, 200, 'the key now has the Administrators group\'s permissions');
  assertNoPageErrors(page);
});

test('s91: regenerate: {} retires the old key at once; "1 hour" sends {"grace_period_seconds":3600} and says until when', async () => {
  const edit = dialog('Edit API Key');
  const regen = dialog('Regenerate API key');
  await row('My Key').getByTitle('Edit API key').click();
  await edit.getByRole('button', { name: 'Regenerate API Key' }).click();
  await regen.waitFor();
  const text = await regen.textContent();
  assert.ok(text.includes('My Key') && text.includes('Administrators'));
  assert.ok(text.includes("ferrobase will replace the existing API key with a new key. You won't be able to recover the old key."));
  const grace = regen.getByLabel('Keep the old key working for');
  assert.deepEqual((await grace.locator('option').allTextContents()).map((s) => s.trim()),
    ['No, stop it now', '5 minutes', '1 hour', '24 hours']);
  assert.equal(await grace.inputValue(), '0');
  await shot(page, '16-api-key-regenerate');
  // "No, don't regenerate" goes back to the edit dialog.
  await regen.getByRole('button', { name: "No, don't regenerate" }).click();
  await regen.waitFor({ state: 'hidden' });
  assert.equal(await edit.isVisible(), true);

  await edit.getByRole('button', { name: 'Regenerate API Key' }).click();
  seen.splice(0);
  await regen.getByRole('button', { name: 'Regenerate', exact: true }).click();
  await dialog('Copy and save the API key').waitFor();
  assert.equal(onlyBody(seen, 'PUT', /^\/api\/api-key\/\d+\/regenerate$/), '{}');
  assert.equal(await page.locator('#secret-grace').isHidden(), true);
  const second = await takeSecret('second');
  assert.notEqual(second, keys.first);
  assert.equal((await api('GET', '/api/user/current', { key: keys.first })).status, 401, 'old key retired at once');
  assert.equal((await api('GET', '/api/user/current', { key: second })).status, 200, 'new key works');
  await row('My Key').getByRole('cell', { name: `${second.slice(0, 7)}...` }).waitFor();

  await row('My Key').getByTitle('Edit API key').click();
  await edit.getByRole('button', { name: 'Regenerate API Key' }).click();
  await regen.getByLabel('Keep the old key working for').selectOption({ label: '1 hour' });
  seen.splice(0);
  await regen.getByRole('button', { name: 'Regenerate', exact: true }).click();
  await dialog('Copy and save the API key').waitFor();
  assert.equal(onlyBody(seen, 'PUT', /^\/api\/api-key\/\d+\/regenerate$/), JSON.stringify({ grace_period_seconds: 3600 }));
  const note = await page.locator('#secret-grace').textContent();
  assert.match(note, /^The previous key keeps working until .+\d.*\.$/);
  await shot(page, '17-api-key-secret-grace');
  const third = await takeSecret('third');
  assert.equal((await api('GET', '/api/user/current', { key: second })).status, 200, 'previous key in its grace period');
  assert.equal((await api('GET', '/api/user/current', { key: third })).status, 200);
  assertNoPageErrors(page);
});

test('s92: delete via the trash icon and "Delete API Key": one DELETE, the empty state returns, the key is dead', async () => {
  await row('My Key').getByTitle('Delete API key').click();
  const remove = dialog('Delete API Key');
  await remove.waitFor();
  assert.ok((await remove.textContent()).includes("You won't be able to recover a deleted API key. You'll have to create a new key."));
  await remove.getByRole('button', { name: "No, don't delete" }).waitFor();
  await shot(page, '18-api-key-delete');
  seen.splice(0);
  await remove.getByRole('button', { name: 'Delete API Key' }).dblclick();
  await page.locator('#keys-empty').getByRole('heading', { name: 'No API keys here yet' }).waitFor();
  assert.equal(seen.filter((r) => r.method === 'DELETE').length, 1, 'exactly one DELETE');
  assert.equal((await api('GET', '/api/user/current', { key: keys.third })).status, 401);
  assert.equal((await api('GET', '/api/user/current', { key: keys.second })).status, 401, 'grace ends with the key');
  assertNoPageErrors(page);
});

test('the API-key screens at 390 px', async () => {
  const phone = await newPage(browser, { session: admin, viewport: PHONE });
  await phone.goto('/admin/settings/authentication/api-keys');
  await phone.locator('#keys-empty').waitFor();
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no horizontal page scrolling (${overflow}px)`);
  await phone.locator('#keys-empty').getByRole('button', { name: 'Create API Key' }).click();
  await phone.getByRole('dialog', { name: 'Create a new API Key' }).waitFor();
  await shot(phone, '19-api-key-create-phone');
  assertNoPageErrors(phone);
  await phone.context().close();
});
