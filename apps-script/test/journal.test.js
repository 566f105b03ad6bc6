'use strict';
// The writer's journal: requests say `unsettled`, and report the watermark
// from before a batch whose writes missed their rows (docs/row-identity.md).

const fs = require('node:fs');
const path = require('node:path');
const test = require('node:test');
const assert = require('node:assert/strict');
const { ordersFixture, editEvent, plain } = require('./support/load');

const fixture = JSON.parse(fs.readFileSync(
  path.join(__dirname, '..', '..', 'tests', 'fixtures', 'journal', 'verdict.json'), 'utf8'));
const sentBodies = (fakes) => fakes.http.requests.map((r) => r.json);

function withJournal(env, rows) {
  env.fakes.spreadsheet.addSheet('sheetsync journal Orders').setRows(1, rows);
}

test('the journal reads as the writer reads it (shared fixture)', () => {
  const env = ordersFixture();
  withJournal(env, fixture.rows);
  assert.deepEqual(plain(env.script.readJournal_(env.fakes.spreadsheet, 'Orders')), fixture.verdict);
});

test('no journal, or a settled one: requests are as before', () => {
  const env = ordersFixture();
  env.script.sheetsyncOnEdit(editEvent(env.sheet, 2, 3, 1, 1, { oldValue: 1 }));
  withJournal(env, [fixture.rows[0], fixture.rows[1]]);
  env.script.sheetsyncOnEdit(editEvent(env.sheet, 3, 3, 1, 1, { oldValue: 4 }));
  const bodies = sentBodies(env.fakes);
  assert.equal(bodies.length, 2);
  assert.ok(bodies.every((b) => b.watermark === 1289 && !('unsettled' in b)));
});

test('a journal showing a missed write: unsettled, and the watermark from before that batch', () => {
  const env = ordersFixture();
  withJournal(env, fixture.rows);
  env.script.sheetsyncOnEdit(editEvent(env.sheet, 2, 3, 1, 1, { oldValue: 1 }));
  env.script.sheetsyncOnTimer();
  const bodies = sentBodies(env.fakes);
  assert.deepEqual(bodies.map((b) => b.kind), ['edit', 'snapshot']);
  assert.ok(bodies.every((b) => b.unsettled === true && b.watermark === 10));
});

test('a writer batch landing while the rows are read makes the request unsettled', () => {
  const env = ordersFixture();
  withJournal(env, [fixture.rows[0], fixture.rows[1]]);
  const journal = env.fakes.spreadsheet.getSheetByName('sheetsync journal Orders');
  // The rows are read between the two journal reads: the writer's next
  // batch (a new generation) lands then.
  const getRange = env.sheet.getRange.bind(env.sheet);
  env.sheet.getRange = (row, col, numRows = 1, numCols = 1) => {
    if (row >= 2) journal.setRows(1, [['sheetsync journal v1', 'g2', 12, 13, '[0]', 2]]);
    return getRange(row, col, numRows, numCols);
  };
  env.script.sheetsyncOnTimer();
  assert.equal(sentBodies(env.fakes)[0].unsettled, true);
});

test('a deferred answer schedules a snapshot', () => {
  const env = ordersFixture();
  env.fakes.http.handler = (req) => ({
    status: 200,
    body: { event_id: req.json.event_id, rows: [], deleted: 0, deferred: true },
  });
  env.script.sheetsyncOnEdit(editEvent(env.sheet, 2, 3, 1, 1, { oldValue: 1 }));
  const status = plain(env.script.loadStatus_());
  assert.equal(status.needsSnapshot, true);
  assert.match(status.needsSnapshotReason, /unsettled/);
});
