// Security of the UI (issue 4, item 5): headers on every page, the anti-CSRF guard seen from a
// browser, cross-site forgery attempts, the 404 page, and the audit log screen.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE, launch, newPage, assertNoPageErrors, shot, api, adminSession,
} from '../lib/harness.mjs';

let browser;
let admin;

before(async () => {
  browser = await launch();
  admin = await adminSession();
});
after(async () => { await browser?.close(); });

const PAGES = ['/', '/auth/login', '/admin/settings/general', '/admin/settings/authentication',
  '/admin/settings/authentication/api-keys', '/admin/people', '/admin/people/groups',
  '/admin/people/groups/1', '/admin/audit', '/no-such-page'];

test('every UI page carries CSP without inline scripts, frame-ancestors none, nosniff, same-origin referrers', async () => {
  for (const path of PAGES) {
    const r = await fetch(BASE + path, { headers: { Cookie: `metabase.SESSION=${admin}` }, redirect: 'manual' });
    const csp = r.headers.get('content-security-policy') || '';
    assert.match(csp, /script-src 'self'(;|$)/, path);
    assert.match(csp, /frame-ancestors 'none'/, path);
    assert.ok(!csp.includes('unsafe-inline') && !csp.includes('unsafe-eval'), path);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff', path);
    assert.equal(r.headers.get('referrer-policy'), 'same-origin', path);
    const html = await r.text();
    assert.ok(!/<script(?![^>]*\b(src=|type="application\/json"))/.test(html), `no inline script on ${path}`);
  }
});

test('the pages run under their CSP without a single console error', async () => {
  const page = await newPage(browser, { session: admin });
  const violations = [];
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) violations.push(m.text()); });
  for (const path of PAGES.filter((p) => p !== '/no-such-page')) {
    await page.goto(path);
    await page.waitForLoadState('networkidle');
  }
  assert.deepEqual(violations, []);
  assertNoPageErrors(page);
  await page.context().close();
});

test('csrf: same-origin JSON calls without the page token are refused; with it they pass', async () => {
  const page = await newPage(browser, { session: admin });
  await page.goto('/admin/people/groups');
  const result = await page.evaluate(async () => {
    const call = (headers) => fetch('/api/permissions/group', {
      method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify({ name: `csrf-${Math.random()}` }),
    }).then(async (r) => [r.status, await r.text()]);
    const token = document.querySelector('meta[name="csrf-token"]').content;
    return { without: await call({}), wrong: await call({ 'X-Ferrobase-CSRF': 'x'.repeat(32) }), with: await call({ 'X-Ferrobase-CSRF': token }) };
  });
  assert.deepEqual(result.without, [403, "You don't have permissions to do that."]);
  assert.deepEqual(result.wrong, [403, "You don't have permissions to do that."]);
  assert.equal(result.with[0], 200, result.with[1]);
  await page.context().close();
});

test('csrf: a page on another site cannot make the browser create a group with the admin cookie', async () => {
  const page = await newPage(browser, { session: admin });
  const other = BASE.replace('127.0.0.1', 'localhost'); // another site, same server
  await page.goto(`${other}/auth/login`);
  const before = (await api('GET', '/api/permissions/group', { session: admin })).json.length;
  await page.evaluate(async (target) => {
    const attempts = [
      // No Content-Type at all: the one body the API would parse as JSON.
      fetch(`${target}/api/permissions/group`, { method: 'POST', mode: 'no-cors', credentials: 'include', body: new Blob([JSON.stringify({ name: 'forged-1' })]) }),
      fetch(`${target}/api/permissions/group`, { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify({ name: 'forged-2' }) }),
    ];
    await Promise.allSettled(attempts);
    const form = document.createElement('form');
    form.method = 'POST';
    form.action = `${target}/api/permissions/group`;
    form.enctype = 'text/plain';
    const input = document.createElement('input');
    input.name = '{"name":"forged-3","x":"';
    input.value = '"}';
    form.append(input);
    document.body.append(form);
  }, BASE);
  // The form navigates the page away, so it is submitted last and not awaited.
  await Promise.all([page.waitForEvent('load', { timeout: 5000 }).catch(() => {}), page.evaluate(() => document.forms[document.forms.length - 1].submit())]);
  const after = (await api('GET', '/api/permissions/group', { session: admin })).json;
  assert.equal(after.length, before, `no forged group: ${after.map((g) => g.name)}`);
  await page.context().close();
});

test('unknown UI paths get a 404 page; unknown API paths keep the plain-text 404', async () => {
  const page = await newPage(browser, { session: admin });
  const r = await page.goto('/admin/nothing-here');
  assert.equal(r.status(), 404);
  await page.getByRole('heading', { name: "We're a little lost…" }).waitFor();
  await page.getByRole('link', { name: 'Back to the home page' }).waitFor();
  await shot(page, '90-not-found');
  const apiMiss = await fetch(`${BASE}/api/nothing-here`);
  assert.equal(apiMiss.status, 404);
  assert.equal(await apiMiss.text(), 'Not found.');
  assert.match(apiMiss.headers.get('content-type'), /^text\/plain/);
  await page.context().close();
});

test('the audit log screen lists the changes made through the UI', async () => {
  const page = await newPage(browser, { session: admin });
  await page.goto('/admin/audit');
  await page.locator('#audit-table tbody tr').first().waitFor();
  const topics = await page.locator('#audit-table tbody tr td:nth-child(2)').allTextContents();
  assert.ok(topics.includes('api-key-create') && topics.includes('group-delete'), topics.join(', '));
  await page.getByLabel('Show').selectOption({ label: 'API keys' });
  await page.waitForFunction(() => Array.from(document.querySelectorAll('#audit-table tbody tr td:nth-child(2)')).every((td) => td.textContent.startsWith('api-key-')));
  await shot(page, '40-audit-log');
  await page.goto('/admin/settings/general');
  await page.getByRole('heading', { name: 'General' }).waitFor();
  await shot(page, '41-settings-general');
  assertNoPageErrors(page);
  await page.context().close();
});
