/**
 * Building docs/contract.md requests from what the tab holds. Row 1 is the header;
 * data rows start at row 2. Rows are re-read from the sheet (events carry no
 * values for pastes), so a request always reports what the tab holds now.
 */

var WATERMARK_KEY_ = 'sheetsync.watermark';
var HEADER_ROW_ = 1;
var FIRST_DATA_ROW_ = 2;

/** The tab's watermark: the writer's developer metadata, or null when absent. */
function readWatermark_(sheet) {
  var found = sheet.getDeveloperMetadata().filter(function (m) {
    return m.getKey() === WATERMARK_KEY_;
  });
  if (found.length === 0) return null;
  var n = Number(found[found.length - 1].getValue());
  return isFinite(n) && Math.floor(n) === n && n >= 0 ? n : null;
}

function readHeader_(sheet) {
  var width = sheet.getLastColumn();
  if (width < 1) return [];
  var header = sheet.getRange(HEADER_ROW_, 1, 1, width).getValues()[0].map(function (v) {
    return isEmptyCell_(v) ? '' : String(v).trim();
  });
  while (header.length > 0 && header[header.length - 1] === '') header.pop();
  return header;
}

/** What every request about this tab needs, read once per event. */
function tabContext_(cfg, sheet) {
  var ss = sheet.getParent();
  var header = readHeader_(sheet);
  var keyColumns = keyColumnsFor_(cfg, sheet.getName());
  // Read before the rows; isUnsettled_ reads it again after them.
  var journal = readJournal_(ss, sheet.getName());
  return {
    sheet: sheet,
    name: sheet.getName(),
    spreadsheetId: ss.getId(),
    tz: ss.getSpreadsheetTimeZone(),
    locale: ss.getSpreadsheetLocale(),
    header: header,
    keyColumns: keyColumns,
    keyIndexes: keyColumns.map(function (k) { return header.indexOf(k); }),
    journal: journal,
    watermark: reportedWatermark_(readWatermark_(sheet), journal)
  };
}

function hasKeyColumns_(ctx) {
  return ctx.keyIndexes.length > 0 && ctx.keyIndexes.every(function (i) { return i >= 0; });
}

/** Rows [startRow, startRow + numRows) as { row, values } in header order. */
function readRows_(ctx, startRow, numRows) {
  if (numRows <= 0 || ctx.header.length === 0) return [];
  var range = ctx.sheet.getRange(startRow, 1, numRows, ctx.header.length);
  var values = range.getValues();
  var formats = null;
  return values.map(function (cells, i) {
    return {
      row: startRow + i,
      values: cells.map(function (v, j) {
        if (isDate_(v)) {
          formats = formats || range.getNumberFormats();
          return cellToJson_(v, formats[i][j], ctx.tz);
        }
        return cellToJson_(v, null, ctx.tz);
      })
    };
  });
}

function readAllRows_(ctx) {
  var last = ctx.sheet.getLastRow();
  return readRows_(ctx, FIRST_DATA_ROW_, last - FIRST_DATA_ROW_ + 1);
}

function isEmptyRow_(values) {
  return values.every(isEmptyCell_);
}

/** A row whose key cells are all empty is a new row (docs/contract.md). */
function isKeyless_(ctx, values) {
  return hasKeyColumns_(ctx) && ctx.keyIndexes.every(function (i) { return isEmptyCell_(values[i]); });
}

function keyOf_(ctx, values) {
  var key = {};
  ctx.keyColumns.forEach(function (name, n) { key[name] = values[ctx.keyIndexes[n]]; });
  return key;
}

function baseRequest_(ctx, kind, editedAt, partial) {
  var p = {
    v: 1,
    event_id: Utilities.getUuid(),
    spreadsheet_id: ctx.spreadsheetId,
    sheet: ctx.name,
    kind: kind,
    // Where the tab's date-time cells' wall clocks are, and how a person
    // writes numbers and dates in text cells (docs/contract.md).
    tz: ctx.tz,
    locale: ctx.locale
  };
  if (partial) p.partial = true;
  p.edited_at = editedAt;
  if (ctx.watermark !== null) p.watermark = ctx.watermark;
  if (isUnsettled_(ctx)) p.unsettled = true;
  return p;
}

/**
 * Splits rows into requests of at most `limit` bytes each (a single row
 * larger than the limit travels alone). Each request gets its own event id.
 */
function chunkRequests_(ctx, kind, editedAt, rows, limit, partial) {
  var requests = [];
  var current = null;
  var size = 0;
  var overhead = 0;
  rows.forEach(function (row) {
    var rowBytes = utf8Length_(JSON.stringify(row)) + 1;
    if (current !== null && size + rowBytes > limit) current = null;
    if (current === null) {
      current = baseRequest_(ctx, kind, editedAt, partial);
      current.header = ctx.header;
      current.rows = [];
      overhead = utf8Length_(JSON.stringify(current));
      size = overhead;
      requests.push(current);
    }
    current.rows.push(row);
    size += rowBytes;
  });
  return requests;
}

/**
 * An onEdit event -> requests. A single cell carries its base value as
 * `old`; a multi-cell edit or paste names its columns in `edited`; a new
 * row (no key) and a row whose key cell was edited are sent whole. Returns
 * { requests, headerEdited, keyEdited }.
 */
function editRequests_(cfg, ctx, e, editedAt) {
  var range = e.range;
  var top = range.getRow();
  var bottom = top + range.getNumRows() - 1;
  var left = range.getColumn();
  var right = left + range.getNumColumns() - 1;
  var result = { requests: [], headerEdited: top <= HEADER_ROW_, keyEdited: false };

  var first = Math.max(top, FIRST_DATA_ROW_);
  // A whole-column edit reaches the grid's end; rows past the last one hold nothing.
  var last = Math.min(bottom, Math.max(ctx.sheet.getLastRow(), first));
  var edited = [];
  for (var c = left; c <= Math.min(right, ctx.header.length); c++) {
    if (ctx.header[c - 1] !== '') edited.push(ctx.header[c - 1]);
  }
  if (first > last || edited.length === 0) return result;
  result.keyEdited = ctx.keyIndexes.some(function (i) { return i >= 0 && i + 1 >= left && i + 1 <= right; });

  var single = top === bottom && left === right;
  var rows = [];
  readRows_(ctx, first, last - first + 1).forEach(function (r) {
    if (isEmptyRow_(r.values)) return;
    if (isKeyless_(ctx, r.values) || result.keyEdited) {
      rows.push(r);
    } else if (single && e.oldValue !== undefined && e.oldValue !== null) {
      var cell = ctx.sheet.getRange(r.row, left);
      var old = {};
      old[edited[0]] = typedOldValue_(e.oldValue, cell.getValue(), cell.getNumberFormat(), ctx.tz);
      rows.push({ row: r.row, values: r.values, old: old });
    } else {
      rows.push({ row: r.row, values: r.values, edited: edited });
    }
  });
  result.requests = chunkRequests_(ctx, 'edit', editedAt, rows, cfg.editChunkBytes, false);
  return result;
}

/**
 * Inserted rows: onChange names no row, so every row with content and no key
 * (not yet in the table) is sent whole.
 */
function newRowRequests_(cfg, ctx, editedAt) {
  if (!hasKeyColumns_(ctx)) return [];
  var last = ctx.sheet.getLastRow();
  if (last < FIRST_DATA_ROW_) return [];
  var keyCells = readKeyCells_(ctx, last);
  var rows = [];
  var start = null;
  for (var i = 0; i <= keyCells.length; i++) {
    var keyless = i < keyCells.length && keyCells[i].every(isEmptyCell_);
    if (keyless && start === null) start = i;
    if (!keyless && start !== null) {
      readRows_(ctx, FIRST_DATA_ROW_ + start, i - start).forEach(function (r) {
        if (!isEmptyRow_(r.values)) rows.push(r);
      });
      start = null;
    }
  }
  return chunkRequests_(ctx, 'edit', editedAt, rows, cfg.editChunkBytes, false);
}

/** Key cells of rows 2..last, one read per key column. */
function readKeyCells_(ctx, last) {
  var n = last - FIRST_DATA_ROW_ + 1;
  var columns = ctx.keyIndexes.map(function (i) {
    var range = ctx.sheet.getRange(FIRST_DATA_ROW_, i + 1, n, 1);
    var values = range.getValues();
    var formats = null;
    return values.map(function (cells, r) {
      if (isDate_(cells[0])) {
        formats = formats || range.getNumberFormats();
        return cellToJson_(cells[0], formats[r][0], ctx.tz);
      }
      return cellToJson_(cells[0], null, ctx.tz);
    });
  });
  var out = [];
  for (var r = 0; r < n; r++) {
    out.push(columns.map(function (col) { return col[r]; }));
  }
  return out;
}

function keysFromCells_(ctx, keyCells) {
  var seen = {};
  var keys = [];
  keyCells.forEach(function (cells) {
    if (cells.every(isEmptyCell_)) return;
    var key = {};
    ctx.keyColumns.forEach(function (name, n) { key[name] = cells[n]; });
    var id = JSON.stringify(key);
    if (seen[id]) return;
    seen[id] = true;
    keys.push(key);
  });
  return keys;
}

/** A `keys` request: every key present in the tab (after rows were removed). */
function keysRequest_(ctx, editedAt) {
  var last = ctx.sheet.getLastRow();
  var keyCells = last >= FIRST_DATA_ROW_ ? readKeyCells_(ctx, last) : [];
  var p = baseRequest_(ctx, 'keys', editedAt, false);
  p.header = ctx.header;
  p.keys = keysFromCells_(ctx, keyCells);
  return p;
}

/**
 * The whole tab as one `snapshot`, or, when that would exceed the request
 * limit, as `partial` snapshots followed by one `keys` request, all from one
 * read of the tab and with one watermark. The `keys` request is one request
 * by contract, so the limit does not split it: at ~14 bytes a key, the
 * webhook's 6 MB default takes a tab of ~400,000 rows.
 */
function snapshotRequests_(cfg, ctx, editedAt) {
  var rows = readAllRows_(ctx).filter(function (r) { return !isEmptyRow_(r.values); });
  var requests = chunkRequests_(ctx, 'snapshot', editedAt, rows, cfg.maxRequestBytes, true);
  if (requests.length === 0) {
    var empty = baseRequest_(ctx, 'snapshot', editedAt, false);
    empty.header = ctx.header;
    empty.rows = [];
    return [empty];
  }
  if (requests.length === 1) {
    delete requests[0].partial;
    return requests;
  }
  if (!hasKeyColumns_(ctx)) return requests; // the server answers unknown_key_column
  var keys = baseRequest_(ctx, 'keys', editedAt, false);
  keys.header = ctx.header;
  keys.keys = keysFromCells_(ctx, rows.map(function (r) {
    return ctx.keyIndexes.map(function (i) { return r.values[i]; });
  }));
  requests.push(keys);
  return requests;
}
