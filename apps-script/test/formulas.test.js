'use strict';
// A formula's result is synced as a value: the script reads cells with
// getValues(), which gives what a formula computes, and never reads or
// sends the formula text (docs/contract.md, "Formulas").

const test = require('node:test');
const assert = require('node:assert/strict');
const { ordersFixture, editEvent } = require('./support/load');

const sentBodies = (fakes) => fakes.http.requests.map((r) => r.json);

test('a formula typed into a cell is sent as what it computes, with the old value as base', () => {
  const env = ordersFixture();
  const { sheet, fakes } = env;
  // Grace Hopper's qty (5) becomes =C2*5, which Sheets computes as 10.
  sheet.setFormula(3, 3, '=C2*5', 10);
  env.script.sheetsyncOnEdit(editEvent(sheet, 3, 3, 1, 1, { oldValue: '5' }));
  const bodies = sentBodies(fakes);
  assert.equal(bodies.length, 1);
  assert.deepEqual(bodies[0].rows, [
    { row: 3, values: [42, 'Grace Hopper', 10, true, ''], old: { qty: 5 } },
  ]);
  assert.equal(sheet.reads.formula, undefined, 'the script never reads formulas');
});

test('a snapshot carries what formulas compute: numbers, text, dates, booleans, errors as text', () => {
  const env = ordersFixture();
  const { sheet, fakes, d } = env;
  sheet.setFormula(2, 3, '=1+1', 2);
  sheet.setFormula(2, 2, '=UPPER("ada lovelace")', 'ADA LOVELACE');
  sheet.setFormula(3, 5, '=DATE(2026,12,24)', d('2026-12-24'));
  sheet.setFormula(4, 4, '=C4>0', true);
  sheet.setFormula(5, 2, '=1/0', '#DIV/0!');
  env.script.sheetsyncOnTimer();
  const snapshot = sentBodies(fakes).find((b) => b.kind === 'snapshot');
  assert.deepEqual(snapshot.rows, [
    { row: 2, values: [41, 'ADA LOVELACE', 2, false, '2026-12-01'] },
    { row: 3, values: [42, 'Grace Hopper', 5, true, '2026-12-24'] },
    { row: 4, values: [43, 'Alan Turing', 1, true, '2026-12-15'] },
    { row: 5, values: [44, '#DIV/0!', 7, false, ''] },
    { row: 6, values: [45, 'Barbara Liskov', 3, true, '2027-01-10'] },
  ]);
  assert.equal(sheet.reads.formula, undefined, 'the script never reads formulas');
});

test('a paste of formulas sends the computed values of the pasted columns', () => {
  const env = ordersFixture();
  const { sheet, fakes } = env;
  sheet.setFormula(2, 3, '=2*3', 6);
  sheet.setFormula(3, 3, '=3*3', 9);
  env.script.sheetsyncOnEdit(editEvent(sheet, 2, 3, 2, 1));
  assert.deepEqual(sentBodies(fakes)[0].rows, [
    { row: 2, values: [41, 'Ada Lovelace', 6, false, '2026-12-01'], edited: ['qty'] },
    { row: 3, values: [42, 'Grace Hopper', 9, true, ''], edited: ['qty'] },
  ]);
});
