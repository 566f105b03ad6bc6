'use strict';
// The webhook's answer applied to the tab: keys into new rows, reasons as
// notes on rejected cells, stale notes cleared, rows found again after moves.

const test = require('node:test');
const assert = require('node:assert/strict');
const { ordersFixture, editEvent, changeEvent } = require('./support/load');
const { readFixture } = require('./support/fixtures');

function answer(rows) {
  return (req) => ({ status: 200, body: { event_id: req.json.event_id, rows: typeof rows === 'function' ? rows(req) : rows, deleted: 0 } });
}

test('the insert-row fixture\'s response writes key 46 into the new row', () => {
  const env = ordersFixture();
  const { sheet, fakes, d } = env;
  sheet.insertRowsBefore(4, 1);
  sheet.setRows(4, [['', 'Zoë Ada', 4, false, d('2026-12-24')]]);
  const fixture = readFixture('insert-row');
  fakes.http.handler = () => fixture.response;
  env.script.sheetsyncOnChange(changeEvent(fakes.spreadsheet, 'INSERT_ROW'));
  assert.equal(sheet.valueAt(4, 1), 46);
  assert.deepEqual(sheet.writes, [{ kind: 'value', row: 4, col: 1, value: 46 }], 'nothing else written');
});

test('a response with keys and rejects writes keys and notes into the right cells, and clears notes that no longer apply', () => {
  const env = ordersFixture();
  const { sheet, fakes } = env;
  // rows 7-9: three new rows pasted at once; row 3 has an old sheetsync note and a user's own note
  sheet.setRows(7, [
    ['', 'Zoë Ada', 4, false, ''],
    ['', '', 'many', false, ''],
    ['', 'Kurt Gödel', 1, true, ''],
  ]);
  sheet.getRange(3, 3).setNote('sheetsync: qty: \'x\' is not a whole number');
  sheet.getRange(3, 2).setNote('call her back');
  sheet.getRange(8, 2).setNote('sheetsync: an older reason');
  sheet.writes.length = 0;
  fakes.http.handler = answer((req) => {
    if (req.json.rows[0].row === 3) return [{ row: 3, key: { id: 42 }, status: 'updated' }];
    return [
      { row: 7, key: { id: 46 }, status: 'inserted' },
      { row: 8, status: 'rejected', column: 'qty', reason: "qty: 'many' is not a whole number" },
      { row: 9, key: { id: 47 }, status: 'inserted' },
    ];
  });
  env.script.sheetsyncOnEdit(editEvent(sheet, 7, 2, 3, 4));
  sheet.getRange(3, 3).setValue(6);
  env.script.sheetsyncOnEdit(editEvent(sheet, 3, 3, 1, 1, { oldValue: '5' }));

  assert.equal(sheet.valueAt(7, 1), 46);
  assert.equal(sheet.valueAt(8, 1), '', 'a rejected row gets no key');
  assert.equal(sheet.valueAt(9, 1), 47);
  assert.equal(sheet.noteAt(8, 3), "sheetsync: qty: 'many' is not a whole number");
  assert.equal(sheet.noteAt(8, 2), '', 'the older reason on another cell of the row is cleared');
  assert.equal(sheet.noteAt(3, 3), '', 'the row went through: its sheetsync note is cleared');
  assert.equal(sheet.noteAt(3, 2), 'call her back', 'a user\'s own note is left alone');
  assert.equal(sheet.valueAt(3, 1), 42, 'an existing key is never overwritten');
  for (const w of sheet.writes.filter((x) => x.kind === 'value' && x.value !== 6)) {
    assert.equal(w.col, 1, `only key cells written: ${JSON.stringify(w)}`);
  }
});

test('a new row that moved while its request was out is found by its cells; a keyed row by its key', () => {
  const env = ordersFixture();
  const { sheet, fakes } = env;
  sheet.setRows(7, [['', 'Zoë Ada', 4, false, '']]);
  fakes.http.handler = (req) => {
    // the user inserts two rows at the top while the request is out
    sheet.insertRowsBefore(2, 2);
    return answer([
      { row: 7, key: { id: 46 }, status: 'inserted' },
      { row: 3, status: 'rejected', column: 'due', reason: "due: 'soon' is not a date" },
    ])(req);
  };
  sheet.getRange(3, 5).setValue('soon');
  const cfg = env.script.loadConfig_();
  const ctx = env.script.tabContext_(cfg, sheet);
  const rows = env.script.readRows_(ctx, 3, 1).concat(env.script.readRows_(ctx, 7, 1));
  const req = env.script.chunkRequests_(ctx, 'edit', '2026-11-25T13:35:00.123Z', rows, 100000, false);
  env.script.dispatch_(cfg, req);
  assert.equal(sheet.valueAt(9, 1), 46, 'written where the row is now');
  assert.equal(sheet.valueAt(7, 1), 44, 'row 7 now holds another row, left as it was');
  assert.equal(sheet.noteAt(5, 5), "sheetsync: due: 'soon' is not a date", 'the keyed row 42 moved from 3 to 5');
});

test('a row that cannot be found again is not guessed: a warning says so', () => {
  const env = ordersFixture();
  const { sheet, fakes } = env;
  sheet.setRows(7, [['', 'Zoë Ada', 4, false, '']]);
  fakes.http.handler = (req) => {
    sheet.deleteRow(7);
    return answer([{ row: 7, key: { id: 46 }, status: 'inserted' }])(req);
  };
  env.script.sheetsyncOnEdit(editEvent(sheet, 7, 2));
  assert.equal(sheet.writes.length, 0);
  assert.match(env.script.statusText_(), /1 answered row\(s\) of "Orders" could not be found again/);
});

test('the key column names the server answers with are learned for that tab', () => {
  const env = ordersFixture();
  const { sheet, fakes } = env;
  sheet.setRows(1, [['order_id', 'customer', 'qty', 'shipped', 'due']]);
  sheet.setRows(7, [['', 'Zoë Ada', 4, false, '']]);
  fakes.http.handler = answer([{ row: 7, key: { order_id: 46 }, status: 'inserted' }]);
  env.script.sheetsyncOnEdit(editEvent(sheet, 7, 2));
  assert.equal(sheet.valueAt(7, 1), 46);
  const cfg = env.script.loadConfig_();
  assert.deepEqual(Array.from(env.script.keyColumnsFor_(cfg, 'Orders')), ['order_id']);
  assert.match(env.script.statusText_(), /Tabs: Orders \(key order_id\)/);
  assert.match(env.script.statusText_(), /server reports the key column\(s\) of "Orders" as order_id \(Set up said id\)/);
});

test('a big snapshot answer is applied with one read of the tab, not one per row', () => {
  const env = ordersFixture();
  const { sheet, fakes } = env;
  const n = 2000;
  sheet.setRows(2, Array.from({ length: n }, (_, i) => [i + 1, `C${i}`, i, false, '']));
  sheet.setRows(2 + n, [['', 'new', 1, false, '']]);
  fakes.http.handler = (req) => answer(req.json.rows.map((r) => (r.values[0] === ''
    ? { row: r.row, key: { id: 5000 }, status: 'inserted' }
    : { row: r.row, key: { id: r.values[0] }, status: 'unchanged' })))(req);
  sheet.reads = {};
  env.script.sheetsyncSyncNow();
  assert.equal(sheet.valueAt(2 + n, 1), 5000);
  assert.ok(sheet.reads.value <= 6, `value reads: ${sheet.reads.value}`);
  assert.ok(sheet.reads.note <= 2, `note reads: ${sheet.reads.note}`);
});

test('Status names the header cells that are not synced and the table columns the header lacks, until the header is whole', () => {
  const env = ordersFixture();
  const { sheet, fakes } = env;
  sheet.setRows(1, [['id', 'client', 'qty', 'shipped', 'due', 'my notes']]);
  fakes.http.handler = (req) => ({
    status: 200,
    body: { event_id: req.json.event_id, rows: [{ row: 3, key: { id: 42 }, status: 'updated' }], deleted: 0,
      ignored_columns: ['client', 'my notes'], missing_columns: ['customer'] },
  });
  env.script.sheetsyncOnEdit(editEvent(sheet, 3, 3));
  assert.match(env.script.statusText_(),
    /Header of "Orders": not columns of the table, not synced: client, my notes; table columns the header lacks: customer\./);
  sheet.setRows(1, [['id', 'customer', 'qty', 'shipped', 'due']]);
  fakes.http.handler = answer([{ row: 3, key: { id: 42 }, status: 'updated' }]);
  env.script.sheetsyncOnEdit(editEvent(sheet, 3, 3));
  assert.doesNotMatch(env.script.statusText_(), /Header of "Orders"/);
});
