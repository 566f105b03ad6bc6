'use strict';
// In-memory fakes of the Apps Script services the script uses, behaving as
// the real ones do where the script depends on it: values come back typed
// (numbers, booleans, Dates, ""), signatures as signed bytes, Script
// Properties enforce their size limits, UrlFetchApp throws on HTTP errors
// unless muteHttpExceptions is set, and nothing sleeps (Utilities.sleep
// advances the fake clock and is recorded).

const crypto = require('node:crypto');

function int8(buf) {
  return Array.from(buf, (b) => (b > 127 ? b - 256 : b));
}

function toBuffer(v) {
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  return Buffer.from(v.map((b) => b & 0xff));
}

// ---- SpreadsheetApp ---------------------------------------------------------

class FakeRange {
  constructor(sheet, row, col, numRows, numCols) {
    if (row < 1 || col < 1 || numRows < 1 || numCols < 1) {
      throw new Error(`The coordinates of the range are outside the dimensions of the sheet (${row},${col},${numRows},${numCols}).`);
    }
    Object.assign(this, { sheet, row, col, numRows, numCols });
  }
  getSheet() { return this.sheet; }
  getRow() { return this.row; }
  getColumn() { return this.col; }
  getNumRows() { return this.numRows; }
  getNumColumns() { return this.numCols; }
  getLastRow() { return this.row + this.numRows - 1; }
  getLastColumn() { return this.col + this.numCols - 1; }
  grid(kind) {
    this.sheet.reads[kind] = (this.sheet.reads[kind] || 0) + 1;
    const out = [];
    for (let r = 0; r < this.numRows; r++) {
      const line = [];
      for (let c = 0; c < this.numCols; c++) line.push(this.sheet.cell(this.row + r, this.col + c)[kind]);
      out.push(line);
    }
    return out;
  }
  // Formula cells hold what the formula computes as their value (as
  // getValues gives it) and the formula itself apart (getFormulas).
  getValues() { return this.grid('value'); }
  getFormulas() { return this.grid('formula'); }
  getFormula() { return this.sheet.cell(this.row, this.col).formula; }
  getValue() { return this.sheet.cell(this.row, this.col).value; }
  getNumberFormats() { return this.grid('format'); }
  getNumberFormat() { return this.sheet.cell(this.row, this.col).format; }
  getNotes() { return this.grid('note'); }
  getNote() { return this.sheet.cell(this.row, this.col).note; }
  setValue(v) { this.sheet.writes.push({ kind: 'value', row: this.row, col: this.col, value: v }); this.sheet.put(this.row, this.col, { value: v, formula: '' }); return this; }
  setValues(values) {
    values.forEach((line, r) => line.forEach((v, c) => this.sheet.put(this.row + r, this.col + c, { value: v, formula: '' })));
    return this;
  }
  setNote(text) { this.sheet.writes.push({ kind: 'note', row: this.row, col: this.col, value: text }); this.sheet.put(this.row, this.col, { note: text == null ? '' : String(text) }); return this; }
  clearNote() { this.sheet.writes.push({ kind: 'note', row: this.row, col: this.col, value: '' }); this.sheet.put(this.row, this.col, { note: '' }); return this; }
}

class FakeSheet {
  constructor(spreadsheet, name) {
    this.spreadsheet = spreadsheet;
    this.name = name;
    this.cells = []; // rows of { value, note, format, formula }
    this.metadata = [];
    this.reads = {};
    this.writes = [];
  }
  getName() { return this.name; }
  getParent() { return this.spreadsheet; }
  getSheetId() { return 0; }
  cell(row, col) {
    const line = this.cells[row - 1];
    return (line && line[col - 1]) || { value: '', note: '', format: '', formula: '' };
  }
  put(row, col, patch) {
    while (this.cells.length < row) this.cells.push([]);
    const line = this.cells[row - 1];
    while (line.length < col) line.push({ value: '', note: '', format: '', formula: '' });
    line[col - 1] = Object.assign({}, line[col - 1], patch);
  }
  getRange(row, col, numRows = 1, numCols = 1) { return new FakeRange(this, row, col, numRows, numCols); }
  getLastRow() {
    for (let r = this.cells.length; r >= 1; r--) {
      if (this.cells[r - 1].some((c) => c.value !== '')) return r;
    }
    return 0;
  }
  getLastColumn() {
    let last = 0;
    this.cells.forEach((line) => line.forEach((c, i) => { if (c.value !== '') last = Math.max(last, i + 1); }));
    return last;
  }
  getDeveloperMetadata() {
    return this.metadata.map((m) => ({ getKey: () => m.key, getValue: () => m.value, getVisibility: () => 'DOCUMENT' }));
  }
  // ---- test helpers (not Apps Script API) ----
  setRows(startRow, rows, format) {
    rows.forEach((line, r) => line.forEach((v, c) => {
      const isDate = Object.prototype.toString.call(v) === '[object Date]';
      this.put(startRow + r, c + 1, { value: v, format: isDate ? (format || 'yyyy-mm-dd') : '', formula: '' });
    }));
  }
  /** A formula a person typed, and what Sheets computed for it. */
  setFormula(row, col, formula, computed, format) {
    const isDate = Object.prototype.toString.call(computed) === '[object Date]';
    this.put(row, col, { value: computed, formula, format: format || (isDate ? 'yyyy-mm-dd' : '') });
  }
  setWatermark(value) { this.metadata = [{ key: 'sheetsync.watermark', value: String(value) }]; }
  insertRowsBefore(row, n = 1) {
    const blank = () => [];
    this.cells.splice(row - 1, 0, ...Array.from({ length: n }, blank));
  }
  deleteRow(row) { this.cells.splice(row - 1, 1); }
  valueAt(row, col) { return this.cell(row, col).value; }
  noteAt(row, col) { return this.cell(row, col).note; }
}

class FakeSpreadsheet {
  constructor(id, tz, locale) {
    this.id = id;
    this.tz = tz;
    this.locale = locale;
    this.sheets = [];
    this.active = null;
  }
  getId() { return this.id; }
  getSpreadsheetTimeZone() { return this.tz; }
  getSpreadsheetLocale() { return this.locale; }
  getSheetByName(name) { return this.sheets.find((s) => s.name === name) || null; }
  getSheets() { return this.sheets.slice(); }
  getActiveSheet() { return this.active || this.sheets[0] || null; }
  toast() {}
  addSheet(name) {
    const s = new FakeSheet(this, name);
    this.sheets.push(s);
    return s;
  }
}

class FakeUi {
  constructor() {
    this.answers = [];
    this.alerts = [];
    this.prompts = [];
    this.menus = [];
    this.ButtonSet = { OK: 'OK', OK_CANCEL: 'OK_CANCEL', YES_NO: 'YES_NO', YES_NO_CANCEL: 'YES_NO_CANCEL' };
    this.Button = { OK: 'OK', CANCEL: 'CANCEL', YES: 'YES', NO: 'NO', CLOSE: 'CLOSE' };
  }
  prompt(title, text) {
    this.prompts.push({ title, text });
    if (this.answers.length === 0) throw new Error(`unexpected prompt: ${title}`);
    const a = this.answers.shift();
    return { getSelectedButton: () => a.button || 'OK', getResponseText: () => a.text || '' };
  }
  alert(title, text) { this.alerts.push({ title, text }); return 'OK'; }
  createMenu(caption) {
    const menu = { caption, items: [] };
    this.menus.push(menu);
    const builder = {
      addItem: (label, fn) => { menu.items.push({ label, fn }); return builder; },
      addSeparator: () => builder,
      addToUi: () => undefined,
    };
    return builder;
  }
}

// ---- Utilities ------------------------------------------------------------------

function zoneParts(date, tz) {
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
  const p = {};
  fmt.formatToParts(date).forEach((x) => { p[x.type] = x.value; });
  const wall = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
  const offsetMin = Math.round((wall - (date.getTime() - date.getUTCMilliseconds())) / 60000);
  return { ...p, ms: String(date.getUTCMilliseconds()).padStart(3, '0'), offsetMin };
}

/** The zone's offset from UTC at `date`, in minutes east. */
function zoneOffsetMinutes(date, tz) {
  return zoneParts(date, tz).offsetMin;
}

// A subset of Java SimpleDateFormat, as Utilities.formatDate takes it.
function formatDate(date, tz, pattern) {
  const p = zoneParts(date, tz);
  const sign = p.offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(p.offsetMin);
  const tokens = {
    yyyy: p.year, MM: p.month, dd: p.day, HH: p.hour, mm: p.minute, ss: p.second, SSS: p.ms,
    Z: sign + String(Math.floor(abs / 60)).padStart(2, '0') + String(abs % 60).padStart(2, '0'),
  };
  let out = '';
  for (let i = 0; i < pattern.length;) {
    if (pattern[i] === "'") {
      const end = pattern.indexOf("'", i + 1);
      out += pattern.slice(i + 1, end);
      i = end + 1;
      continue;
    }
    const tok = ['yyyy', 'SSS', 'MM', 'dd', 'HH', 'mm', 'ss', 'Z'].find((t) => pattern.startsWith(t, i));
    if (tok) { out += tokens[tok]; i += tok.length; } else if (/[a-zA-Z]/.test(pattern[i])) {
      throw new Error(`fake formatDate: unsupported pattern letter ${pattern[i]} in ${pattern}`);
    } else { out += pattern[i]; i++; }
  }
  return out;
}

/** A Date for a date-only cell: local midnight in `tz`, as Sheets returns it. */
function localDate(iso, tz) {
  const guess = new Date(`${iso}T00:00:00Z`);
  const { offsetMin } = zoneParts(guess, tz);
  return new Date(guess.getTime() - offsetMin * 60000);
}

// ---- the whole environment ---------------------------------------------------------

const PROPERTY_VALUE_LIMIT = 9 * 1024;
const PROPERTY_TOTAL_LIMIT = 500 * 1024;

function createFakes(opts = {}) {
  const clock = { ms: Date.parse(opts.now || '2026-11-25T13:35:00.123Z') };
  const spreadsheet = new FakeSpreadsheet(opts.spreadsheetId || '1AbC-sheetsync-test', opts.tz || 'Europe/Berlin', opts.locale || 'en_US');
  const ui = new FakeUi();
  const sleeps = [];
  let uuidCounter = 0;

  const http = {
    requests: [],
    // (request) => { status, body, headers } or throws (network error)
    handler: (req) => ({ status: 200, body: { event_id: req.json && req.json.event_id, rows: [], deleted: 0 } }),
  };
  const UrlFetchApp = {
    fetch(url, params = {}) {
      const payload = params.payload;
      const body = typeof payload === 'string' ? payload : toBuffer(payload).toString('utf8');
      let json = null;
      try { json = JSON.parse(body); } catch (err) { json = null; }
      const req = {
        url, method: params.method, contentType: params.contentType, headers: params.headers || {},
        body, json, muteHttpExceptions: params.muteHttpExceptions, at: clock.ms,
      };
      http.requests.push(req);
      const res = http.handler(req);
      const status = res.status || 200;
      const text = typeof res.body === 'string' ? res.body : JSON.stringify(res.body === undefined ? {} : res.body);
      if (status >= 400 && !params.muteHttpExceptions) {
        throw new Error(`Request failed for ${url} returned code ${status}`);
      }
      return {
        getResponseCode: () => status,
        getContentText: () => text,
        getHeaders: () => res.headers || {},
        getAllHeaders: () => res.headers || {},
      };
    },
  };

  const store = new Map();
  const storeBytes = () => {
    let n = 0;
    store.forEach((v, k) => { n += Buffer.byteLength(k) + Buffer.byteLength(v); });
    return n;
  };
  const checkValue = (k, v) => {
    if (Buffer.byteLength(String(v)) > PROPERTY_VALUE_LIMIT) throw new Error(`Argument too large: value (${k})`);
  };
  const scriptProperties = {
    getProperty: (k) => (store.has(k) ? store.get(k) : null),
    setProperty(k, v) {
      checkValue(k, v);
      const before = store.get(k);
      store.set(k, String(v));
      if (storeBytes() > PROPERTY_TOTAL_LIMIT) {
        if (before === undefined) store.delete(k); else store.set(k, before);
        throw new Error('You have exceeded the property storage quota.');
      }
      return scriptProperties;
    },
    setProperties(obj, deleteAllOthers) {
      Object.entries(obj).forEach(([k, v]) => checkValue(k, v));
      const backup = new Map(store);
      if (deleteAllOthers) store.clear();
      Object.entries(obj).forEach(([k, v]) => store.set(k, String(v)));
      if (storeBytes() > PROPERTY_TOTAL_LIMIT) {
        store.clear();
        backup.forEach((v, k) => store.set(k, v));
        throw new Error('You have exceeded the property storage quota.');
      }
      return scriptProperties;
    },
    getProperties: () => Object.fromEntries(store),
    getKeys: () => Array.from(store.keys()),
    deleteProperty(k) { store.delete(k); return scriptProperties; },
    deleteAllProperties() { store.clear(); return scriptProperties; },
  };

  const lock = { available: true, held: false, attempts: [] };
  const LockService = {
    getScriptLock: () => ({
      tryLock(ms) { lock.attempts.push(ms); if (!lock.available || lock.held) return false; lock.held = true; return true; },
      waitLock(ms) { if (!this.tryLock(ms)) throw new Error('Lock timeout'); },
      releaseLock() { lock.held = false; },
      hasLock: () => lock.held,
    }),
  };

  const triggers = [];
  let triggerId = 0;
  const EventType = { CLOCK: 'CLOCK', ON_OPEN: 'ON_OPEN', ON_EDIT: 'ON_EDIT', ON_FORM_SUBMIT: 'ON_FORM_SUBMIT', ON_CHANGE: 'ON_CHANGE' };
  const makeTrigger = (fn, type, extra) => {
    const t = { fn, type, id: String(++triggerId), ...extra };
    return {
      create() {
        const obj = {
          getHandlerFunction: () => t.fn, getEventType: () => t.type, getUniqueId: () => t.id, spec: t,
        };
        triggers.push(obj);
        return obj;
      },
    };
  };
  const ScriptApp = {
    EventType,
    newTrigger: (fn) => ({
      forSpreadsheet: (ss) => ({
        onEdit: () => makeTrigger(fn, EventType.ON_EDIT, { source: ss.getId() }),
        onChange: () => makeTrigger(fn, EventType.ON_CHANGE, { source: ss.getId() }),
        onOpen: () => makeTrigger(fn, EventType.ON_OPEN, { source: ss.getId() }),
      }),
      timeBased: () => ({
        everyMinutes: (n) => makeTrigger(fn, EventType.CLOCK, { minutes: n }),
        everyHours: (n) => makeTrigger(fn, EventType.CLOCK, { minutes: n * 60 }),
      }),
    }),
    getProjectTriggers: () => triggers.slice(),
    deleteTrigger(t) {
      const i = triggers.indexOf(t);
      if (i >= 0) triggers.splice(i, 1);
    },
  };

  const Utilities = {
    Charset: { UTF_8: 'UTF_8', US_ASCII: 'US_ASCII' },
    computeHmacSha256Signature(value, key) {
      return int8(crypto.createHmac('sha256', toBuffer(key)).update(toBuffer(value)).digest());
    },
    newBlob(data) {
      const buf = toBuffer(data);
      return { getBytes: () => int8(buf), getDataAsString: () => buf.toString('utf8') };
    },
    getUuid() {
      uuidCounter += 1;
      return `00000000-0000-4000-8000-${String(uuidCounter).padStart(12, '0')}`;
    },
    sleep(ms) { sleeps.push(ms); clock.ms += ms; },
    formatDate,
  };

  const logs = [];
  const RealDate = Date;
  class FakeDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(clock.ms); else super(...args);
    }
    static now() { return clock.ms; }
  }

  const globals = {
    SpreadsheetApp: {
      getActiveSpreadsheet: () => spreadsheet,
      getActive: () => spreadsheet,
      getUi: () => ui,
    },
    UrlFetchApp,
    PropertiesService: { getScriptProperties: () => scriptProperties },
    LockService,
    ScriptApp,
    Utilities,
    Session: { getScriptTimeZone: () => 'Etc/UTC' },
    Logger: { log: (...a) => { logs.push(a.join(' ')); } },
    console: { log: (...a) => logs.push(a.join(' ')), warn: (...a) => logs.push(a.join(' ')), error: (...a) => logs.push(a.join(' ')) },
    Date: FakeDate,
  };

  return {
    globals, spreadsheet, ui, http, store, scriptProperties, lock, triggers, sleeps, clock, logs,
    advance(ms) { clock.ms += ms; },
  };
}

module.exports = { createFakes, localDate, formatDate, int8, zoneOffsetMinutes };
