// Admin › People: create a person with groups (temporary password shown once), edit,
// reset password, deactivate and reactivate; and what a non-admin sees (issue 4, items 4–5).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  ADMIN, PHONE, launch, newPage, assertNoPageErrors, shot, api, adminSession, group, signIn,
  recordRequests, onlyBody,
} from '../lib/harness.mjs';

let browser;
let admin;
let page;
let seen;
let cool;
let tempPassword;

before(async () => {
  browser = await launch();
  admin = await adminSession();
  cool = await group(admin, 'Cool Friends');
  page = await newPage(browser, { session: admin });
  seen = recordRequests(page);
});
after(async () => { await browser?.close(); });

const dialog = (name) => page.getByRole('dialog', { name });
const row = (email) => page.locator('#people-table tbody tr').filter({ has: page.getByRole('cell', { name: email, exact: true }) });

test('create a person with groups: the temporary password is shown once and works', async () => {
  await page.goto('/admin/people');
  await row(ADMIN.email).waitFor();
  assert.ok((await row(ADMIN.email).textContent()).includes('(you)'));
  await page.getByRole('button', { name: 'Add person' }).click();
  const add = dialog('Add person');
  await add.getByLabel('First name').fill('Grace');
  await add.getByLabel('Last name').fill('Hopper');
  await add.getByLabel('Email').fill('grace@example.com');
  assert.equal(await add.getByLabel('All Users', { exact: true }).isChecked(), true);
  assert.equal(await add.getByLabel('All Users', { exact: true }).isDisabled(), true, 'everyone is in All Users');
  await add.getByLabel('Cool Friends', { exact: true }).check();
  await shot(page, '20-person-create');
  seen.splice(0);
  await add.getByRole('button', { name: 'Create' }).click();

  const shown = dialog('Grace Hopper has been added');
  await shown.waitFor();
  const body = JSON.parse(onlyBody(seen, 'POST', '/api/user'));
  assert.deepEqual(body.user_group_memberships, [{ id: 1 }, { id: cool }]);
  assert.equal(body.email, 'grace@example.com');
  tempPassword = await shown.getByLabel('Temporary password').inputValue();
  assert.equal(body.password, tempPassword);
  assert.ok(tempPassword.length >= 16);
  assert.ok((await shown.textContent()).includes('Tell Grace Hopper to sign in with grace@example.com and this temporary password.'));
  await shot(page, '21-person-password');
  await page.keyboard.press('Escape');
  assert.equal(await shown.isVisible(), true, 'only Done closes it');
  await shown.getByRole('button', { name: 'Done' }).click();

  await row('grace@example.com').waitFor();
  const text = await row('grace@example.com').textContent();
  assert.ok(text.includes('Grace Hopper') && text.includes('Cool Friends') && text.includes('Never'));
  await signIn('grace@example.com', tempPassword);
  await page.reload();
  await row('grace@example.com').waitFor();
  await shot(page, '22-people');
  assertNoPageErrors(page);
});

test('errors show next to the field: an email already in use', async () => {
  await page.getByRole('button', { name: 'Add person' }).click();
  const add = dialog('Add person');
  await add.getByLabel('Email').fill('GRACE@example.com');
  await add.getByRole('button', { name: 'Create' }).click();
  const error = add.locator('#person-email-error');
  await error.waitFor();
  assert.equal(await error.textContent(), 'Email address already in use.');
  await add.getByRole('button', { name: 'Cancel' }).click();
  assertNoPageErrors(page);
});

test('edit a person: name and groups (PUT keeps All Users in the list)', async () => {
  await row('grace@example.com').getByRole('button', { name: 'Edit Grace Hopper' }).click();
  const edit = dialog('Edit Grace Hopper');
  assert.equal(await edit.getByLabel('Cool Friends', { exact: true }).isChecked(), true);
  await edit.getByLabel('First name').fill('Amazing Grace');
  await edit.getByLabel('Cool Friends', { exact: true }).uncheck();
  await edit.getByLabel('Administrators', { exact: true }).check();
  seen.splice(0);
  await edit.getByRole('button', { name: 'Save' }).click();
  await edit.waitFor({ state: 'hidden' });
  const body = JSON.parse(onlyBody(seen, 'PUT', /^\/api\/user\/\d+$/));
  assert.deepEqual(body, { first_name: 'Amazing Grace', last_name: 'Hopper', email: 'grace@example.com', user_group_memberships: [{ id: 1 }, { id: 2 }] });
  await row('grace@example.com').getByText('Amazing Grace Hopper').waitFor();
  const u = (await api('GET', '/api/user/current', { session: await signIn('grace@example.com', tempPassword) })).json;
  assert.equal(u.is_superuser, true, 'Administrators membership makes a superuser');
  assertNoPageErrors(page);
});

test('reset a password: confirmation, then a new temporary password; the old one stops working', async () => {
  await row('grace@example.com').getByRole('button', { name: "Reset Amazing Grace Hopper's password" }).click();
  const confirm = dialog("Reset Amazing Grace Hopper's password?");
  await confirm.waitFor();
  await confirm.getByRole('button', { name: 'Reset password' }).click();
  const shown = dialog("Amazing Grace Hopper's password was reset");
  await shown.waitFor();
  const fresh = await shown.getByLabel('Temporary password').inputValue();
  assert.notEqual(fresh, tempPassword);
  await shown.getByRole('button', { name: 'Done' }).click();
  const old = await api('POST', '/api/session', { body: { username: 'grace@example.com', password: tempPassword } });
  assert.equal(old.status, 401);
  tempPassword = fresh;
  await signIn('grace@example.com', fresh);
  assertNoPageErrors(page);
});

test('deactivate, find in Deactivated, reactivate (comes back without admin rights)', async () => {
  await row('grace@example.com').getByRole('button', { name: 'Deactivate Amazing Grace Hopper' }).click();
  const confirm = dialog('Deactivate Amazing Grace Hopper?');
  await confirm.waitFor();
  await shot(page, '23-person-deactivate');
  await confirm.getByRole('button', { name: 'Deactivate' }).click();
  await row('grace@example.com').waitFor({ state: 'detached' });
  const login = await api('POST', '/api/session', { body: { username: 'grace@example.com', password: tempPassword } });
  assert.equal(login.status, 401);
  assert.deepEqual(login.json, { errors: { _error: 'Your account is disabled.' } });

  await page.getByRole('link', { name: 'Deactivated' }).click();
  await page.waitForURL('**/admin/people?status=deactivated');
  await row('grace@example.com').waitFor();
  await shot(page, '24-people-deactivated');
  await row('grace@example.com').getByRole('button', { name: 'Reactivate Amazing Grace Hopper' }).click();
  await dialog('Reactivate Amazing Grace Hopper?').getByRole('button', { name: 'Reactivate' }).click();
  await page.locator('#people-empty').waitFor();
  const u = (await api('GET', '/api/user/current', { session: await signIn('grace@example.com', tempPassword) })).json;
  assert.equal(u.is_superuser, false);
  assertNoPageErrors(page);
});

test('the last admin cannot be demoted: the API message appears in the dialog', async () => {
  await page.goto('/admin/people');
  await row(ADMIN.email).getByRole('button', { name: `Edit ${ADMIN.first} ${ADMIN.last}` }).click();
  const edit = dialog(`Edit ${ADMIN.first} ${ADMIN.last}`);
  await edit.getByLabel('Administrators', { exact: true }).uncheck();
  await edit.getByRole('button', { name: 'Save' }).click();
  const banner = edit.locator('[data-banner]');
  await banner.waitFor();
  assert.equal(await banner.textContent(), "You cannot remove the last member of the 'Admin' group!");
  await edit.getByRole('button', { name: 'Cancel' }).click();
  assertNoPageErrors(page);
});

test('a non-admin: no Admin settings in the gear menu, and a 403 page on admin URLs', async () => {
  const alice = await signIn('grace@example.com', tempPassword);
  const p = await newPage(browser, { session: alice });
  await p.goto('/');
  await p.getByRole('heading', { name: 'Hi, Amazing Grace Hopper' }).waitFor();
  await p.getByRole('button', { name: 'Settings' }).click();
  await p.getByRole('menuitem', { name: 'Sign out' }).waitFor();
  assert.equal(await p.getByRole('menuitem', { name: 'Admin settings' }).count(), 0);
  await shot(p, '25-non-admin-home');
  for (const path of ['/admin/settings/authentication/api-keys', '/admin/people', '/admin/people/groups']) {
    const r = await p.goto(path);
    assert.equal(r.status(), 403, path);
    await p.getByRole('heading', { name: "Sorry, you don't have permission to see that." }).waitFor();
  }
  await shot(p, '26-forbidden');
  assertNoPageErrors(p);
  await p.context().close();
});

test('People at 390 px', async () => {
  const phone = await newPage(browser, { session: admin, viewport: PHONE });
  await phone.goto('/admin/people');
  await phone.locator('#people-table tbody tr').first().waitFor();
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no horizontal page scrolling (${overflow}px)`);
  await shot(phone, '22-people-phone');
  await phone.context().close();
});
