/**
 * Settings (Script Properties, written by Sheetsync > Set up) and the status
 * record that Sheetsync > Status shows.
 *
 * The spreadsheet's key lives only in Script Properties, never in code: a
 * copy of the spreadsheet or of this project does not carry it. Anyone who
 * can edit the spreadsheet can read it; it signs for this spreadsheet only.
 */

var PROP_URL_ = 'SHEETSYNC_URL';
var PROP_SECRET_ = 'SHEETSYNC_SECRET';
var PROP_SHEETS_ = 'SHEETSYNC_SHEETS';
var PROP_KEY_COLUMNS_ = 'SHEETSYNC_KEY_COLUMNS';
// Per tab, the key column names the server reported in its responses.
var PROP_LEARNED_KEYS_PREFIX_ = 'SHEETSYNC_KEY_COLUMNS:';
var PROP_MAX_REQUEST_BYTES_ = 'SHEETSYNC_MAX_REQUEST_BYTES';
var PROP_EDIT_CHUNK_BYTES_ = 'SHEETSYNC_EDIT_CHUNK_BYTES';
var PROP_QUEUE_MAX_BYTES_ = 'SHEETSYNC_QUEUE_MAX_BYTES';
var PROP_STATUS_ = 'SHEETSYNC_STATUS';

// A snapshot part stays well under API Gateway's 10 MB and Lambda's 6 MB.
var DEFAULT_MAX_REQUEST_BYTES_ = 1000000;
// Edit requests are smaller so that a failed one still fits the queue.
var DEFAULT_EDIT_CHUNK_BYTES_ = 100000;
// Script Properties hold 500 kB in all; leave room for settings and status.
var DEFAULT_QUEUE_MAX_BYTES_ = 400000;
var DEFAULT_KEY_COLUMNS_ = ['id'];
var SNAPSHOT_EVERY_MINUTES_ = 10;
var MAX_WARNINGS_ = 10;

function props_() {
  return PropertiesService.getScriptProperties();
}

function intProp_(props, name, fallback) {
  var raw = props.getProperty(name);
  var n = raw === null || raw === undefined ? NaN : parseInt(raw, 10);
  return isFinite(n) && n > 0 ? n : fallback;
}

function splitNames_(text) {
  return String(text || '')
    .split(',')
    .map(function (s) { return s.trim(); })
    .filter(function (s) { return s !== ''; });
}

function loadConfig_() {
  var p = props_();
  var sheets = p.getProperty(PROP_SHEETS_);
  return {
    url: p.getProperty(PROP_URL_) || '',
    secret: p.getProperty(PROP_SECRET_) || '',
    sheets: sheets ? JSON.parse(sheets) : [],
    keyColumns: p.getProperty(PROP_KEY_COLUMNS_)
      ? JSON.parse(p.getProperty(PROP_KEY_COLUMNS_))
      : DEFAULT_KEY_COLUMNS_.slice(),
    maxRequestBytes: intProp_(p, PROP_MAX_REQUEST_BYTES_, DEFAULT_MAX_REQUEST_BYTES_),
    editChunkBytes: intProp_(p, PROP_EDIT_CHUNK_BYTES_, DEFAULT_EDIT_CHUNK_BYTES_),
    queueMaxBytes: intProp_(p, PROP_QUEUE_MAX_BYTES_, DEFAULT_QUEUE_MAX_BYTES_)
  };
}

function isConfigured_(cfg) {
  return cfg.url !== '' && cfg.secret !== '' && cfg.sheets.length > 0;
}

function isBoundSheet_(cfg, name) {
  return cfg.sheets.indexOf(name) >= 0;
}

/**
 * The key columns of a tab: what the server said in its last response with a
 * key (it knows the table), else what Set up was told (default `id`).
 */
function keyColumnsFor_(cfg, sheetName) {
  var learned = props_().getProperty(PROP_LEARNED_KEYS_PREFIX_ + sheetName);
  return learned ? JSON.parse(learned) : cfg.keyColumns.slice();
}

function learnKeyColumns_(cfg, sheetName, names) {
  var current = keyColumnsFor_(cfg, sheetName);
  if (JSON.stringify(current) === JSON.stringify(names)) return;
  props_().setProperty(PROP_LEARNED_KEYS_PREFIX_ + sheetName, JSON.stringify(names));
  if (JSON.stringify(cfg.keyColumns) !== JSON.stringify(names)) {
    addWarning_('The server reports the key column(s) of "' + sheetName + '" as ' +
      names.join(', ') + ' (Set up said ' + cfg.keyColumns.join(', ') + '); using the server\'s.');
  }
}

function syncPostgresUrl_(url) {
  var u = String(url).replace(/\/+$/, '');
  return /\/sync_postgres$/.test(u) ? u : u + '/sync_postgres';
}

function syncGsheetUrl_(url) {
  return syncPostgresUrl_(url).replace(/\/sync_postgres$/, '/sync_gsheet');
}

function nowIso_() {
  return new Date().toISOString();
}

// ---- status -----------------------------------------------------------------

function loadStatus_() {
  var raw = props_().getProperty(PROP_STATUS_);
  var s = raw ? JSON.parse(raw) : {};
  s.warnings = s.warnings || [];
  s.headers = s.headers || {};
  s.overflow = s.overflow || { count: 0, since: null };
  s.dead = s.dead || { count: 0, last: null };
  return s;
}

function saveStatus_(s) {
  props_().setProperty(PROP_STATUS_, JSON.stringify(s));
}

function updateStatus_(fn) {
  var s = loadStatus_();
  fn(s);
  saveStatus_(s);
}

function addWarning_(message) {
  updateStatus_(function (s) {
    s.warnings = s.warnings.filter(function (w) { return w.message !== message; });
    s.warnings.push({ at: nowIso_(), message: message });
    while (s.warnings.length > MAX_WARNINGS_) s.warnings.shift();
  });
}

function recordSuccess_(eventId) {
  updateStatus_(function (s) {
    s.lastSuccessAt = nowIso_();
    s.lastEventId = eventId;
  });
}

function recordError_(error, eventId) {
  updateStatus_(function (s) {
    s.lastError = {
      at: nowIso_(),
      status: error.status || 0,
      code: error.code || '',
      message: error.message || '',
      event_id: eventId || null
    };
  });
}

/** Something the queue could not keep: the next full snapshot carries it. */
function requireSnapshot_(reason) {
  updateStatus_(function (s) {
    s.needsSnapshot = true;
    s.needsSnapshotReason = reason;
  });
}
