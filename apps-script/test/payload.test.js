'use strict';
// What the script reads from the tab and how it packs it into requests.

const test = require('node:test');
const assert = require('node:assert/strict');
const { ordersFixture, editEvent, changeEvent, plain, loadScript, HEADER } = require('./support/load');

const sentBodies = (fakes) => fakes.http.requests.map((r) => r.json);

test('a large paste is chunked under the edit limit: every row once, in order, each request its own event', () => {
  const env = ordersFixture({ properties: { SHEETSYNC_EDIT_CHUNK_BYTES: 4000 } });
  const { sheet, fakes } = env;
  const n = 500;
  sheet.setRows(2, Array.from({ length: n }, (_, i) => [1000 + i, `Customer ${i}`, i, i % 3 === 0, '']));
  env.script.sheetsyncOnEdit(editEvent(sheet, 2, 2, n, 3));
  const bodies = sentBodies(fakes);
  assert.ok(bodies.length > 10, `${bodies.length} requests`);
  for (const r of fakes.http.requests) assert.ok(Buffer.byteLength(r.body) <= 4000, `${Buffer.byteLength(r.body)} bytes`);
  const rows = bodies.flatMap((b) => b.rows);
  assert.deepEqual(rows.map((r) => r.row), Array.from({ length: n }, (_, i) => i + 2));
  assert.ok(rows.every((r) => JSON.stringify(r.edited) === '["customer","qty","shipped"]'));
  assert.equal(new Set(bodies.map((b) => b.event_id)).size, bodies.length);
  assert.ok(bodies.every((b) => b.edited_at === bodies[0].edited_at && b.kind === 'edit' && b.watermark === 1289));
});

test('a 100,000-row tab is sent as partial snapshots under the limit, then one keys request with every key', () => {
  const env = ordersFixture();
  const { sheet, fakes, d } = env;
  const n = 100000;
  const due = d('2026-12-01');
  sheet.setRows(2, Array.from({ length: n }, (_, i) => [i + 1, `Customer number ${i}`, i % 50, i % 2 === 0, i % 7 === 0 ? due : '']));
  env.script.sheetsyncOnTimer();
  const bodies = sentBodies(fakes);
  const parts = bodies.slice(0, -1);
  const keys = bodies[bodies.length - 1];
  assert.ok(parts.length >= 5, `${parts.length} parts`);
  for (const r of fakes.http.requests.slice(0, -1)) assert.ok(Buffer.byteLength(r.body) <= 1000000, `${Buffer.byteLength(r.body)} bytes`);
  // the keys request is one request by contract, ~14 bytes a key: far under the webhook's 6 MB
  assert.ok(Buffer.byteLength(fakes.http.requests[bodies.length - 1].body) < 2000000);
  assert.ok(parts.every((b) => b.kind === 'snapshot' && b.partial === true));
  assert.equal(keys.kind, 'keys');
  assert.equal(keys.partial, undefined);
  assert.equal(parts.reduce((s, b) => s + b.rows.length, 0), n);
  assert.equal(keys.keys.length, n);
  assert.deepEqual(keys.keys.slice(0, 2), [{ id: 1 }, { id: 2 }]);
  assert.ok(bodies.every((b) => b.watermark === 1289 && b.edited_at === bodies[0].edited_at), 'one read, one watermark');
  assert.equal(parts[0].rows[0].values[4], '2026-12-01');
  assert.equal(plain(env.script.loadStatus_()).lastSnapshot.rows, n);
});

test('a header-row edit sends nothing for the header and warns in Status; data rows of the same paste still go', () => {
  const env = ordersFixture();
  const { sheet, fakes } = env;
  sheet.setRows(1, [['id', 'client']]);
  env.script.sheetsyncOnEdit(editEvent(sheet, 1, 2, 1, 1, { oldValue: 'customer' }));
  assert.equal(fakes.http.requests.length, 0);
  assert.match(env.script.statusText_(), /header row of "Orders" was edited/);
  sheet.setRows(1, [['id', 'customer']]);
  env.script.sheetsyncOnEdit(editEvent(sheet, 1, 3, 2, 1));
  assert.deepEqual(sentBodies(fakes).map((b) => b.rows.map((r) => [r.row, r.edited])), [[[2, ['qty']]]]);
});

test('editing a key cell sends the row whole, then the tab\'s keys', () => {
  const env = ordersFixture();
  const { sheet, fakes } = env;
  sheet.getRange(4, 1).setValue(99);
  env.script.sheetsyncOnEdit(editEvent(sheet, 4, 1, 1, 1, { oldValue: '43' }));
  const [edit, keys] = sentBodies(fakes);
  assert.deepEqual(edit.rows, [{ row: 4, values: [99, 'Alan Turing', 1, false, '2026-12-15'] }]);
  assert.deepEqual(keys.keys, [{ id: 41 }, { id: 42 }, { id: 99 }, { id: 44 }, { id: 45 }]);
});

test('clearing whole rows (key included) sends no empty rows, and the keys that are left', () => {
  const env = ordersFixture();
  const { sheet, fakes } = env;
  sheet.setRows(3, [['', '', '', '', ''], ['', '', '', '', '']]);
  env.script.sheetsyncOnEdit(editEvent(sheet, 3, 1, 2, 5));
  const bodies = sentBodies(fakes);
  assert.deepEqual(bodies.map((b) => b.kind), ['keys']);
  assert.deepEqual(bodies[0].keys, [{ id: 41 }, { id: 44 }, { id: 45 }]);
});

test('a whole-column edit reads only up to the last row', () => {
  const env = ordersFixture();
  const { sheet, fakes } = env;
  sheet.reads = {};
  env.script.sheetsyncOnEdit(editEvent(sheet, 1, 3, 1000, 1));
  const bodies = sentBodies(fakes);
  assert.deepEqual(bodies[0].rows.map((r) => r.row), [2, 3, 4, 5, 6]);
  assert.ok(bodies[0].rows.every((r) => JSON.stringify(r.edited) === '["qty"]'));
});

test('typing into a new row sends it whole (no key, no old/edited)', () => {
  const env = ordersFixture();
  env.sheet.setRows(7, [['', 'Zoë Ada']]);
  env.script.sheetsyncOnEdit(editEvent(env.sheet, 7, 2, 1, 1, {}));
  assert.deepEqual(sentBodies(env.fakes)[0].rows, [{ row: 7, values: ['', 'Zoë Ada', '', '', ''] }]);
});

test('a single-cell edit without oldValue (the cell was empty, or a one-cell paste) names the column in edited', () => {
  const env = ordersFixture();
  env.sheet.getRange(3, 5).setValue('2026-12-31');
  env.script.sheetsyncOnEdit(editEvent(env.sheet, 3, 5));
  assert.deepEqual(sentBodies(env.fakes)[0].rows, [{ row: 3, values: [42, 'Grace Hopper', 5, true, '2026-12-31'], edited: ['due'] }]);
});

test('inserting a blank row sends nothing; an inserted row with content and no key is sent', () => {
  const env = ordersFixture();
  env.sheet.insertRowsBefore(3, 1);
  env.script.sheetsyncOnChange(changeEvent(env.fakes.spreadsheet, 'INSERT_ROW'));
  assert.equal(env.fakes.http.requests.length, 0);
  env.sheet.setRows(3, [['', 'Zoë Ada', 4]]);
  env.sheet.setRows(9, [['', 'Kurt Gödel', 1]]);
  env.script.sheetsyncOnChange(changeEvent(env.fakes.spreadsheet, 'INSERT_ROW'));
  assert.deepEqual(sentBodies(env.fakes)[0].rows.map((r) => r.row), [3, 9]);
});

test('no watermark metadata on the tab: the field is left out', () => {
  const env = ordersFixture({ watermark: 'not-a-number' });
  env.sheet.metadata = [];
  env.script.sheetsyncOnChange(changeEvent(env.fakes.spreadsheet, 'REMOVE_ROW'));
  assert.equal('watermark' in sentBodies(env.fakes)[0], false);
});

test('cell values: dates by number format and time zone, date-times with offset, types kept', () => {
  const { script } = loadScript();
  const tz = 'Europe/Berlin';
  const midnight = new Date('2026-11-30T23:00:00Z'); // 2026-12-01 00:00 in Berlin
  assert.equal(script.cellToJson_(midnight, 'yyyy-mm-dd', tz), '2026-12-01');
  assert.equal(script.cellToJson_(midnight, 'dd"h" mmm', tz), '2026-12-01', 'quoted literals are not time tokens');
  assert.equal(script.cellToJson_(midnight, 'yyyy-mm-dd hh:mm', tz), '2026-12-01T00:00:00.000+01:00');
  assert.equal(script.cellToJson_(new Date('2026-07-01T07:30:15.250Z'), 'm/d/yyyy h:mm:ss', tz), '2026-07-01T09:30:15.250+02:00');
  assert.equal(script.cellToJson_(new Date('2026-07-01T07:30:00Z'), '', 'Etc/UTC'), '2026-07-01T07:30:00.000+00:00');
  assert.equal(script.cellToJson_(new Date('2026-07-01T00:00:00Z'), '', 'Etc/UTC'), '2026-07-01');
  assert.equal(script.cellToJson_(42, '', tz), 42);
  assert.equal(script.cellToJson_(0.5, '0%', tz), 0.5);
  assert.equal(script.cellToJson_(false, '', tz), false);
  assert.equal(script.cellToJson_('007', '@', tz), '007');
  assert.equal(script.cellToJson_('', '', tz), '');
});

test('old values come back typed from Apps Script\'s text', () => {
  const { script } = loadScript();
  const tz = 'Europe/Berlin';
  assert.equal(script.typedOldValue_('5', 6, '0', tz), 5);
  assert.equal(script.typedOldValue_('2.5', '', '', tz), 2.5);
  assert.equal(script.typedOldValue_('TRUE', false, '', tz), true);
  assert.equal(script.typedOldValue_('007', '008', '@', tz), '007', 'plain-text cells stay text');
  assert.equal(script.typedOldValue_('Ada', 'Ada L.', '', tz), 'Ada');
  assert.equal(script.typedOldValue_('46357', new Date('2026-12-01T23:00:00Z'), 'yyyy-mm-dd', tz), '2026-12-01');
  assert.equal(script.typedOldValue_('46357.5', new Date('2026-12-01T23:00:00Z'), 'yyyy-mm-dd hh:mm', tz), '2026-12-01T12:00:00.000+01:00');
});

test('Push table to sheet posts a signed /sync_gsheet request for the active bound tab', () => {
  const env = ordersFixture();
  env.fakes.http.handler = () => ({ status: 200, body: { event_id: 'x', queued: 5 } });
  env.script.sheetsyncPushTable();
  const req = env.fakes.http.requests[0];
  assert.equal(req.url, 'https://abc123.execute-api.eu-west-1.amazonaws.com/Prod/sync_gsheet');
  assert.deepEqual(Object.keys(req.json), ['v', 'event_id', 'spreadsheet_id', 'sheet']);
  assert.equal(req.json.sheet, 'Orders');
  assert.match(req.headers['X-Sheetsync-Signature'], /^v1=[0-9a-f]{64}$/);
  assert.match(env.fakes.ui.alerts[0].text, /5 rows queued for "Orders"/);
});

test('Push table to sheet, asked again within the server\'s interval, says a push is already on its way', () => {
  const env = ordersFixture();
  env.fakes.http.handler = () => ({ status: 200, body: { event_id: 'x', queued: 0, pending: true, retry_after_secs: 42 } });
  env.script.sheetsyncPushTable();
  assert.equal(env.fakes.http.requests.length, 1, 'a pending answer is not retried');
  assert.equal(env.fakes.ui.alerts[0].text,
    'A push of "Orders" is already on its way; the tab converges in a few seconds. Another push can be asked for in 42 s.');
  env.script.sheetsyncStatus();
  assert.doesNotMatch(env.fakes.ui.alerts[1].text, /Last error/);
});

test('the header drops trailing empty cells; a column without a header name is not sent', () => {
  const env = ordersFixture();
  env.sheet.setRows(1, [[...HEADER, '', '']]);
  env.sheet.setRows(2, [[41, 'Ada Lovelace', 2, false, '', '', 'stray']]);
  const ctx = env.script.tabContext_(env.script.loadConfig_(), env.sheet);
  assert.deepEqual(plain(ctx.header), HEADER);
  env.script.sheetsyncOnEdit(editEvent(env.sheet, 2, 7));
  assert.equal(env.fakes.http.requests.length, 0);
  env.script.sheetsyncOnEdit(editEvent(env.sheet, 2, 3, 1, 5));
  assert.deepEqual(env.fakes.http.requests[0].json.rows, [{ row: 2, values: [41, 'Ada Lovelace', 2, false, ''], edited: ['qty', 'shipped', 'due'] }]);
});

test('with two bound tabs, a row removal sends each tab\'s keys and an insertion only the tab with new rows', () => {
  const env = ordersFixture({ properties: { SHEETSYNC_SHEETS: JSON.stringify(['Orders', 'Returns']) } });
  const returns = env.fakes.spreadsheet.addSheet('Returns');
  returns.setRows(1, [['id', 'order_id'], [7, 41], ['', 42]]);
  env.script.sheetsyncOnChange(changeEvent(env.fakes.spreadsheet, 'REMOVE_ROW'));
  assert.deepEqual(sentBodies(env.fakes).map((b) => [b.sheet, b.kind, b.keys.length]), [['Orders', 'keys', 5], ['Returns', 'keys', 1]]);
  assert.equal('watermark' in sentBodies(env.fakes)[1], false, 'Returns has no watermark yet');
  env.fakes.http.requests.length = 0;
  env.script.sheetsyncOnChange(changeEvent(env.fakes.spreadsheet, 'INSERT_ROW'));
  assert.deepEqual(sentBodies(env.fakes).map((b) => [b.sheet, b.rows]), [['Returns', [{ row: 3, values: ['', 42] }]]]);
});

test('a German spreadsheet: requests name its locale; typed cells go typed, text as typed', () => {
  const env = ordersFixture({ locale: 'de_DE' });
  const { sheet, fakes, d } = env;
  // What getValues gives for what a person typed: Sheets parsed `50 %`
  // (a number), a checkbox (a boolean), `3.12.2026` (a Date); a plain-text
  // cell keeps `1.234,5` as text for the webhook to read by the locale.
  sheet.setRows(2, [[41, '1.234,5', 0.5, true, d('2026-12-03')]]);
  sheet.put(2, 2, { format: '@' });
  env.script.sheetsyncOnEdit(editEvent(sheet, 2, 2, 1, 4));
  const [body] = sentBodies(fakes);
  assert.equal(body.locale, 'de_DE');
  assert.equal(body.tz, 'Europe/Berlin');
  assert.deepEqual(body.rows[0].values, [41, '1.234,5', 0.5, true, '2026-12-03']);
});
