/**
 * The writer's journal (docs/row-identity.md): a hidden tab
 * "sheetsync journal <tab>" where each writer batch copies, atomically with
 * its writes, every row it touched, beside the key it meant to touch. While
 * it shows a write that missed its row (people moved rows meanwhile), the
 * tab may show another row's values in a row, or miss a row nobody
 * deleted: requests then say `unsettled`, and report the watermark from
 * before that batch. The same reading as sheetsync_sheets::journal::verdict.
 */

var JOURNAL_MARK_ = 'sheetsync journal v1';
var JOURNAL_META_ = 4;

function journalTitle_(sheetName) {
  return 'sheetsync journal ' + sheetName;
}

function journalCell_(v) {
  if (v === '' || v === null || v === undefined) return null;
  if (isDate_(v)) return v.getTime();
  return v;
}

function sameJournalCell_(a, b) {
  a = journalCell_(a);
  b = journalCell_(b);
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  return a === b || (a !== null && b !== null && String(a) === String(b));
}

/** { generation, misplaced, prevWatermark } of the tab's journal. */
function readJournal_(ss, sheetName) {
  var none = { generation: '', misplaced: 0, prevWatermark: null };
  var sheet = ss.getSheetByName(journalTitle_(sheetName));
  if (!sheet) return none;
  var rows = sheet.getLastRow();
  var cols = sheet.getLastColumn();
  if (rows < 1 || cols < 1) return none;
  var values = sheet.getRange(1, 1, rows, cols).getValues();
  var header = values[0];
  if (header[0] !== JOURNAL_MARK_) return none;
  var keyIndex;
  try {
    keyIndex = JSON.parse(String(header[4]));
  } catch (err) {
    return none;
  }
  var width = Number(header[5]) || 0;
  var entries = [];
  values.slice(1).forEach(function (row) {
    var op = String(row[0]);
    if (['update', 'delete', 'fix', 'restore', 'carried'].indexOf(op) < 0) return;
    var expected;
    try {
      expected = JSON.parse(String(row[1]));
    } catch (err) {
      return;
    }
    entries.push({
      op: op,
      expected: expected,
      link: typeof row[3] === 'number' ? row[3] : null,
      before: row.slice(JOURNAL_META_, JOURNAL_META_ + width)
    });
  });
  function landed(e) {
    var at = function (i) { return i < e.before.length ? e.before[i] : ''; };
    if (e.op === 'update' || e.op === 'delete' || e.op === 'fix') {
      return keyIndex.length === e.expected.length &&
        keyIndex.every(function (k, i) { return sameJournalCell_(at(k), e.expected[i]); });
    }
    if (e.op === 'restore') {
      var n = Math.max(e.before.length, e.expected.length);
      for (var i = 0; i < n; i++) {
        if (!sameJournalCell_(at(i), i < e.expected.length ? e.expected[i] : null)) return false;
      }
      return true;
    }
    return false;
  }
  function settled(e) {
    if (e.op !== 'carried') return landed(e);
    var undo = e.link === null ? null : entries[e.link];
    return !!undo && undo.op !== 'carried' && landed(undo);
  }
  var prev = Number(header[2]);
  return {
    generation: String(header[1]),
    misplaced: entries.filter(function (e) { return !settled(e); }).length,
    prevWatermark: isFinite(prev) ? prev : null
  };
}

/** The watermark a request reports: the tab's, or the one from before a
 *  batch whose writes missed their rows (its changes are not all there). */
function reportedWatermark_(watermark, journal) {
  if (watermark === null || journal.misplaced === 0 || journal.prevWatermark === null) return watermark;
  return Math.min(watermark, journal.prevWatermark);
}

/** After reading rows: unsettled when the journal showed misplaced writes,
 *  or a writer batch landed while the rows were read. */
function isUnsettled_(ctx) {
  if (ctx.journal.misplaced > 0) return true;
  if (ctx.journalAfter === undefined) {
    ctx.journalAfter = readJournal_(ctx.sheet.getParent(), ctx.name).generation;
  }
  return ctx.journalAfter !== ctx.journal.generation;
}
