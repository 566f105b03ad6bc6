/**
 * Signed POSTs to the webhook, with retries.
 *
 *   X-Sheetsync-Timestamp: <unix seconds>
 *   X-Sheetsync-Signature: v1=<lowercase hex HMAC-SHA256(secret, timestamp + "." + body)>
 *
 * The body is sent as the exact UTF-8 bytes that were signed.
 */

var MAX_ATTEMPTS_ = 3;
var BACKOFF_BASE_MS_ = 1000;
var MAX_RETRY_AFTER_MS_ = 20000;

function utf8Bytes_(s) {
  return Utilities.newBlob(s).getBytes();
}

/** Apps Script's signed bytes (-128..127) -> lowercase hex. */
function toHex_(bytes) {
  var out = '';
  for (var i = 0; i < bytes.length; i++) {
    out += ((bytes[i] & 0xff) + 0x100).toString(16).slice(1);
  }
  return out;
}

function signature_(secret, timestamp, body) {
  var mac = Utilities.computeHmacSha256Signature(
    utf8Bytes_(String(timestamp) + '.' + body), utf8Bytes_(secret));
  return 'v1=' + toHex_(mac);
}

function unixNow_() {
  return Math.floor(Date.now() / 1000);
}

function post_(url, secret, body) {
  var timestamp = String(unixNow_());
  return UrlFetchApp.fetch(url, {
    method: 'post',
    contentType: 'application/json',
    payload: utf8Bytes_(body),
    headers: {
      'X-Sheetsync-Timestamp': timestamp,
      'X-Sheetsync-Signature': signature_(secret, timestamp, body)
    },
    muteHttpExceptions: true,
    followRedirects: false
  });
}

function parseJson_(text) {
  try {
    return JSON.parse(text);
  } catch (err) {
    return null;
  }
}

function headerValue_(resp, name) {
  var headers = resp.getHeaders ? resp.getHeaders() : {};
  for (var k in headers) {
    if (k.toLowerCase() === name.toLowerCase()) return headers[k];
  }
  return null;
}

function backoffMs_(attempt, resp) {
  var header = resp ? headerValue_(resp, 'Retry-After') : null;
  var retryAfter = header === null || header === '' ? NaN : Number(header);
  if (isFinite(retryAfter) && retryAfter >= 0) return Math.min(retryAfter * 1000, MAX_RETRY_AFTER_MS_);
  return BACKOFF_BASE_MS_ * Math.pow(2, attempt);
}

/**
 * How a failed answer is handled:
 *  - retry: the server may take it later (network, 429, 5xx, 503
 *    `unavailable`, a `stale` timestamp): retried with backoff, then queued;
 *  - keep: a setting is wrong (bad secret, unknown tab or key column, wrong
 *    URL): queued, and sent once the setting is fixed;
 *  - dead: the request itself can never succeed (`malformed`, `too_large`):
 *    dropped from the queue, shown in Status, and the next snapshot
 *    carries its rows.
 */
function classify_(status, code) {
  if (status === 0 || status === 429 || status >= 500) return 'retry';
  if (status === 401 && code === 'stale') return 'retry';
  if (status === 400 || status === 413) return 'dead';
  return 'keep';
}

/**
 * Sends one request. Returns { outcome: 'ok' | 'retry' | 'keep' | 'dead',
 * response (parsed body on ok), error: { status, code, message } }.
 */
function deliver_(url, secret, request) {
  var body = JSON.stringify(request);
  var last = null;
  for (var attempt = 0; attempt < MAX_ATTEMPTS_; attempt++) {
    var resp = null;
    var status = 0;
    var text = '';
    try {
      resp = post_(url, secret, body);
      status = resp.getResponseCode();
      text = resp.getContentText();
    } catch (err) {
      last = { outcome: 'retry', error: { status: 0, code: 'network', message: String(err && err.message || err) } };
    }
    if (resp !== null) {
      if (status >= 200 && status < 300) {
        return { outcome: 'ok', response: parseJson_(text), error: null };
      }
      var parsed = parseJson_(text);
      var error = parsed && parsed.error ? parsed.error : {};
      last = {
        outcome: classify_(status, error.code),
        error: {
          status: status,
          code: String(error.code || ''),
          message: String(error.message || text.slice(0, 200))
        }
      };
    }
    if (last.outcome !== 'retry' || attempt === MAX_ATTEMPTS_ - 1) break;
    Utilities.sleep(backoffMs_(attempt, resp));
  }
  return last;
}
