/**
 * Applying the webhook's answer to the tab: the keys the database assigned
 * go into new rows' key cells, a rejected row's reason becomes a note on the
 * cell it names, and notes this script wrote earlier are cleared once the row
 * goes through.
 *
 * The answer names rows by the row number the request sent. Users sort and
 * insert rows at will, so that number is only where the search starts: a
 * keyed row is confirmed by its key, a new row by its key cell still being
 * empty and its cells still holding what was sent.
 */

var NOTE_PREFIX_ = 'sheetsync: ';
// Above this many answered rows, read the whole tab once instead of row by row.
var BULK_ROWS_ = 20;

/** A lazy, cached view of a tab's data rows (values as cellToJson_ gives them). */
function TabView_(sheet, tz) {
  this.sheet = sheet;
  this.tz = tz;
  this.header = readHeader_(sheet);
  this.width = this.header.length;
  this.lastRow = sheet.getLastRow();
  this.rows = {};
  this.notes = {};
  this.all = false;
}

TabView_.prototype.ctx = function () {
  return { sheet: this.sheet, tz: this.tz, header: this.header };
};

TabView_.prototype.loadAll = function () {
  if (this.all) return;
  var n = this.lastRow - FIRST_DATA_ROW_ + 1;
  if (n > 0 && this.width > 0) {
    var self = this;
    readRows_(this.ctx(), FIRST_DATA_ROW_, n).forEach(function (r) { self.rows[r.row] = r.values; });
    var notes = this.sheet.getRange(FIRST_DATA_ROW_, 1, n, this.width).getNotes();
    notes.forEach(function (cells, i) { self.notes[FIRST_DATA_ROW_ + i] = cells; });
  }
  this.all = true;
};

TabView_.prototype.values = function (row) {
  if (row < FIRST_DATA_ROW_ || row > this.lastRow || this.width === 0) return null;
  if (!this.rows[row]) this.rows[row] = readRows_(this.ctx(), row, 1)[0].values;
  return this.rows[row];
};

TabView_.prototype.rowNotes = function (row) {
  if (!this.notes[row]) this.notes[row] = this.sheet.getRange(row, 1, 1, this.width).getNotes()[0];
  return this.notes[row];
};

TabView_.prototype.setNote = function (row, col, text) {
  var notes = this.rowNotes(row);
  if (notes[col - 1] === text) return;
  var cell = this.sheet.getRange(row, col);
  if (text === '') cell.clearNote();
  else cell.setNote(text);
  notes[col - 1] = text;
};

TabView_.prototype.setValue = function (row, col, value) {
  this.sheet.getRange(row, col).setValue(value);
  if (this.rows[row]) this.rows[row][col - 1] = value;
};

function sameCell_(a, b) {
  if (isEmptyCell_(a) && isEmptyCell_(b)) return true;
  return String(a) === String(b);
}

/** The sent row's cell for column `name`, or undefined when it sent none. */
function sentCell_(request, sent, name) {
  var i = request.header.indexOf(name);
  return i < 0 ? undefined : sent.values[i];
}

function keyCellsMatch_(view, request, sent, row, keyNames) {
  var values = view.values(row);
  if (!values) return false;
  return keyNames.every(function (name) {
    var i = view.header.indexOf(name);
    return i >= 0 && sameCell_(values[i], sentCell_(request, sent, name));
  });
}

function keyCellsEmpty_(view, row, keyNames) {
  var values = view.values(row);
  if (!values) return false;
  return keyNames.every(function (name) {
    var i = view.header.indexOf(name);
    return i >= 0 && isEmptyCell_(values[i]);
  });
}

function otherCellsMatch_(view, request, sent, row, keyNames) {
  var values = view.values(row);
  return request.header.every(function (name, j) {
    if (name === '' || keyNames.indexOf(name) >= 0) return true;
    var i = view.header.indexOf(name);
    return i < 0 || sameCell_(values[i], sent.values[j]);
  });
}

/** Where the sent row is now, or 0 when it cannot be told for sure. */
function locateRow_(view, request, sent, keyNames) {
  var sentKeyless = keyNames.every(function (n) { return isEmptyCell_(sentCell_(request, sent, n)); });
  if (!sentKeyless) {
    if (keyCellsMatch_(view, request, sent, sent.row, keyNames)) return sent.row;
    view.loadAll();
    for (var r = FIRST_DATA_ROW_; r <= view.lastRow; r++) {
      if (keyCellsMatch_(view, request, sent, r, keyNames)) return r;
    }
    return 0;
  }
  if (keyCellsEmpty_(view, sent.row, keyNames) &&
      otherCellsMatch_(view, request, sent, sent.row, keyNames)) return sent.row;
  view.loadAll();
  var found = [];
  for (var q = FIRST_DATA_ROW_; q <= view.lastRow; q++) {
    if (keyCellsEmpty_(view, q, keyNames) && otherCellsMatch_(view, request, sent, q, keyNames)) found.push(q);
  }
  if (found.length === 1) return found[0];
  // Typed on since it was sent: still the same new row if its key is empty there.
  if (found.length === 0 && keyCellsEmpty_(view, sent.row, keyNames)) return sent.row;
  return 0;
}

function answerKeyNames_(response) {
  for (var i = 0; i < response.rows.length; i++) {
    var k = response.rows[i].key;
    if (k && typeof k === 'object' && !Array.isArray(k)) return Object.keys(k);
  }
  return null;
}

/**
 * What the webhook said of the tab's header (docs/schema-changes.md): header
 * cells that name no table column, and table columns the header lacks. Kept
 * per tab for Status until an answer says the header is whole again.
 */
function noteHeader_(sheetName, response) {
  if (!response || !Array.isArray(response.rows)) return;
  var parts = [];
  var ignored = response.ignored_columns || [];
  var missing = response.missing_columns || [];
  if (ignored.length) parts.push('not columns of the table, not synced: ' + ignored.join(', '));
  if (missing.length) parts.push('table columns the header lacks: ' + missing.join(', '));
  var text = parts.join('; ');
  var s = loadStatus_();
  if ((s.headers[sheetName] || '') === text) return;
  if (text) s.headers[sheetName] = text;
  else delete s.headers[sheetName];
  saveStatus_(s);
}

function applyResponse_(cfg, request, response) {
  if (request.header) noteHeader_(request.sheet, response);
  if (!response || !Array.isArray(response.rows) || response.rows.length === 0 || !request.rows) return;
  var ss = SpreadsheetApp.getActiveSpreadsheet();
  var sheet = ss.getSheetByName(request.sheet);
  if (!sheet) return;
  var learned = answerKeyNames_(response);
  if (learned) learnKeyColumns_(cfg, request.sheet, learned);
  var keyNames = learned || keyColumnsFor_(cfg, request.sheet);

  var view = new TabView_(sheet, ss.getSpreadsheetTimeZone());
  if (response.rows.length > BULK_ROWS_) view.loadAll();
  var sentByRow = {};
  request.rows.forEach(function (r) { sentByRow[r.row] = r; });
  var lost = 0;

  response.rows.forEach(function (answer) {
    var sent = sentByRow[answer.row];
    if (!sent) return;
    var row = locateRow_(view, request, sent, keyNames);
    if (row === 0) {
      lost++;
      return;
    }
    if (answer.key && typeof answer.key === 'object' && keyCellsEmpty_(view, row, keyNames)) {
      Object.keys(answer.key).forEach(function (name) {
        var c = view.header.indexOf(name);
        if (c >= 0) view.setValue(row, c + 1, answer.key[name]);
      });
    }
    var noteCol = 0;
    var text = '';
    if (answer.status === 'rejected') {
      noteCol = view.header.indexOf(answer.column) + 1;
      if (noteCol === 0) noteCol = Math.max(view.header.indexOf(keyNames[0]) + 1, 1);
      text = NOTE_PREFIX_ + (answer.reason || 'rejected by the database');
    }
    var notes = view.rowNotes(row);
    for (var c = 1; c <= view.width; c++) {
      if (c === noteCol) view.setNote(row, c, text);
      else if (String(notes[c - 1] || '').indexOf(NOTE_PREFIX_) === 0) view.setNote(row, c, '');
    }
  });
  if (lost > 0) {
    addWarning_(lost + ' answered row(s) of "' + request.sheet + '" could not be found again ' +
      '(moved or changed while the request was out); the next snapshot settles them.');
  }
}
