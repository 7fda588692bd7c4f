// Admin › People › Groups: create, rename, members, API keys in groups, remove (api-keys.md
// §9.8; scenario 94): a group's keys move to All Users when it is removed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  PHONE, launch, newPage, assertNoPageErrors, shot, api, adminSession, person, deleteAllKeys,
} from '../lib/harness.mjs';

let browser;
let admin;
let page;
let groupId;
let keyValue;

before(async () => {
  browser = await launch();
  admin = await adminSession();
  await deleteAllKeys(admin);
  await person(admin, 'linus@example.com', 'Linus', 'Torvalds');
  page = await newPage(browser, { session: admin });
});
after(async () => { await browser?.close(); });

const dialog = (name) => page.getByRole('dialog', { name });
const groupRow = (name) => page.locator('#groups-table tbody tr').filter({ has: page.getByRole('link', { name, exact: true }) });
const memberRow = (name) => page.locator('#members-table tbody tr').filter({ hasText: name });

test('create a group (duplicate names are refused under the field), then rename it', async () => {
  await page.goto('/admin/people/groups');
  await groupRow('Administrators').waitFor();
  assert.equal(await groupRow('Administrators').getByRole('button').count(), 0, 'fixed groups have no actions');
  await page.getByRole('button', { name: 'Create a group' }).click();
  const create = dialog('Create a group');
  await create.getByLabel('Group name').fill('administrators');
  await create.getByRole('button', { name: 'Create' }).click();
  const error = create.locator('#group-name-error');
  await error.waitFor();
  assert.equal(await error.textContent(), 'A group with that name already exists.');
  await create.getByLabel('Group name').fill('Data Team');
  await create.getByRole('button', { name: 'Create' }).click();
  await groupRow('Data Team').waitFor();

  await groupRow('Data Team').getByRole('button', { name: 'Rename group Data Team' }).click();
  const rename = dialog('Rename group');
  await rename.getByLabel('Group name').fill('Data Science');
  await rename.getByRole('button', { name: 'Save' }).click();
  await groupRow('Data Science').waitFor();
  groupId = Number(await groupRow('Data Science').getAttribute('data-group-id'));
  assert.ok(groupId > 2);
  assertNoPageErrors(page);
});

test('a group page: add and remove a member', async () => {
  await groupRow('Data Science').getByRole('link', { name: 'Data Science' }).click();
  await page.getByRole('heading', { name: 'Data Science' }).waitFor();
  await page.locator('#members-empty').waitFor();
  await page.getByRole('button', { name: 'Add members' }).click();
  const add = dialog('Add members');
  await add.getByLabel('Person').selectOption({ label: 'Linus Torvalds (linus@example.com)' });
  await add.getByRole('button', { name: 'Add' }).click();
  await memberRow('Linus Torvalds').waitFor();
  assert.ok((await memberRow('Linus Torvalds').textContent()).includes('linus@example.com'));
  assert.equal((await page.locator('#group-count').textContent()), '1 member');
  const members = (await api('GET', `/api/permissions/group/${groupId}`, { session: admin })).json.members;
  assert.deepEqual(members.map((m) => m.email), ['linus@example.com']);

  // Remove, then add again for the next test.
  await memberRow('Linus Torvalds').getByRole('button', { name: 'Remove Linus Torvalds from this group' }).click();
  await page.locator('#members-empty').waitFor();
  await page.getByRole('button', { name: 'Add members' }).click();
  await add.getByLabel('Person').selectOption({ label: 'Linus Torvalds (linus@example.com)' });
  await add.getByRole('button', { name: 'Add' }).click();
  await memberRow('Linus Torvalds').waitFor();
  assertNoPageErrors(page);
});

test('s94: give the group a key: "(includes 1 API key)", an API Key row without any @api-key.invalid email', async () => {
  await page.goto('/admin/settings/authentication/api-keys');
  await page.locator('#keys-empty').getByRole('button', { name: 'Create API Key' }).click();
  const create = dialog('Create a new API Key');
  await create.getByLabel('Key name').fill('Data pipeline');
  await create.getByLabel('Which group should this key belong to?').selectOption({ label: 'Data Science' });
  await create.getByRole('button', { name: 'Create' }).click();
  const secret = dialog('Copy and save the API key');
  keyValue = await secret.getByLabel('The API key').inputValue();
  await secret.getByRole('button', { name: 'Done' }).click();

  await page.goto('/admin/people/groups');
  await groupRow('Data Science').waitFor();
  const members = groupRow('Data Science').locator('td').nth(1);
  await members.getByText('(includes 1 API key)', { exact: true }).waitFor();
  assert.equal((await members.textContent()).trim(), '2(includes 1 API key)', 'Linus and the key user');
  await shot(page, '30-groups');

  await groupRow('Data Science').getByRole('link', { name: 'Data Science' }).click();
  const keyRow = page.locator('#members-table tbody tr').filter({ hasText: 'Data pipeline' });
  await keyRow.waitFor();
  assert.ok((await keyRow.textContent()).includes('API Key'));
  assert.equal((await keyRow.locator('td').nth(1).textContent()).trim(), '', 'no email');
  const link = keyRow.getByRole('link', { name: 'Manage API keys' });
  assert.equal(await link.getAttribute('title'), 'Manage API keys');
  assert.equal(await link.getAttribute('href'), '/admin/settings/authentication/api-keys');
  const html = await page.locator('#members-table').innerHTML();
  assert.ok(!html.includes('@api-key.invalid'), 'key users are shown as keys only');
  assert.equal(await page.locator('#members-table tbody tr').count(), 2);
  assert.equal(await page.locator('#group-count').textContent(), '1 person and 1 API key');
  await shot(page, '31-group');
  assertNoPageErrors(page);
});

test('s94: removing a group with a key explains the key moves to All Users; afterwards it does, and still works', async () => {
  await page.goto('/admin/people/groups');
  await groupRow('Data Science').getByRole('button', { name: 'Remove group Data Science' }).click();
  const remove = dialog('Are you sure you want to remove this group and its API key?');
  await remove.waitFor();
  assert.ok((await remove.textContent()).includes('All members of this group will lose any permissions settings they have based on this group, and its API keys will be moved to the All Users group.'));
  await shot(page, '32-group-remove');
  await remove.getByRole('button', { name: 'Remove group' }).click();
  await groupRow('Data Science').waitFor({ state: 'detached' });

  const keys = (await api('GET', '/api/api-key', { session: admin })).json;
  const key = keys.find((k) => k.name === 'Data pipeline');
  assert.deepEqual(key.group, { id: 1, name: 'All Users' });
  const me = await api('GET', '/api/user/current', { key: keyValue });
  assert.equal(me.status, 200);
  assert.deepEqual(me.json.group_ids, [1]);
  await page.goto('/admin/settings/authentication/api-keys');
  await page.locator('#keys-table tbody tr').filter({ hasText: 'Data pipeline' }).getByRole('cell', { name: 'All Users' }).waitFor();
  await deleteAllKeys(admin);
  assertNoPageErrors(page);
});

test('a group without keys: "Remove this group?"', async () => {
  const r = await api('POST', '/api/permissions/group', { session: admin, body: { name: 'Temporary' } });
  assert.equal(r.status, 200);
  await page.goto('/admin/people/groups');
  await groupRow('Temporary').getByRole('button', { name: 'Remove group Temporary' }).click();
  const remove = dialog('Remove this group?');
  await remove.waitFor();
  await remove.getByRole('button', { name: 'Remove group' }).click();
  await groupRow('Temporary').waitFor({ state: 'detached' });
  assertNoPageErrors(page);
});

test('Groups at 390 px', async () => {
  const phone = await newPage(browser, { session: admin, viewport: PHONE });
  await phone.goto('/admin/people/groups');
  await phone.locator('#groups-table tbody tr').first().waitFor();
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no horizontal page scrolling (${overflow}px)`);
  await shot(phone, '30-groups-phone');
  await phone.context().close();
});
