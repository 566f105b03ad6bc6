'use strict';
// Retries, the queue and its order, the lock, and what Status reports.

const test = require('node:test');
const assert = require('node:assert/strict');
const { ordersFixture, editEvent, changeEvent, plain } = require('./support/load');

const ok = (req) => ({ status: 200, body: { event_id: req.json && req.json.event_id, rows: [], deleted: 0 } });
const down = () => { throw new Error('Address unavailable: https://abc123.execute-api.eu-west-1.amazonaws.com'); };

function typeQty(env, row, value, old) {
  env.sheet.getRange(row, 3).setValue(value);
  env.script.sheetsyncOnEdit(editEvent(env.sheet, row, 3, 1, 1, { oldValue: String(old) }));
}

function queued(env) {
  return plain(env.script.queueEntries_().map((e) => e.request));
}

test('endpoint down: the edit is queued, then the timer resends the queue in order, once each, before the snapshot', () => {
  const env = ordersFixture();
  const { fakes } = env;
  fakes.http.handler = down;
  typeQty(env, 3, 6, 5);
  fakes.advance(60000);
  typeQty(env, 4, 9, 1);
  fakes.advance(60000);
  typeQty(env, 5, 8, 7);
  // each edit tries the queue's head 3 times (backoff 1 s, 2 s); later edits queue behind it
  assert.equal(fakes.http.requests.length, 9);
  assert.deepEqual(fakes.http.requests.map((r) => r.json.rows[0].row), [3, 3, 3, 3, 3, 3, 3, 3, 3]);
  assert.deepEqual(fakes.sleeps, [1000, 2000, 1000, 2000, 1000, 2000]);
  const q = queued(env);
  assert.deepEqual(q.map((r) => r.rows[0].row), [3, 4, 5]);
  assert.deepEqual(q.map((r) => r.edited_at), ['2026-11-25T13:35:00.123Z', '2026-11-25T13:36:03.123Z', '2026-11-25T13:37:06.123Z']);
  assert.match(env.script.statusText_(), /Pending events: 3 /);

  fakes.http.requests.length = 0;
  fakes.advance(600000);
  fakes.http.handler = ok;
  env.script.sheetsyncOnTimer();
  const sent = fakes.http.requests.map((r) => r.json);
  assert.deepEqual(sent.map((b) => b.kind), ['edit', 'edit', 'edit', 'snapshot']);
  assert.deepEqual(sent.slice(0, 3).map((b) => b.event_id), q.map((r) => r.event_id), 'same event ids, same order');
  assert.deepEqual(sent.slice(0, 3).map((b) => b.edited_at), q.map((r) => r.edited_at), 'edited_at kept from the edit');
  assert.deepEqual(sent.slice(0, 3).map((b) => b.rows[0].old), [{ qty: 5 }, { qty: 1 }, { qty: 7 }]);
  assert.equal(queued(env).length, 0);
  const status = plain(env.script.loadStatus_());
  assert.equal(status.lastSnapshot.rows, 5);

  fakes.http.requests.length = 0;
  env.script.sheetsyncOnTimer();
  assert.deepEqual(fakes.http.requests.map((r) => r.json.kind), ['snapshot'], 'nothing resent twice');
});

test('a new edit behind a non-empty queue is queued after it and sent after it', () => {
  const env = ordersFixture();
  env.fakes.http.handler = down;
  typeQty(env, 3, 6, 5);
  env.fakes.http.handler = ok;
  env.fakes.http.requests.length = 0;
  typeQty(env, 4, 9, 1);
  assert.deepEqual(env.fakes.http.requests.map((r) => r.json.rows[0].row), [3, 4]);
  assert.equal(queued(env).length, 0);
});

test('429 and 503 are retried with backoff (Retry-After honoured), then succeed without queueing', () => {
  const env = ordersFixture();
  const answers = [
    { status: 429, body: 'Too Many Requests', headers: { 'Retry-After': '3' } },
    { status: 503, body: { error: { code: 'unavailable', message: 'database unreachable' } } },
  ];
  env.fakes.http.handler = (req) => answers.shift() || ok(req);
  typeQty(env, 3, 6, 5);
  assert.equal(env.fakes.http.requests.length, 3);
  assert.deepEqual(env.fakes.sleeps, [3000, 2000]);
  const ids = env.fakes.http.requests.map((r) => r.json.event_id);
  assert.equal(new Set(ids).size, 1, 'a retry is the same event');
  assert.equal(queued(env).length, 0);
  assert.ok(env.script.loadStatus_().lastSuccessAt);
});

test('a wrong secret keeps the events queued (no retry storm) until it is fixed', () => {
  const env = ordersFixture();
  env.fakes.http.handler = () => ({ status: 401, body: { error: { code: 'bad_signature', message: 'signature mismatch' } } });
  typeQty(env, 3, 6, 5);
  assert.equal(env.fakes.http.requests.length, 1, 'not retried: retrying cannot help');
  assert.equal(queued(env).length, 1);
  assert.match(env.script.statusText_(), /Last error: .* HTTP 401 bad_signature: signature mismatch/);
  env.fakes.http.handler = ok;
  env.script.sheetsyncOnTimer();
  assert.equal(queued(env).length, 0);
});

test('a request the webhook refuses for good (malformed, too large) leaves the queue, is reported, and a snapshot is due', () => {
  const env = ordersFixture();
  env.fakes.http.handler = down;
  typeQty(env, 3, 6, 5);
  typeQty(env, 4, 9, 1);
  let first = true;
  env.fakes.http.handler = (req) => {
    if (first) { first = false; return { status: 413, body: { error: { code: 'too_large', message: 'body over 1 MB' } } }; }
    return ok(req);
  };
  env.fakes.http.requests.length = 0;
  env.script.flushQueue_(env.script.loadConfig_());
  assert.deepEqual(env.fakes.http.requests.map((r) => r.json.rows[0].row), [3, 4], 'the next one still goes');
  const s = plain(env.script.loadStatus_());
  assert.equal(s.dead.count, 1);
  assert.equal(s.needsSnapshot, true);
  assert.match(env.script.statusText_(), /Refused by the webhook: 1 request\(s\).*too_large/);
  env.script.sheetsyncOnTimer();
  assert.equal(plain(env.script.loadStatus_()).needsSnapshot, false, 'the snapshot carried the rows');
});

test('the queue is bounded: when full, queued events are kept, the new one is reported and left to the snapshot', () => {
  const env = ordersFixture({ properties: { SHEETSYNC_QUEUE_MAX_BYTES: 700 } });
  env.fakes.http.handler = down;
  typeQty(env, 3, 6, 5);
  typeQty(env, 4, 9, 1);
  typeQty(env, 5, 8, 7);
  const q = queued(env);
  assert.deepEqual(q.map((r) => r.rows[0].row), [3, 4], 'oldest kept');
  const s = plain(env.script.loadStatus_());
  assert.equal(s.overflow.count, 1);
  assert.equal(s.needsSnapshot, true);
  assert.match(env.script.statusText_(), /Queue full since .*: 1 request\(s\) could not be queued/);

  env.fakes.http.handler = ok;
  env.fakes.http.requests.length = 0;
  env.script.sheetsyncOnTimer();
  const sent = env.fakes.http.requests.map((r) => r.json);
  assert.deepEqual(sent.map((b) => b.kind), ['edit', 'edit', 'snapshot']);
  assert.deepEqual(sent[2].rows.find((r) => r.row === 5).values, [44, 'Edsger Dijkstra', 8, false, ''], 'the snapshot carries the unqueued edit');
  assert.equal(plain(env.script.loadStatus_()).overflow.count, 0);
});

test('a large queued request spans several properties (9 kB each) and comes back whole', () => {
  const env = ordersFixture();
  const rows = Array.from({ length: 300 }, (_, i) => [1000 + i, `Customer ${i} ✓`, i, i % 2 === 0, '']);
  env.sheet.setRows(2, rows);
  env.fakes.http.handler = down;
  env.script.sheetsyncOnEdit(editEvent(env.sheet, 2, 2, 300, 2));
  const keys = env.fakes.scriptProperties.getKeys().filter((k) => k.startsWith('sheetsync.q.'));
  assert.ok(keys.length > 1, `stored in ${keys.length} parts`);
  for (const k of keys) assert.ok(Buffer.byteLength(env.fakes.scriptProperties.getProperty(k)) <= 8000);
  const q = queued(env);
  assert.equal(q.length, 1);
  assert.equal(q[0].rows.length, 300);
  assert.equal(q[0].rows[299].values[1], 'Customer 299 ✓');
});

test('a trigger that cannot get the lock queues its event instead of sending or dropping it', () => {
  const env = ordersFixture();
  env.fakes.lock.available = false;
  typeQty(env, 3, 6, 5);
  assert.equal(env.fakes.http.requests.length, 0);
  assert.equal(queued(env).length, 1);
  env.fakes.lock.available = true;
  env.script.sheetsyncOnTimer();
  assert.deepEqual(env.fakes.http.requests.map((r) => r.json.kind), ['edit', 'snapshot']);
});

test('a queued new row answered with its key: a later queued request for the same row updates it instead of inserting it again', () => {
  const env = ordersFixture();
  const { sheet, fakes } = env;
  fakes.http.handler = down;
  sheet.setRows(7, [['', 'Zoë Ada', '', '', '']]);
  env.script.sheetsyncOnEdit(editEvent(sheet, 7, 2));
  sheet.setRows(7, [['', 'Zoë Ada', 4, '', '']]);
  env.script.sheetsyncOnEdit(editEvent(sheet, 7, 3, 1, 1, {}));
  assert.deepEqual(queued(env).map((r) => r.rows[0].values[0]), ['', '']);

  fakes.http.requests.length = 0;
  fakes.http.handler = (req) => {
    if (req.json.kind !== 'edit') return ok(req);
    const row = req.json.rows[0];
    const inserted = row.values[0] === '';
    return { status: 200, body: { event_id: req.json.event_id, rows: [{ row: 7, key: { id: 46 }, status: inserted ? 'inserted' : 'updated' }], deleted: 0 } };
  };
  env.script.sheetsyncOnTimer();
  const edits = fakes.http.requests.filter((r) => r.json.kind === 'edit').map((r) => r.json.rows[0].values);
  assert.deepEqual(edits, [['', 'Zoë Ada', '', '', ''], [46, 'Zoë Ada', 4, '', '']]);
  assert.equal(sheet.valueAt(7, 1), 46);
});

test('a queued new row answered with its key: another new row at the same row number later (rows moved) is not given that key', () => {
  const env = ordersFixture();
  const { sheet, fakes } = env;
  fakes.http.handler = down;
  sheet.setRows(7, [['', 'Zoë Ada', '', '', '']]);
  env.script.sheetsyncOnEdit(editEvent(sheet, 7, 2));
  // A sort (or a row inserted above) moved Zoë's row away; Grace's new row is at 7 now.
  sheet.setRows(7, [['', 'Grace Hopper', 2, '', '']]);
  env.script.sheetsyncOnEdit(editEvent(sheet, 7, 3, 1, 1, {}));
  // Typing on Grace's row: the chain follows her row, not Zoë's.
  sheet.setRows(7, [['', 'Grace Hopper', 2, 'COBOL', '']]);
  env.script.sheetsyncOnEdit(editEvent(sheet, 7, 4, 1, 1, {}));

  fakes.http.requests.length = 0;
  let next = 46;
  fakes.http.handler = (req) => {
    if (req.json.kind !== 'edit') return ok(req);
    const row = req.json.rows[0];
    const key = row.values[0] === '' ? next++ : row.values[0];
    return { status: 200, body: { event_id: req.json.event_id, rows: [{ row: 7, key: { id: key }, status: row.values[0] === '' ? 'inserted' : 'updated' }], deleted: 0 } };
  };
  env.script.sheetsyncOnTimer();
  const edits = fakes.http.requests.filter((r) => r.json.kind === 'edit').map((r) => r.json.rows[0].values);
  assert.deepEqual(edits, [
    ['', 'Zoë Ada', '', '', ''],
    ['', 'Grace Hopper', 2, '', ''],
    [47, 'Grace Hopper', 2, 'COBOL', ''],
  ]);
});

test('onChange ignores other change types and other tabs', () => {
  const env = ordersFixture();
  env.script.sheetsyncOnChange(changeEvent(env.fakes.spreadsheet, 'FORMAT'));
  env.script.sheetsyncOnChange(changeEvent(env.fakes.spreadsheet, 'EDIT'));
  env.sheet.getRange(3, 3).setValue(6);
  env.script.sheetsyncOnEdit(editEvent(env.fakes.spreadsheet.getSheetByName('Notes'), 1, 1));
  assert.equal(env.fakes.http.requests.length, 0);
});

test('before Set up the triggers do nothing', () => {
  const env = ordersFixture();
  env.fakes.scriptProperties.deleteProperty('SHEETSYNC_SECRET');
  typeQty(env, 3, 6, 5);
  assert.equal(env.fakes.http.requests.length, 0);
  assert.equal(queued(env).length, 0);
});
