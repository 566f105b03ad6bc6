/**
 * Sheet cells -> docs/contract.md values: numbers, booleans and strings as they
 * are, an empty cell as "", dates as ISO 8601 strings ("2026-12-01" for a
 * date-only cell, "2026-12-01T09:30:00.000+01:00" for a date-time: the
 * spreadsheet's wall-clock time with its offset, so both `timestamp` and
 * `timestamptz` columns read it right).
 */

function isDate_(v) {
  return Object.prototype.toString.call(v) === '[object Date]';
}

/** True when a number format shows a time of day (hours, seconds, AM/PM). */
function formatHasTime_(format) {
  var f = String(format || '').replace(/"[^"]*"/g, '').replace(/\\./g, '');
  return /[hHs]|am\/pm|a\/p/i.test(f);
}

function isoDateTime_(date, tz) {
  var local = Utilities.formatDate(date, tz, "yyyy-MM-dd'T'HH:mm:ss.SSS");
  // 'Z' gives RFC 822 "+0100"; ISO 8601 wants "+01:00".
  var offset = Utilities.formatDate(date, tz, 'Z');
  return local + offset.slice(0, 3) + ':' + offset.slice(3);
}

/**
 * One cell as the contract sends it. `format` is the cell's number format
 * (only consulted for dates); without one a date at local midnight is
 * taken as date-only.
 */
function cellToJson_(v, format, tz) {
  if (v === '' || v === null || v === undefined) return '';
  if (isDate_(v)) {
    var dateOnly = format
      ? !formatHasTime_(format)
      : Utilities.formatDate(v, tz, 'HH:mm:ss.SSS') === '00:00:00.000';
    return dateOnly ? Utilities.formatDate(v, tz, 'yyyy-MM-dd') : isoDateTime_(v, tz);
  }
  if (typeof v === 'number' || typeof v === 'boolean') return v;
  return String(v);
}

function isEmptyCell_(v) {
  return v === '' || v === null || v === undefined;
}

/** Google serial day number (days since 1899-12-30, wall clock) -> ISO. */
function serialToIso_(serial, dateOnly, tz) {
  var ms = Math.round((serial - 25569) * 86400000);
  var wall = new Date(ms).toISOString(); // the wall clock, read as if UTC
  if (dateOnly) return wall.slice(0, 10);
  // The instant is the wall clock minus the zone's offset at that time.
  var offset = Utilities.formatDate(new Date(ms), tz, 'Z');
  return wall.slice(0, 23) + offset.slice(0, 3) + ':' + offset.slice(3);
}

/**
 * The value an edited cell had before the edit. Apps Script gives
 * `e.oldValue` as text (numbers as "2", booleans as "TRUE", dates as serial
 * day numbers), so it is typed back with the cell's new value and number
 * format as hints. The server converts it to the column's type in any case.
 */
function typedOldValue_(oldValue, newValue, format, tz) {
  var text = String(oldValue);
  var plainText = String(format || '') === '@';
  var numeric = /^\s*-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(text);
  if (!plainText && numeric && isDate_(newValue)) {
    return serialToIso_(Number(text), !formatHasTime_(format), tz);
  }
  if (!plainText && numeric) return Number(text);
  if (!plainText && (text === 'TRUE' || text === 'FALSE')) return text === 'TRUE';
  return text;
}

/** UTF-8 length of a string, to keep requests under a byte limit. */
function utf8Length_(s) {
  var n = 0;
  for (var i = 0; i < s.length; i++) {
    var c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) { n += 4; i++; }
    else n += 3;
  }
  return n;
}
