/**
 * The outgoing queue: requests the webhook has not taken yet, kept in Script
 * Properties and sent again in order, oldest first.
 *
 * Each request is stored under keys "sheetsync.q.<edited_at ms>.<seq>.<event id>.p<part>":
 * a property value holds at most 9 kB, so a request spans as many parts as it
 * needs; the key order is the send order. Appending writes new keys only,
 * so a trigger that could not get the lock can still queue its event safely.
 *
 * Bound: the queue holds at most SHEETSYNC_QUEUE_MAX_BYTES (default 400 kB of
 * the 500 kB Script Properties allow). When a request does not fit, the queued
 * ones are kept (order and `old` bases matter more), the new one is not
 * stored, Status says so, and the next full snapshot, sent as soon as the
 * queue has drained, carries its rows: the change is in the tab itself.
 */

var QUEUE_PREFIX_ = 'sheetsync.q.';
var PART_BYTES_ = 8000;
var queueSeq_ = 0;

function pad_(n, width) {
  var s = String(n);
  while (s.length < width) s = '0' + s;
  return s;
}

/** Splits text into pieces of at most PART_BYTES_ UTF-8 bytes. */
function splitParts_(text) {
  var parts = [];
  var start = 0;
  var bytes = 0;
  for (var i = 0; i < text.length; i++) {
    var c = text.charCodeAt(i);
    var w = c < 0x80 ? 1 : c < 0x800 ? 2 : (c >= 0xd800 && c <= 0xdbff) ? 4 : 3;
    if (bytes + w > PART_BYTES_) {
      parts.push(text.slice(start, i));
      start = i;
      bytes = 0;
    }
    bytes += w;
    if (w === 4) i++;
  }
  parts.push(text.slice(start));
  return parts;
}

function queueEntries_() {
  var all = props_().getProperties();
  var byId = {};
  Object.keys(all).forEach(function (k) {
    if (k.indexOf(QUEUE_PREFIX_) !== 0) return;
    var cut = k.lastIndexOf('.p');
    var id = k.slice(QUEUE_PREFIX_.length, cut);
    (byId[id] = byId[id] || []).push(k);
  });
  return Object.keys(byId).sort().map(function (id) {
    var keys = byId[id].sort();
    var text = keys.map(function (k) { return all[k]; }).join('');
    return { id: id, keys: keys, bytes: utf8Length_(text), request: JSON.parse(text) };
  });
}

function queueLength_() {
  return queueEntries_().length;
}

function queueBytes_(entries) {
  return entries.reduce(function (n, e) { return n + e.bytes; }, 0);
}

function entryProperties_(id, request) {
  var out = {};
  splitParts_(JSON.stringify(request)).forEach(function (part, i) {
    out[QUEUE_PREFIX_ + id + '.p' + pad_(i, 3)] = part;
  });
  return out;
}

/**
 * Appends requests in order. Returns the number stored; the rest did not fit
 * the bound and are reported in Status (their rows go with the next snapshot).
 */
function queueAppend_(cfg, requests) {
  var used = queueBytes_(queueEntries_());
  var stored = 0;
  for (var i = 0; i < requests.length; i++) {
    var r = requests[i];
    var size = utf8Length_(JSON.stringify(r));
    var id = pad_(Date.parse(r.edited_at) || Date.now(), 15) + '.' + pad_(queueSeq_++, 6) + '.' + r.event_id;
    var ok = used + size <= cfg.queueMaxBytes;
    if (ok) {
      try {
        props_().setProperties(entryProperties_(id, r));
      } catch (err) {
        ok = false; // the Script Properties quota itself
      }
    }
    if (!ok) {
      recordOverflow_(requests.length - i);
      return stored;
    }
    used += size;
    stored++;
  }
  return stored;
}

function recordOverflow_(n) {
  updateStatus_(function (s) {
    s.overflow.count += n;
    s.overflow.since = s.overflow.since || nowIso_();
    s.needsSnapshot = true;
    s.needsSnapshotReason = 'the queue was full';
  });
}

function queueRemove_(entry) {
  var p = props_();
  entry.keys.forEach(function (k) { p.deleteProperty(k); });
}

function queueRewrite_(entry) {
  queueRemove_(entry);
  var fresh = entryProperties_(entry.id, entry.request);
  props_().setProperties(fresh);
  entry.keys = Object.keys(fresh).sort();
}

/**
 * A queued new row answered with its key: later queued requests that carry
 * the same row still without a key get the key too, so they update the row
 * instead of inserting it a second time.
 *
 * The row number alone does not say it is the same row: rows inserted,
 * deleted or sorted while the requests waited can put another new row
 * there, and giving it this key would write its values over this row's.
 * A later request is the same row only when it still holds every value the
 * row had when last sent (a person typing on adds cells; a sort brings
 * other content). A changed cell fails the test: the row is then inserted
 * again, and the next snapshot removes the copy the tab lacks, where a
 * wrong key would have overwritten a row.
 */
function patchLaterKeys_(sent, response, later) {
  if (!response || !Array.isArray(response.rows) || !sent.rows) return;
  var names = answerKeyNames_(response);
  if (!names) return;
  var sentIdx = names.map(function (n) { return sent.header.indexOf(n); });
  var keyless = {};
  sent.rows.forEach(function (r) {
    if (sentIdx.every(function (i) { return i < 0 || isEmptyCell_(r.values[i]); })) keyless[r.row] = r;
  });
  response.rows.forEach(function (answer) {
    var first = keyless[answer.row];
    if (!first || !answer.key || typeof answer.key !== 'object') return;
    var last = { header: sent.header, values: first.values };
    later.forEach(function (entry) {
      var req = entry.request;
      if (req.sheet !== sent.sheet || !req.rows) return;
      var idx = names.map(function (n) { return req.header.indexOf(n); });
      if (idx.some(function (i) { return i < 0; })) return;
      var changed = false;
      req.rows.forEach(function (r) {
        if (r.row !== answer.row) return;
        if (!idx.every(function (i) { return isEmptyCell_(r.values[i]); })) return;
        if (!holdsValues_(req.header, r.values, last, names)) return;
        idx.forEach(function (i, n) { r.values[i] = answer.key[names[n]]; });
        last = { header: req.header, values: r.values };
        changed = true;
      });
      if (changed) queueRewrite_(entry);
    });
  });
}

/** Whether `values` (under `header`) still hold every non-key value of `last`. */
function holdsValues_(header, values, last, keyNames) {
  return last.header.every(function (name, j) {
    if (name === '' || keyNames.indexOf(name) >= 0 || isEmptyCell_(last.values[j])) return true;
    var i = header.indexOf(name);
    return i >= 0 && sameCell_(values[i], last.values[j]);
  });
}

/**
 * Handles one delivery outcome. Returns true when the queue may go on to the
 * next request.
 */
function settle_(cfg, request, result) {
  if (result.outcome === 'ok') {
    recordSuccess_(request.event_id);
    applyResponse_(cfg, request, result.response);
    if (result.response && result.response.deferred === true) {
      requireSnapshot_('the tab was unsettled (the writer is repairing rows people moved during a write)');
    }
    return true;
  }
  if (result.outcome === 'dead') {
    updateStatus_(function (s) {
      s.dead.count += 1;
      s.dead.last = {
        at: nowIso_(), event_id: request.event_id, kind: request.kind,
        rows: request.rows ? request.rows.length : 0, error: result.error
      };
      s.needsSnapshot = true;
      s.needsSnapshotReason = 'the webhook refused a request (' + result.error.code + ')';
    });
    recordError_(result.error, request.event_id);
    return true;
  }
  recordError_(result.error, request.event_id);
  return false;
}

/** Sends the queue in order; stops at the first request the server did not take. */
function flushQueue_(cfg) {
  var entries = queueEntries_();
  var url = syncPostgresUrl_(cfg.url);
  for (var i = 0; i < entries.length; i++) {
    var result = deliver_(url, cfg.secret, entries[i].request);
    if (result.outcome === 'retry' || result.outcome === 'keep') {
      recordError_(result.error, entries[i].request.event_id);
      return entries.length - i;
    }
    queueRemove_(entries[i]);
    if (result.outcome === 'ok') patchLaterKeys_(entries[i].request, result.response, entries.slice(i + 1));
    settle_(cfg, entries[i].request, result);
  }
  if (entries.length > 0) {
    updateStatus_(function (s) {
      if (s.overflow.count > 0) s.overflowDrainedAt = nowIso_();
    });
  }
  return 0;
}

/**
 * Sends fresh requests. Behind a non-empty queue they are queued first, so
 * the order the user made the changes in is the order the server sees.
 */
function dispatch_(cfg, requests) {
  if (requests.length === 0) return;
  if (queueLength_() > 0) {
    queueAppend_(cfg, requests);
    flushQueue_(cfg);
    return;
  }
  var url = syncPostgresUrl_(cfg.url);
  for (var i = 0; i < requests.length; i++) {
    var result = deliver_(url, cfg.secret, requests[i]);
    if (!settle_(cfg, requests[i], result)) {
      queueAppend_(cfg, requests.slice(i));
      return;
    }
  }
}
