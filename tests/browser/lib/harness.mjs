// Shared helpers of the browser tests: the running server (run.sh exports FERROBASE_URL),
// headless Chromium through playwright-core, signed-in browser contexts, direct API calls with
// Node's fetch (to check what the UI did), screenshots, and a watch on console errors (a CSP
// violation or an uncaught exception fails the test).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const BASE = process.env.FERROBASE_URL || 'http://127.0.0.1:3000';
const SHOTS = process.env.FERROBASE_SCREENSHOTS || new URL('../../../docs/screenshots', import.meta.url).pathname;

export const ADMIN = { email: 'ada@example.com', password: 'blue7-ferret-orbit', first: 'Ada', last: 'Lovelace' };
export const SITE_NAME = 'Acme Analytics';
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// A page that records console errors and uncaught exceptions; `page.errors` must stay empty.
export async function newPage(browser, { session, viewport = DESKTOP } = {}) {
  const context = await browser.newContext({ viewport, baseURL: BASE, locale: 'en-US', timezoneId: 'UTC' });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE });
  if (session) {
    await context.addCookies([{ name: 'metabase.SESSION', value: session, url: BASE, httpOnly: true, sameSite: 'Lax' }]);
  }
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  page.errors = [];
  page.on('console', (msg) => {
    // A 4xx answer that the UI shows to the person is logged by Chromium as a failed resource;
    // that is expected. Anything else at error level is a fault.
    if (msg.type() === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(msg.text())) {
      page.errors.push(msg.text());
    }
  });
  page.on('pageerror', (err) => page.errors.push(String(err)));
  return page;
}

export function assertNoPageErrors(page) {
  assert.deepEqual(page.errors, [], `console errors on ${page.url()}`);
}

export async function shot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
}

// ----- The JSON API, from Node (no browser, no CSRF header: a script) -----

export async function api(method, path, { session, key, body } = {}) {
  const headers = {};
  if (session) headers['X-Metabase-Session'] = session;
  if (key) headers['X-Api-Key'] = key;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: r.status, text, json, headers: r.headers };
}

export async function signIn(email, password) {
  const r = await api('POST', '/api/session', { body: { username: email, password } });
  assert.equal(r.status, 200, `sign-in of ${email}: ${r.text}`);
  return r.json.id;
}

// The admin's session; sets the instance up first when 01-first-run did not (running one file
// on its own).
export async function adminSession() {
  const props = (await api('GET', '/api/session/properties')).json;
  if (!props['has-user-setup']) {
    const r = await api('POST', '/api/setup', {
      body: {
        token: props['setup-token'],
        user: { email: ADMIN.email, password: ADMIN.password, first_name: ADMIN.first, last_name: ADMIN.last },
        prefs: { site_name: SITE_NAME },
      },
    });
    assert.equal(r.status, 200, r.text);
  }
  return signIn(ADMIN.email, ADMIN.password);
}

// A group with this name (created when missing); returns its id.
export async function group(session, name) {
  const groups = (await api('GET', '/api/permissions/group', { session })).json;
  const found = groups.find((g) => g.name === name);
  if (found) return found.id;
  const r = await api('POST', '/api/permissions/group', { session, body: { name } });
  assert.equal(r.status, 200, r.text);
  return r.json.id;
}

// A person with a password (created when missing); returns their id.
export async function person(session, email, first, last, password = ADMIN.password) {
  const list = (await api('GET', '/api/user?status=all', { session })).json.data;
  const found = list.find((u) => u.email === email);
  if (found) return found.id;
  const r = await api('POST', '/api/user', { session, body: { email, first_name: first, last_name: last, password } });
  assert.equal(r.status, 200, r.text);
  return r.json.id;
}

export async function deleteAllKeys(session) {
  const keys = (await api('GET', '/api/api-key', { session })).json;
  for (const k of keys) {
    const r = await api('DELETE', `/api/api-key/${k.id}`, { session });
    assert.equal(r.status, 204, r.text);
  }
}

// Records the method, path and exact body text of every API request the page makes.
export function recordRequests(page) {
  const seen = [];
  page.on('request', (req) => {
    const url = new URL(req.url());
    if (url.pathname.startsWith('/api/')) {
      seen.push({ method: req.method(), path: url.pathname + url.search, body: req.postData(), headers: req.headers() });
    }
  });
  return seen;
}

// The body text of the only request matching method and path (a RegExp or a string).
export function onlyBody(seen, method, path) {
  const matches = seen.filter((r) => r.method === method && (path instanceof RegExp ? path.test(r.path) : r.path === path));
  assert.equal(matches.length, 1, `${method} ${path}: ${JSON.stringify(seen.map((r) => `${r.method} ${r.path}`))}`);
  return matches[0].body;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
