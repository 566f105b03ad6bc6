'use strict';
// The shared round-trip fixture (tests/fixtures/roundtrip/cases.json): for
// each table value, the cell the writer wrote in a spreadsheet of time zone
// `tz`, read by the real script (payload.js readRows_, values.js) as Sheets
// hands it over, is what the fixture says; the Rust tests then show the
// webhook takes that reading for the table's value and writes nothing.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { loadScript } = require('./support/load');
const { cellFromCellData, dateOfSerial } = require('./support/sheets-cells');

const fixture = JSON.parse(fs.readFileSync(
  path.join(__dirname, '..', '..', 'tests', 'fixtures', 'roundtrip', 'cases.json'), 'utf8'));

/** What the script sends for one cell of a spreadsheet in `tz`. */
function scriptReading(cell, tz) {
  const { script, fakes } = loadScript({ tz });
  const sheet = fakes.spreadsheet.addSheet('Orders');
  sheet.put(1, 1, { value: 'v' });
  sheet.put(2, 1, cellFromCellData(cell, tz));
  const ctx = { sheet, header: ['v'], tz: fakes.spreadsheet.getSpreadsheetTimeZone() };
  return script.readRows_(ctx, 2, 1)[0].values[0];
}

const zones = [...new Set(fixture.cases.map((c) => c.tz))];

for (const tz of zones) {
  test(`the script reads the writer's cells as the fixture says: ${tz}`, () => {
    const cases = fixture.cases.filter((c) => c.tz === tz);
    assert.ok(cases.length > 30);
    for (const c of cases) {
      assert.deepEqual(scriptReading(c.cell, tz), c.script, `${c.type} ${JSON.stringify(c.db)}`);
    }
  });
}

test('the fixture covers the zones and types the contract names', () => {
  for (const tz of ['Etc/GMT', 'Europe/Berlin', 'America/Los_Angeles', 'Asia/Kolkata', 'Australia/Lord_Howe']) {
    assert.ok(zones.includes(tz), tz);
  }
  const types = new Set(fixture.cases.map((c) => c.type));
  for (const t of ['date', 'timestamp without time zone', 'timestamp with time zone', 'time without time zone', 'bigint', 'numeric']) {
    assert.ok(types.has(t), t);
  }
});

test('a wall clock that happens twice is the earlier instant; one in a gap moves forward', () => {
  // Berlin 2026-10-25 02:30 (CEST, then CET) and 2026-03-29 02:30 (skipped).
  assert.equal(dateOfSerial(46320 + 2.5 / 24, 'Europe/Berlin').toISOString(), '2026-10-25T00:30:00.000Z');
  assert.equal(dateOfSerial(46110 + 2.5 / 24, 'Europe/Berlin').toISOString(), '2026-03-29T01:30:00.000Z');
  // Lord Howe moves by half an hour.
  assert.equal(dateOfSerial(46299 + (2 + 10 / 60) / 24, 'Australia/Lord_Howe').toISOString(), '2026-10-03T15:40:00.000Z');
});
