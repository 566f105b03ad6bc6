// The dev grid in headless Chromium against a real `sheetsync dev`: every
// change made in the page reaches PostgreSQL, and every change made in
// PostgreSQL reaches the page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { artifacts, psql, startDev, until } from './lib/dev.mjs';
import { launch } from './lib/browser.mjs';

const COL = { id: 0, customer: 1, qty: 2, shipped: 3, due: 4, price: 5 };

let dev;
let browser;
let page;
/** Every request the page sent to the webhook: { body, headers }. */
const sent = [];

/** The grid row (tab row index) holding key `id`, or -1. */
async function rowOf(id) {
  return page.evaluate((key) => {
    const cell = [...document.querySelectorAll('td[data-c="0"]')].find((td) => td.textContent.trim() === String(key));
    return cell ? Number(cell.dataset.r) : -1;
  }, id);
}

async function cellText(id, column) {
  const r = await rowOf(id);
  if (r < 0) return null;
  return (await page.locator(`td[data-r="${r}"][data-c="${COL[column]}"]`).textContent()).trim();
}

async function typeInto(id, column, text) {
  const r = await rowOf(id);
  assert.ok(r > 0, `row ${id} is in the grid`);
  await page.click(`td[data-r="${r}"][data-c="${COL[column]}"]`);
  await page.keyboard.type(text);
  await page.keyboard.press('Enter');
}

/** The `n` requests sent since `from`, parsed (request events reach the test a moment later). */
async function sentSince(from, n = 1) {
  await until(`${n} requests to the webhook`, () => sent.length >= from + n);
  return sent.slice(from).map((r) => JSON.parse(r.body));
}

function db(sql) {
  return psql(dev.databaseUrl, sql);
}

before(async () => {
  dev = await startDev();
  browser = await launch();
  page = await browser.context.newPage();
  page.on('pageerror', (e) => { throw e; });
  page.on('request', (request) => {
    if (request.url().endsWith('/sync_postgres')) sent.push({ body: request.postData(), headers: request.headers() });
  });
  await page.goto(dev.url);
  await until('the first sync in the grid', async () => (await cellText(5, 'customer')) === 'Barbara Liskov');
});

after(async () => {
  if (page) {
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, 'dev-grid.png') });
  }
  if (browser) await browser.close();
  if (dev) {
    const exit = await dev.stop();
    assert.deepEqual(exit, { code: 0, signal: null }, dev.stderr);
  }
});

test('the first sync shows the table typed: numbers, booleans, dates', async () => {
  assert.equal(await cellText(1, 'customer'), 'Ada Lovelace');
  assert.equal(await cellText(1, 'qty'), '3');
  assert.equal(await cellText(1, 'due'), '2026-12-01');
  assert.equal(await cellText(1, 'price'), '19.90');
  const r = await rowOf(2);
  assert.equal(await page.locator(`td[data-r="${r}"][data-c="${COL.shipped}"] input`).isChecked(), true);
  assert.match(await page.locator(`td[data-r="${r}"][data-c="${COL.qty}"]`).getAttribute('class'), /\bnum\b/);
});

test('editing a cell changes the row in PostgreSQL', async () => {
  const from = sent.length;
  await typeInto(3, 'customer', 'Alan M. Turing');
  await until('the edit in the table', () => db('SELECT customer FROM orders WHERE id = 3')[0][0] === 'Alan M. Turing');
  // The request is the Apps Script's single-cell edit: the whole row, the old value, signed.
  const [edit] = await sentSince(from);
  assert.deepEqual(Object.keys(edit), ['v', 'event_id', 'spreadsheet_id', 'sheet', 'kind', 'edited_at', 'watermark', 'header', 'rows']);
  assert.equal(edit.kind, 'edit');
  assert.ok(Number.isInteger(edit.watermark) && edit.watermark > 0, `watermark ${edit.watermark}`);
  assert.deepEqual(edit.header, ['id', 'customer', 'qty', 'shipped', 'due', 'price']);
  assert.deepEqual(edit.rows, [{ row: 4, values: [3, 'Alan M. Turing', 6, false, '2026-12-15', 12.5], old: { customer: 'Alan Turing' } }]);
  const { key: secret } = await (await fetch(`${dev.url}/api/config`)).json();
  const { body, headers } = sent[from];
  const mac = createHmac('sha256', secret).update(`${headers['x-sheetsync-timestamp']}.${body}`).digest('hex');
  assert.equal(headers['x-sheetsync-signature'], `v1=${mac}`);
  await typeInto(3, 'due', '2027-02-01');
  await until('the date in the table', () => db('SELECT due::text FROM orders WHERE id = 3')[0][0] === '2027-02-01');
  const r = await rowOf(1);
  await page.click(`td[data-r="${r}"][data-c="${COL.shipped}"] input`);
  await until('the checkbox in the table', () => db('SELECT shipped FROM orders WHERE id = 1')[0][0] === 't');
  assert.deepEqual(db('SELECT customer, qty, shipped FROM orders WHERE id = 3'), [['Alan M. Turing', '6', 'f']]);
});

test('an UPDATE in SQL changes the cell in the page', async () => {
  db("UPDATE orders SET qty = 42, customer = 'Grace B. Hopper' WHERE id = 2");
  await until('the update in the grid', async () => (await cellText(2, 'qty')) === '42');
  assert.equal(await cellText(2, 'customer'), 'Grace B. Hopper');
});

test('both sides changing a cell: the later wins, the loser is listed as a conflict', async () => {
  // Hold the writer back (Sheets API latency) so the page still shows the old value.
  const faults = `${dev.url}/_emulator/faults`;
  await fetch(faults, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ latencyMs: 2500 }) });
  try {
    db("UPDATE orders SET customer = 'Grace (from SQL)' WHERE id = 2");
    assert.equal(await cellText(2, 'customer'), 'Grace B. Hopper');
    await typeInto(2, 'customer', 'Grace (from the sheet)');
    await until('the sheet edit in the table', () => db('SELECT customer FROM orders WHERE id = 2')[0][0] === 'Grace (from the sheet)');
    assert.deepEqual(
      db("SELECT column_name, sheet_value::text, db_value::text, winner FROM sheetsync.conflicts WHERE key = '[2]'"),
      [['customer', '"Grace (from the sheet)"', '"Grace (from SQL)"', 'sheet']],
    );
    await until('the conflict in the side panel', async () => (await page.locator('#conflicts').textContent()).includes('Grace (from SQL)'));
  } finally {
    await fetch(faults, { method: 'DELETE' });
  }
  // The delayed SQL value reaches the tab first, then the webhook's repair (queued after it) puts
  // the winner back: once the tab's watermark covers every queued change, both sides agree.
  const [[last]] = db('SELECT last_value FROM sheetsync.outbox_seq_seq');
  const tab = `${dev.url}/_emulator/spreadsheets/sheetsync-dev/tabs/orders`;
  await until('the tab has every change', async () =>
    Number((await (await fetch(tab)).json()).developerMetadata['sheetsync.watermark']) >= Number(last), 20000);
  await until('the page shows the winner', async () => (await cellText(2, 'customer')) === 'Grace (from the sheet)');
  assert.equal(db('SELECT customer FROM orders WHERE id = 2')[0][0], 'Grace (from the sheet)');
});

test('pasting a block writes only the pasted cells of each row', async () => {
  const from = sent.length;
  const r = await rowOf(4);
  await page.click(`td[data-r="${r}"][data-c="${COL.customer}"]`);
  await page.evaluate(() => {
    const data = new DataTransfer();
    data.setData('text/plain', 'Edsger W. Dijkstra\t8\r\n');
    document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true }));
  });
  await until('the paste in the table', () => db('SELECT customer, qty FROM orders WHERE id = 4')[0].join('|') === 'Edsger W. Dijkstra|8');
  assert.deepEqual(db('SELECT shipped, due::text, price::text FROM orders WHERE id = 4'), [['t', '2026-11-30', '99.99']]);
  assert.deepEqual((await sentSince(from)).map((b) => b.rows), [[{
    row: r + 1, values: [4, 'Edsger W. Dijkstra', 8, true, '2026-11-30', 99.99], edited: ['customer', 'qty'],
  }]]);
});

test('a row added in the page is inserted and gets its key', async () => {
  const from = sent.length;
  await page.click('#add-row');
  await page.keyboard.type('Katherine Johnson');
  await page.keyboard.press('Tab');
  await page.keyboard.type('7');
  await page.keyboard.press('Enter');
  const [[id]] = await until('the insert in the table', () => {
    const rows = db("SELECT id FROM orders WHERE customer = 'Katherine Johnson' AND qty = 7");
    return rows.length === 1 && rows;
  });
  await until('the key written into the new row', async () => (await cellText(id, 'customer')) === 'Katherine Johnson');
  assert.equal(db("SELECT count(*) FROM orders WHERE customer = 'Katherine Johnson'")[0][0], '1');
  // The new row goes without key and whole; the next edit, once the key is back, names its column.
  const [insert, next] = (await sentSince(from, 2)).map((b) => b.rows[0]);
  assert.deepEqual(insert.values, ['', 'Katherine Johnson', '', '', '', '']);
  assert.equal('old' in insert || 'edited' in insert, false);
  assert.deepEqual(next.values, [Number(id), 'Katherine Johnson', 7, '', '', '']);
  assert.deepEqual(next.edited, ['qty']);
});

test('a row inserted in SQL appears in the page', async () => {
  const [[id]] = db("INSERT INTO orders (customer, qty, shipped, due, price) VALUES ('Margaret Hamilton', 9, false, '2027-03-01', 7.5) RETURNING id");
  await until('the new row in the grid', async () => (await cellText(id, 'customer')) === 'Margaret Hamilton');
  assert.equal(await cellText(id, 'price'), '7.50');
  assert.equal(await cellText(id, 'due'), '2027-03-01');
});

test('a row deleted in the page is deleted in PostgreSQL', async () => {
  const from = sent.length;
  const r = await rowOf(4);
  await page.click(`tr[data-r="${r}"] th`);
  await page.click('#delete-row');
  await until('the delete in the table', () => db('SELECT count(*) FROM orders WHERE id = 4')[0][0] === '0');
  await until('the row gone from the grid', async () => (await rowOf(4)) === -1);
  assert.equal(db('SELECT count(*) FROM orders WHERE id IN (1, 2, 3, 5)')[0][0], '4');
  const [keys] = await sentSince(from);
  assert.equal(keys.kind, 'keys');
  assert.equal('rows' in keys, false);
  assert.deepEqual(keys.keys.map((k) => k.id).sort((a, b) => a - b), db('SELECT id FROM orders ORDER BY id').map(([id]) => Number(id)));
});

test('a row deleted in SQL disappears from the page', async () => {
  db('DELETE FROM orders WHERE id = 5');
  await until('the row gone from the grid', async () => (await rowOf(5)) === -1);
  assert.ok((await rowOf(1)) > 0);
});

test('Sync now sends the whole tab as a snapshot, which repairs an edit the webhook missed', async () => {
  // A change in the tab that never reached the webhook (the Apps Script's trigger did not fire).
  const r = await rowOf(3);
  const cellUrl = `${dev.url}/_emulator/spreadsheets/sheetsync-dev/tabs/orders/cells/${r}/${COL.customer}`;
  const put = await fetch(cellUrl, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ text: 'Alan (missed)' }) });
  assert.equal(put.status, 200);
  await until('the tab change in the page', async () => (await cellText(3, 'customer')) === 'Alan (missed)');
  assert.equal(db('SELECT customer FROM orders WHERE id = 3')[0][0], 'Alan M. Turing');

  const from = sent.length;
  await page.click('#sync-now');
  await until('the snapshot applied', () => db('SELECT customer FROM orders WHERE id = 3')[0][0] === 'Alan (missed)');
  const [snapshot] = await sentSince(from);
  assert.equal(snapshot.kind, 'snapshot');
  assert.deepEqual(
    snapshot.rows.map((row) => row.values[0]).sort((a, b) => a - b),
    db('SELECT id FROM orders ORDER BY id').map(([id]) => Number(id)),
  );
});

test('a bad value is rejected with its reason on the cell and in the panel', async () => {
  await typeInto(1, 'qty', 'abc');
  const r = await rowOf(1);
  const cell = page.locator(`td[data-r="${r}"][data-c="${COL.qty}"]`);
  await until('the rejected mark', async () => /\brejected\b/.test(await cell.getAttribute('class')));
  assert.equal(await cell.getAttribute('data-reason'), "qty: 'abc' is not a whole number");
  await until('the reject in the side panel', async () => (await page.locator('#rejects').textContent()).includes("qty: 'abc' is not a whole number"));
  assert.equal(db('SELECT qty FROM orders WHERE id = 1')[0][0], '3');
  await cell.hover();
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, 'dev-grid-rejected.png') });
  await typeInto(1, 'qty', '5');
  await until('the fix in the table', () => db('SELECT qty FROM orders WHERE id = 1')[0][0] === '5');
  await until('the mark cleared', async () => !/\brejected\b/.test(await cell.getAttribute('class')));
});
