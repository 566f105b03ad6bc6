'use strict';
// What Sheets hands a script for a cell the writer wrote (a Sheets API
// CellData): `Range.getValues()` gives a Date for a number with a date or
// date-time format, the number itself otherwise, text as text;
// `getNumberFormats()` gives the format's pattern. A serial number is a wall
// clock in the spreadsheet's time zone; the Date is the instant of that wall
// clock there, to the millisecond. The Rust model of the same reading is
// sheetsync_reconcile::script; tests/fixtures/roundtrip holds both sides' answers.

const { zoneOffsetMinutes } = require('./fakes');

const EPOCH_SERIAL = 25569; // 1970-01-01
const DAY_MS = 86400000;

/**
 * The instant of a wall clock (ms since the epoch, read as if UTC) in `tz`:
 * the earlier of two when the clock is set back, and for a time the clock
 * skips the offset in force before the gap, as JavaScript and Java read
 * wall clocks. Zones never move their clocks twice within a day, so the
 * offsets a day before and after are the only candidates.
 */
function instantOfWall(wallMs, tz) {
  const before = zoneOffsetMinutes(new Date(wallMs - DAY_MS), tz);
  const after = zoneOffsetMinutes(new Date(wallMs + DAY_MS), tz);
  const valid = [before, after]
    .map((offset) => wallMs - offset * 60000)
    .filter((t) => wallMs - t === zoneOffsetMinutes(new Date(t), tz) * 60000)
    .sort((a, b) => a - b);
  return new Date(valid.length > 0 ? valid[0] : wallMs - before * 60000);
}

/** The Date Sheets gives for a date-time serial in `tz`, to the millisecond. */
function dateOfSerial(serial, tz) {
  const days = Math.floor(serial);
  const micros = Math.round((serial - days) * DAY_MS * 1000);
  const wallMs = (days - EPOCH_SERIAL) * DAY_MS + Math.round(micros / 1000);
  return instantOfWall(wallMs, tz);
}

/** { value, format } as getValues / getNumberFormats give them. */
function cellFromCellData(data, tz) {
  const entered = data.userEnteredValue || {};
  const numberFormat = ((data.userEnteredFormat || {}).numberFormat) || {};
  const format = numberFormat.pattern || '';
  if (typeof entered.numberValue === 'number') {
    const dated = numberFormat.type === 'DATE' || numberFormat.type === 'DATE_TIME';
    return { value: dated ? dateOfSerial(entered.numberValue, tz) : entered.numberValue, format };
  }
  if (typeof entered.stringValue === 'string') return { value: entered.stringValue, format };
  if (typeof entered.boolValue === 'boolean') return { value: entered.boolValue, format };
  return { value: '', format };
}

module.exports = { cellFromCellData, dateOfSerial, instantOfWall };
