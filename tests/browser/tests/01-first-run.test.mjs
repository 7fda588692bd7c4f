// First run and signing in (issue 4, item 1; spec README 3.4). Runs first, on a fresh instance.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  ADMIN, BASE, SITE_NAME, PHONE, launch, newPage, assertNoPageErrors, shot, api,
} from '../lib/harness.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('readme 3.4: before setup, the HTML of / embeds "setup-token":"<token>"', async () => {
  const props = (await api('GET', '/api/session/properties')).json;
  assert.equal(props['has-user-setup'], false, 'run.sh must start a fresh instance');
  const r = await fetch(`${BASE}/`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/html/);
  const html = await r.text();
  assert.ok(html.includes(`"setup-token":"${props['setup-token']}"`), html);
});

test('first run: / is the setup page; it checks the password and creates the first admin', async () => {
  const page = await newPage(browser);
  await page.goto('/');
  await page.getByRole('heading', { name: 'Welcome to ferrobase' }).waitFor();
  await page.getByLabel('First name').fill(ADMIN.first);
  await page.getByLabel('Last name').fill(ADMIN.last);
  await page.getByLabel('Email').fill(ADMIN.email);
  await page.getByLabel('Company or team name').fill(SITE_NAME);
  await page.getByLabel('Create a password').fill('password1');
  await page.getByLabel('Confirm your password').fill('password2');
  await shot(page, '01-setup');
  await page.getByRole('button', { name: 'Create account' }).click();
  const mismatch = page.locator('[data-error-for="password_confirm"]');
  await mismatch.waitFor();
  assert.equal(await mismatch.textContent(), 'Passwords do not match.');

  // A common password: the API's message appears under the password field.
  await page.getByLabel('Confirm your password').fill('password1');
  await page.getByRole('button', { name: 'Create account' }).click();
  const weak = page.locator('[data-error-for="user.password"]');
  await weak.waitFor();
  assert.equal(await weak.textContent(), 'password is too common.');
  assert.equal(await page.getByLabel('Create a password').getAttribute('aria-invalid'), 'true');

  await page.getByLabel('Create a password').fill(ADMIN.password);
  await page.getByLabel('Confirm your password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: `Hi, ${ADMIN.first} ${ADMIN.last}` }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/');
  await shot(page, '03-home');
  assertNoPageErrors(page);
  await page.context().close();
});

test('readme 3.4: after setup, the HTML of / embeds "setup-token":null', async () => {
  const html = await (await fetch(`${BASE}/`)).text();
  assert.ok(html.includes('"setup-token":null'), html);
  const r = await fetch(`${BASE}/setup`, { redirect: 'manual' });
  assert.equal(r.status, 303, 'the setup page is gone after setup');
});

test('sign-in: wrong credentials and throttling show clear messages; then the home page', async () => {
  const page = await newPage(browser);
  await page.goto('/');
  await page.getByRole('heading', { name: `Sign in to ${SITE_NAME}` }).waitFor();
  await shot(page, '02-sign-in');

  await page.getByLabel('Email address').fill(ADMIN.email);
  await page.getByLabel('Password').fill('not-the-password-1');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const banner = page.locator('[data-banner]');
  await banner.waitFor();
  assert.equal(await banner.textContent(), 'Wrong email or password. Please try again.');
  await shot(page, '02-sign-in-error');

  // Ten failures for one username, then the throttle answers (people-and-groups.md 2.4).
  const victim = 'throttled@example.com';
  for (let i = 0; i < 10; i += 1) {
    const r = await api('POST', '/api/session', { body: { username: victim, password: 'wrong-password-1' } });
    assert.equal(r.status, 401);
  }
  await page.getByLabel('Email address').fill(victim);
  await page.getByLabel('Password').fill('wrong-password-1');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText(/^Too many attempts! You must wait \d+ seconds before trying again\.$/).waitFor();

  await page.getByLabel('Email address').fill(ADMIN.email);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: `Hi, ${ADMIN.first} ${ADMIN.last}` }).waitFor();
  assertNoPageErrors(page);
  await page.context().close();
});

test('gear menu: Admin settings for admins, and Sign out ends the session', async () => {
  const page = await newPage(browser);
  await page.goto('/auth/login?redirect=%2Fadmin%2Fpeople');
  await page.getByLabel('Email address').fill(ADMIN.email);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'People', exact: true }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/admin/people', 'back where the sign-in started');

  await page.goto('/');
  const gear = page.getByRole('button', { name: 'Settings' });
  assert.equal(await gear.getAttribute('aria-expanded'), 'false');
  await gear.click();
  assert.equal(await gear.getAttribute('aria-expanded'), 'true');
  await page.getByRole('menuitem', { name: 'Admin settings' }).waitFor();
  await shot(page, '04-gear-menu');
  // Escape closes the menu and gives focus back to the gear.
  await page.keyboard.press('Escape');
  assert.equal(await page.locator('#gear-menu').isHidden(), true);

  // Keyboard: Enter opens the menu on its first item; Sign out ends the session.
  await gear.focus();
  await page.keyboard.press('Enter');
  await page.getByRole('menuitem', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: `Sign in to ${SITE_NAME}` }).waitFor();
  const cookies = await page.context().cookies();
  assert.equal(cookies.find((c) => c.name === 'metabase.SESSION'), undefined, 'cookie cleared');
  await page.goto('/admin/people');
  assert.equal(new URL(page.url()).pathname, '/auth/login', 'signed out: admin pages ask to sign in');
  assertNoPageErrors(page);
  await page.context().close();
});

test('sign-in page at 390 px', async () => {
  const page = await newPage(browser, { viewport: PHONE });
  await page.goto('/auth/login');
  await page.getByRole('heading', { name: `Sign in to ${SITE_NAME}` }).waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no horizontal scrolling (${overflow}px)`);
  await shot(page, '02-sign-in-phone');
  await page.context().close();
});
