'use strict';
// Loads the Apps Script files into one vm context over the fakes, the way
// Apps Script runs a project: every file's top level shares one global scope.

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { createFakes, localDate } = require('./fakes');

const ROOT = path.resolve(__dirname, '..', '..');
const SCRIPT_FILES = ['config.js', 'values.js', 'journal.js', 'payload.js', 'transport.js', 'queue.js', 'apply.js', 'trigger.js'];

function loadScript(opts = {}) {
  const fakes = createFakes(opts);
  const context = vm.createContext({ ...fakes.globals });
  for (const file of SCRIPT_FILES) {
    vm.runInContext(fs.readFileSync(path.join(ROOT, file), 'utf8'), context, { filename: file });
  }
  return { script: context, fakes };
}

// The deployment's master secret: only the webhook and `sheetsync key` hold it.
const TEST_MASTER = 'sheetsync-test-secret';
const TEST_SPREADSHEET = '1AbC-sheetsync-test';

/** A spreadsheet's key, as `sheetsync key --spreadsheet ID` prints it (docs/security.md). */
function spreadsheetKey(master, spreadsheetId) {
  return crypto.createHmac('sha256', Buffer.from(master, 'utf8'))
    .update(Buffer.from(`sheetsync/v1/${spreadsheetId}`, 'utf8')).digest('hex');
}

// What Set up stores for the fixtures' spreadsheet.
const TEST_KEY = spreadsheetKey(TEST_MASTER, TEST_SPREADSHEET);
const TEST_URL = 'https://abc123.execute-api.eu-west-1.amazonaws.com/Prod/sync_postgres';
const HEADER = ['id', 'customer', 'qty', 'shipped', 'due'];

/**
 * The Orders tab of the contract fixtures (tests/contract/README.md), set up
 * and configured as Set up would leave it.
 */
function ordersFixture(opts = {}) {
  const env = loadScript(opts);
  const { fakes } = env;
  const tz = fakes.spreadsheet.getSpreadsheetTimeZone();
  const d = (iso) => localDate(iso, tz);
  const sheet = fakes.spreadsheet.addSheet('Orders');
  sheet.setRows(1, [
    HEADER,
    [41, 'Ada Lovelace', 2, false, d('2026-12-01')],
    [42, 'Grace Hopper', 5, true, ''],
    [43, 'Alan Turing', 1, false, d('2026-12-15')],
    [44, 'Edsger Dijkstra', 7, false, ''],
    [45, 'Barbara Liskov', 3, true, d('2027-01-10')],
  ]);
  sheet.setWatermark(opts.watermark === undefined ? 1289 : opts.watermark);
  fakes.spreadsheet.addSheet('Notes').setRows(1, [['free text, not synced']]);
  const p = fakes.scriptProperties;
  p.setProperty('SHEETSYNC_URL', TEST_URL);
  p.setProperty('SHEETSYNC_SECRET', TEST_KEY);
  p.setProperty('SHEETSYNC_SHEETS', JSON.stringify(['Orders']));
  p.setProperty('SHEETSYNC_KEY_COLUMNS', JSON.stringify(['id']));
  Object.entries(opts.properties || {}).forEach(([k, v]) => p.setProperty(k, String(v)));
  return { ...env, sheet, d };
}

/** An onEdit event object as Apps Script passes it. */
function editEvent(sheet, row, col, numRows = 1, numCols = 1, extra = {}) {
  return { range: sheet.getRange(row, col, numRows, numCols), source: sheet.getParent(), authMode: 'FULL', ...extra };
}

function changeEvent(spreadsheet, changeType) {
  return { changeType, source: spreadsheet, authMode: 'FULL' };
}

/** A value from the vm realm as a plain object of this realm (for deepStrictEqual). */
function plain(v) {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}

module.exports = {
  loadScript, ordersFixture, editEvent, changeEvent, plain, spreadsheetKey,
  TEST_MASTER, TEST_SPREADSHEET, TEST_KEY, TEST_URL, HEADER, SCRIPT_FILES,
};
