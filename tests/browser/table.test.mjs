// `sheetsync dev --table` on an existing table of the database DATABASE_URL
// names: a text key the sheet supplies (no default), a timestamp column.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import { psql, startDev, until } from './lib/dev.mjs';
import { launch } from './lib/browser.mjs';

/** A server to make a database on: DATABASE_URL's (tests/run sets one), else this machine's. */
const ADMIN = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

function reachable() {
  try {
    psql(ADMIN, 'SELECT 1');
    return true;
  } catch {
    return false;
  }
}

function withDatabase(url, name) {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

test('an existing table with a typed key, from DATABASE_URL', { skip: !reachable() && `no PostgreSQL at ${ADMIN}` }, async () => {
  const name = `sheetsync_dev_${randomBytes(4).toString('hex')}`;
  psql(ADMIN, `CREATE DATABASE ${name}`);
  const url = withDatabase(ADMIN, name);
  let dev;
  let browser;
  try {
    psql(url, `CREATE TABLE items (sku text PRIMARY KEY, name text, stock integer, seen timestamptz);
               INSERT INTO items VALUES ('A-01', 'Bolt', 10, '2026-11-25 10:30:00+00'), ('007', 'Nut', 5, NULL)`);
    dev = await startDev(['--table', 'items'], { DATABASE_URL: url });
    assert.match(dev.stdout, /using the database of DATABASE_URL/);
    assert.match(dev.stdout, /using the existing table items/);

    browser = await launch();
    const page = await browser.context.newPage();
    page.on('pageerror', (e) => { throw e; });
    await page.goto(dev.url);
    const text = (r, c) => page.locator(`td[data-r="${r}"][data-c="${c}"]`).textContent();
    await until('the first sync', async () => (await text(2, 1)) === 'Bolt');
    assert.equal(await text(1, 0), '007', 'a text key stays text');
    assert.equal(await text(2, 3), '2026-11-25 10:30:00');

    // The database does not assign this key: the new row starts in the key column.
    await page.click('#add-row');
    await page.keyboard.type('C-3');
    await page.keyboard.press('Tab');
    await page.keyboard.type('Washer');
    await page.keyboard.press('Enter');
    await until('the new row in the table', () => {
      const rows = psql(url, "SELECT name FROM items WHERE sku = 'C-3'");
      return rows.length === 1 && rows[0][0] === 'Washer';
    });
    assert.equal(psql(url, 'SELECT count(*) FROM items')[0][0], '3');
  } finally {
    if (browser) await browser.close();
    if (dev) assert.deepEqual(await dev.stop(), { code: 0, signal: null }, dev.stderr);
    // The table is the user's: it stays, bound, after the run.
    const left = psql(url, "SELECT count(*) FROM sheetsync.bindings WHERE table_name = 'items'");
    psql(ADMIN, `DROP DATABASE ${name} WITH (FORCE)`);
    assert.deepEqual(left, [['1']]);
  }
});
