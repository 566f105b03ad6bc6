/**
 * sheetsync: sends every change of the bound tab(s) to the sheetsync webhook
 * (POST /sync_postgres), signed, and never loses one.
 *
 * Entry points:
 *   onOpen              simple trigger: adds the Sheetsync menu
 *   sheetsyncSetup      menu: asks for the webhook URL, this spreadsheet's
 *                       key, the tab(s) and the key column, then installs
 *                       the triggers
 *   sheetsyncSyncNow    menu: sends the queue, then a snapshot of each tab
 *   sheetsyncStatus     menu: last success, pending events, last error, warnings
 *   sheetsyncPushTable  menu: asks the server to push the table to the sheet
 *   sheetsyncOnEdit     installable onEdit
 *   sheetsyncOnChange   installable onChange (row insertions and removals)
 *   sheetsyncOnTimer    time-driven, every 10 minutes: queue, then snapshot
 *
 * There is deliberately no function named onEdit: a simple trigger cannot
 * call UrlFetchApp, and a second, simple one would send every edit twice.
 */

var HANDLER_EDIT_ = 'sheetsyncOnEdit';
var HANDLER_CHANGE_ = 'sheetsyncOnChange';
var HANDLER_TIMER_ = 'sheetsyncOnTimer';
// Triggers wait this long for another run to finish, then queue instead.
var EVENT_LOCK_MS_ = 20000;
var MENU_LOCK_MS_ = 30000;

function onOpen() {
  SpreadsheetApp.getUi()
    .createMenu('Sheetsync')
    .addItem('Set up…', 'sheetsyncSetup')
    .addItem('Sync now', 'sheetsyncSyncNow')
    .addItem('Status', 'sheetsyncStatus')
    .addSeparator()
    .addItem('Push table to sheet', 'sheetsyncPushTable')
    .addToUi();
}

// ---- menu ---------------------------------------------------------------------

/** Prompts; returns the trimmed answer, `current` when left empty, or null on cancel. */
function ask_(ui, title, text, current) {
  var r = ui.prompt(title, text + (current ? '\n\nLeave empty to keep: ' + current : ''),
    ui.ButtonSet.OK_CANCEL);
  if (r.getSelectedButton() !== ui.Button.OK) return null;
  var answer = String(r.getResponseText() || '').trim();
  return answer === '' ? (current || '') : answer;
}

function sheetsyncSetup() {
  var ui = SpreadsheetApp.getUi();
  var ss = SpreadsheetApp.getActiveSpreadsheet();
  var cfg = loadConfig_();

  var url = ask_(ui, 'Sheetsync: webhook URL',
    'The WebhookUrl output of `sam deploy` (…/sync_postgres).', cfg.url);
  if (url === null) return;
  if (!/^https?:\/\/\S+$/.test(url)) {
    ui.alert('Sheetsync', 'That is not a URL: ' + url, ui.ButtonSet.OK);
    return;
  }
  // The key signs for this spreadsheet only (derived from the deployment's
  // master secret, which never leaves the server): whoever can open this
  // script can read it, and it gives them nothing beyond this spreadsheet.
  var secret = ask_(ui, 'Sheetsync: spreadsheet key',
    'The key of this spreadsheet (id ' + ss.getId() + '), as printed by\n' +
    '  sheetsync key --spreadsheet ' + ss.getId() + '\n' +
    'It is kept in this script\'s properties only.',
    cfg.secret ? '(the current key)' : '');
  if (secret === null) return;
  if (secret === '(the current key)') secret = cfg.secret;
  if (secret === '') {
    ui.alert('Sheetsync', 'A key is required.', ui.ButtonSet.OK);
    return;
  }
  var sheets = ask_(ui, 'Sheetsync: tabs to sync',
    'Tab name(s), comma-separated.',
    cfg.sheets.length ? cfg.sheets.join(', ') : ss.getActiveSheet().getName());
  if (sheets === null) return;
  var keys = ask_(ui, 'Sheetsync: key column',
    'The header name(s) of the table\'s primary key column(s), comma-separated.',
    cfg.keyColumns.join(', '));
  if (keys === null) return;

  var sheetNames = splitNames_(sheets);
  var missing = sheetNames.filter(function (n) { return ss.getSheetByName(n) === null; });
  if (sheetNames.length === 0 || missing.length > 0) {
    ui.alert('Sheetsync', 'No such tab: ' + missing.join(', '), ui.ButtonSet.OK);
    return;
  }
  var p = props_();
  p.setProperty(PROP_URL_, url);
  p.setProperty(PROP_SECRET_, secret);
  p.setProperty(PROP_SHEETS_, JSON.stringify(sheetNames));
  p.setProperty(PROP_KEY_COLUMNS_, JSON.stringify(splitNames_(keys).length ? splitNames_(keys) : DEFAULT_KEY_COLUMNS_));
  sheetNames.forEach(function (n) { p.deleteProperty(PROP_LEARNED_KEYS_PREFIX_ + n); });
  var made = installTriggers_(ss);
  ui.alert('Sheetsync',
    'Saved. Triggers: ' + (made > 0 ? made + ' installed' : 'already installed') +
    '.\nUse Sheetsync > Sync now to send the tab' + (sheetNames.length > 1 ? 's' : '') +
    ' once, then Sheetsync > Status.', ui.ButtonSet.OK);
}

/**
 * One onEdit, one onChange and one timer trigger for this project, however
 * often Set up runs: missing ones are created, duplicates removed. Returns
 * how many were created.
 */
function installTriggers_(ss) {
  var wanted = [
    { fn: HANDLER_EDIT_, type: ScriptApp.EventType.ON_EDIT,
      create: function () { ScriptApp.newTrigger(HANDLER_EDIT_).forSpreadsheet(ss).onEdit().create(); } },
    { fn: HANDLER_CHANGE_, type: ScriptApp.EventType.ON_CHANGE,
      create: function () { ScriptApp.newTrigger(HANDLER_CHANGE_).forSpreadsheet(ss).onChange().create(); } },
    { fn: HANDLER_TIMER_, type: ScriptApp.EventType.CLOCK,
      create: function () { ScriptApp.newTrigger(HANDLER_TIMER_).timeBased().everyMinutes(SNAPSHOT_EVERY_MINUTES_).create(); } }
  ];
  var existing = ScriptApp.getProjectTriggers();
  var made = 0;
  wanted.forEach(function (w) {
    var kept = false;
    existing.forEach(function (t) {
      if (t.getHandlerFunction() !== w.fn) return;
      if (!kept && t.getEventType() === w.type) kept = true;
      else ScriptApp.deleteTrigger(t);
    });
    if (!kept) {
      w.create();
      made++;
    }
  });
  return made;
}

function sheetsyncSyncNow() {
  var ui = SpreadsheetApp.getUi();
  var cfg = loadConfig_();
  if (!isConfigured_(cfg)) {
    ui.alert('Sheetsync', 'Run Sheetsync > Set up first.', ui.ButtonSet.OK);
    return;
  }
  var lock = LockService.getScriptLock();
  if (!lock.tryLock(MENU_LOCK_MS_)) {
    ui.alert('Sheetsync', 'Another sync is running; try again in a minute.', ui.ButtonSet.OK);
    return;
  }
  var message;
  try {
    message = syncAll_(cfg);
  } finally {
    lock.releaseLock();
  }
  ui.alert('Sheetsync', message, ui.ButtonSet.OK);
}

function sheetsyncStatus() {
  var ui = SpreadsheetApp.getUi();
  ui.alert('Sheetsync status', statusText_(), ui.ButtonSet.OK);
}

function sheetsyncPushTable() {
  var ui = SpreadsheetApp.getUi();
  var cfg = loadConfig_();
  if (!isConfigured_(cfg)) {
    ui.alert('Sheetsync', 'Run Sheetsync > Set up first.', ui.ButtonSet.OK);
    return;
  }
  var ss = SpreadsheetApp.getActiveSpreadsheet();
  var active = ss.getActiveSheet().getName();
  var name = isBoundSheet_(cfg, active) ? active : cfg.sheets[0];
  var request = { v: 1, event_id: Utilities.getUuid(), spreadsheet_id: ss.getId(), sheet: name };
  var result = deliver_(syncGsheetUrl_(cfg.url), cfg.secret, request);
  if (result.outcome === 'ok' && result.response && result.response.pending) {
    // The server pushes a binding at most once per interval: an earlier push
    // is already bringing the tab to the table, so nothing was queued now.
    recordSuccess_(request.event_id);
    var wait = result.response.retry_after_secs;
    ui.alert('Sheetsync', 'A push of "' + name + '" is already on its way; the tab converges in a few ' +
      'seconds.' + (wait ? ' Another push can be asked for in ' + wait + ' s.' : ''), ui.ButtonSet.OK);
  } else if (result.outcome === 'ok') {
    recordSuccess_(request.event_id);
    var n = result.response && result.response.queued;
    ui.alert('Sheetsync', (n === undefined ? 'The table' : n + ' rows') + ' queued for "' + name +
      '"; the tab converges in a few seconds.', ui.ButtonSet.OK);
  } else {
    recordError_(result.error, request.event_id);
    ui.alert('Sheetsync', 'The server did not take it: ' + describeError_(result.error), ui.ButtonSet.OK);
  }
}

// ---- triggers -------------------------------------------------------------------

/**
 * Runs `build` (which reads the tab and returns requests) under the script
 * lock and sends them. When the lock cannot be had in time, the requests are
 * queued instead, for the next run or the timer: an event is never dropped.
 */
function handleEvent_(cfg, build) {
  var lock = LockService.getScriptLock();
  var locked = lock.tryLock(EVENT_LOCK_MS_);
  try {
    var requests = build();
    if (locked) dispatch_(cfg, requests);
    else queueAppend_(cfg, requests);
  } catch (err) {
    recordError_({ status: 0, code: 'script', message: String(err && err.stack || err) }, null);
    requireSnapshot_('an event could not be read: ' + String(err && err.message || err));
  } finally {
    if (locked) lock.releaseLock();
  }
}

function sheetsyncOnEdit(e) {
  var editedAt = nowIso_();
  var cfg = loadConfig_();
  if (!isConfigured_(cfg) || !e || !e.range) return;
  var sheet = e.range.getSheet();
  if (!isBoundSheet_(cfg, sheet.getName())) return;
  handleEvent_(cfg, function () {
    var ctx = tabContext_(cfg, sheet);
    var built = editRequests_(cfg, ctx, e, editedAt);
    if (built.headerEdited) {
      addWarning_('The header row of "' + ctx.name + '" was edited at ' + editedAt +
        '. Header cells are column names, not data: nothing was sent for them, and columns ' +
        'are matched to the table by these names.');
    }
    var requests = built.requests;
    if (built.keyEdited && hasKeyColumns_(ctx)) requests = requests.concat([keysRequest_(ctx, editedAt)]);
    return requests;
  });
}

/**
 * The tabs an onChange concerns. The event does not say which tab changed
 * (the active one is a guess), so every bound tab is checked: a keys request
 * or a scan for keyless rows is cheap, and right for whichever tab it was.
 */
function changedSheets_(cfg, e) {
  var ss = (e && e.source) || SpreadsheetApp.getActiveSpreadsheet();
  return cfg.sheets.map(function (n) { return ss.getSheetByName(n); })
    .filter(function (s) { return s !== null; });
}

function sheetsyncOnChange(e) {
  var editedAt = nowIso_();
  var cfg = loadConfig_();
  if (!isConfigured_(cfg) || !e) return;
  var type = e.changeType;
  if (type !== 'INSERT_ROW' && type !== 'REMOVE_ROW') return;
  var sheets = changedSheets_(cfg, e);
  handleEvent_(cfg, function () {
    var requests = [];
    sheets.forEach(function (sheet) {
      var ctx = tabContext_(cfg, sheet);
      if (!hasKeyColumns_(ctx)) {
        addWarning_('The header of "' + ctx.name + '" has no key column ' + ctx.keyColumns.join(', ') +
          '; row insertions and removals there are left to the next snapshot.');
        requireSnapshot_('rows changed in a tab without its key column');
        return;
      }
      if (type === 'INSERT_ROW') requests = requests.concat(newRowRequests_(cfg, ctx, editedAt));
      else requests.push(keysRequest_(ctx, editedAt));
    });
    return requests;
  });
}

function sheetsyncOnTimer() {
  var cfg = loadConfig_();
  if (!isConfigured_(cfg)) return;
  var lock = LockService.getScriptLock();
  // A run still going (a big snapshot) makes this one unnecessary.
  if (!lock.tryLock(1000)) return;
  try {
    syncAll_(cfg);
  } finally {
    lock.releaseLock();
  }
}

/**
 * The queue first (in order), then, if it drained, a snapshot of every bound
 * tab. A snapshot is never queued: the next one reads the tab afresh.
 * Returns a sentence for the user.
 */
function syncAll_(cfg) {
  var left;
  try {
    left = flushQueue_(cfg);
  } catch (err) {
    recordError_({ status: 0, code: 'script', message: String(err && err.stack || err) }, null);
    return 'Sending the queue failed: ' + String(err && err.message || err);
  }
  if (left > 0) {
    return left + ' queued change(s) are still waiting: ' + describeError_(loadStatus_().lastError) +
      '. No snapshot was sent; the queue goes first.';
  }
  var ss = SpreadsheetApp.getActiveSpreadsheet();
  var sent = 0;
  var rows = 0;
  for (var i = 0; i < cfg.sheets.length; i++) {
    var sheet = ss.getSheetByName(cfg.sheets[i]);
    if (sheet === null) {
      addWarning_('The tab "' + cfg.sheets[i] + '" does not exist any more; run Set up again.');
      continue;
    }
    var ctx = tabContext_(cfg, sheet);
    if (ctx.header.length === 0) {
      addWarning_('The tab "' + ctx.name + '" has no header row; nothing was sent.');
      continue;
    }
    var requests = snapshotRequests_(cfg, ctx, nowIso_());
    var url = syncPostgresUrl_(cfg.url);
    for (var j = 0; j < requests.length; j++) {
      var result = deliver_(url, cfg.secret, requests[j]);
      if (result.outcome !== 'ok') {
        settle_(cfg, requests[j], result.outcome === 'dead' ? result : { outcome: 'keep', error: result.error });
        return 'The snapshot of "' + ctx.name + '" stopped: ' + describeError_(result.error) + '.';
      }
      settle_(cfg, requests[j], result);
      sent++;
      if (requests[j].rows) rows += requests[j].rows.length;
    }
  }
  updateStatus_(function (s) {
    s.lastSnapshot = { at: nowIso_(), requests: sent, rows: rows };
    s.needsSnapshot = false;
    s.needsSnapshotReason = null;
    s.overflow = { count: 0, since: null };
  });
  return 'Sent ' + rows + ' row(s) in ' + sent + ' request(s).';
}

// ---- status ---------------------------------------------------------------------

function describeError_(error) {
  if (!error) return 'no error recorded';
  var head = error.status ? 'HTTP ' + error.status : 'no answer';
  return head + (error.code ? ' ' + error.code : '') + (error.message ? ': ' + error.message : '');
}

function statusText_() {
  var cfg = loadConfig_();
  var s = loadStatus_();
  var entries = queueEntries_();
  var lines = [];
  if (!isConfigured_(cfg)) lines.push('Not set up: run Sheetsync > Set up.');
  else {
    lines.push('Webhook: ' + syncPostgresUrl_(cfg.url));
    lines.push('Tabs: ' + cfg.sheets.map(function (n) {
      return n + ' (key ' + keyColumnsFor_(cfg, n).join(', ') + ')';
    }).join('; '));
  }
  var handlers = ScriptApp.getProjectTriggers().map(function (t) { return t.getHandlerFunction(); });
  var missing = [HANDLER_EDIT_, HANDLER_CHANGE_, HANDLER_TIMER_].filter(function (h) {
    return handlers.indexOf(h) < 0;
  });
  lines.push('Triggers: ' + (missing.length ? 'missing ' + missing.join(', ') + ' (run Set up)' : 'installed'));
  lines.push('Last success: ' + (s.lastSuccessAt || 'never'));
  lines.push('Pending events: ' + entries.length + (entries.length
    ? ' (' + queueBytes_(entries) + ' of ' + cfg.queueMaxBytes + ' bytes, oldest from ' +
      entries[0].request.edited_at + ')' : ''));
  if (s.lastError) {
    lines.push('Last error: ' + s.lastError.at + ' ' + describeError_(s.lastError));
  }
  if (s.lastSnapshot) {
    lines.push('Last snapshot: ' + s.lastSnapshot.at + ', ' + s.lastSnapshot.rows + ' rows');
  }
  if (s.overflow.count > 0) {
    lines.push('Queue full since ' + s.overflow.since + ': ' + s.overflow.count +
      ' request(s) could not be queued. Their changes are in the tab and go with the next ' +
      'snapshot, sent as soon as the webhook answers (or use Sync now).');
  }
  if (s.dead.count > 0) {
    lines.push('Refused by the webhook: ' + s.dead.count + ' request(s); last ' + s.dead.last.at +
      ' (' + describeError_(s.dead.last.error) + '). Their rows go with the next snapshot.');
  }
  if (s.needsSnapshot) lines.push('A snapshot is due: ' + (s.needsSnapshotReason || ''));
  Object.keys(s.headers).forEach(function (tab) {
    lines.push('Header of "' + tab + '": ' + s.headers[tab] + '.');
  });
  s.warnings.forEach(function (w) { lines.push('Warning (' + w.at + '): ' + w.message); });
  return lines.join('\n');
}
