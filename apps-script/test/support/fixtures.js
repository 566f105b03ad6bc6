'use strict';
// The contract fixtures in tests/contract/: what this script sends (written
// from the scenarios), and the error cases built from them. `response` parts
// belong to the webhook's owner: regenerating keeps whatever a file holds
// there (and any other field this generator does not write).

const fs = require('node:fs');
const path = require('node:path');
const { SCENARIOS } = require('./scenarios');
const { loadScript, spreadsheetKey, TEST_MASTER, TEST_KEY } = require('./load');

// Another team's spreadsheet: its key must not sign for the fixtures' one.
const OTHER_SPREADSHEET = '1XyZ-other-team';

const CONTRACT_DIR = path.resolve(__dirname, '..', '..', '..', 'tests', 'contract');
const NOW = 1795613700; // 2026-11-25T13:35:00Z, the fixtures' clock

function fixturePath(name) {
  return path.join(CONTRACT_DIR, `${name}.json`);
}

function readFixture(name) {
  return JSON.parse(fs.readFileSync(fixturePath(name), 'utf8'));
}

function signedRequest(rawBody, { secret = TEST_KEY, timestamp = NOW } = {}) {
  const { script } = loadScript();
  return {
    headers: {
      'Content-Type': 'application/json',
      'X-Sheetsync-Timestamp': String(timestamp),
      'X-Sheetsync-Signature': script.signature_(secret, String(timestamp), rawBody),
    },
    raw_body: rawBody,
  };
}

function errorResponse(status, code) {
  return { status, body: { error: { code } } };
}

/** Every fixture this script defines: { name, description, request, response }. */
function buildFixtures() {
  const out = [];
  for (const s of SCENARIOS) {
    const sent = s.run();
    if (sent.length !== s.files.length) {
      throw new Error(`${s.files[0]}: the script sent ${sent.length} requests, expected ${s.files.length}`);
    }
    sent.forEach((req, i) => {
      out.push({
        name: s.files[i],
        description: s.files.length > 1 ? `${s.description} (request ${i + 1} of ${s.files.length})` : s.description,
        request: { headers: req.headers, raw_body: req.body, body: JSON.parse(req.body) },
        response: (i === 0 && s.response) || null,
      });
    });
  }

  const base = out.find((f) => f.name === 'edit-single-cell').request.body;
  const variant = (patch) => JSON.stringify({ ...base, ...patch });
  const errors = [
    {
      name: 'error-bad-signature',
      description: `The single-cell edit signed with the key of another spreadsheet (${OTHER_SPREADSHEET}, ` +
        'under the same master): an editor of one spreadsheet cannot sign for another\'s binding.',
      request: signedRequest(JSON.stringify(base), { secret: spreadsheetKey(TEST_MASTER, OTHER_SPREADSHEET) }),
      response: errorResponse(401, 'bad_signature'),
    },
    {
      name: 'error-signed-with-master',
      description: 'The single-cell edit signed with the master secret itself: only derived keys sign.',
      request: signedRequest(JSON.stringify(base), { secret: TEST_MASTER }),
      response: errorResponse(401, 'bad_signature'),
    },
    {
      name: 'error-stale-timestamp',
      description: 'The single-cell edit correctly signed, but 600 s before `now` (outside the default ±300 s window).',
      request: signedRequest(JSON.stringify(base), { timestamp: NOW - 600 }),
      response: errorResponse(401, 'stale'),
    },
    {
      name: 'error-malformed-json',
      description: 'A body that is not JSON (cut off mid-way), signed with the spreadsheet\'s key. ' +
        'It names no spreadsheet, so no key can verify it: malformed before any signature check.',
      request: signedRequest(JSON.stringify(base).slice(0, 60)),
      response: errorResponse(400, 'malformed'),
    },
    {
      name: 'error-unknown-sheet',
      description: 'The single-cell edit for a tab no binding names ("Nope").',
      request: signedRequest(variant({ sheet: 'Nope', event_id: '00000000-0000-4000-8000-0000000000e4' })),
      response: errorResponse(404, 'unknown_sheet'),
    },
    {
      name: 'error-unknown-key-column',
      description: 'An edit whose header lacks the table\'s key column `id`.',
      request: signedRequest(variant({
        event_id: '00000000-0000-4000-8000-0000000000e5',
        header: ['customer', 'qty', 'shipped', 'due'],
        rows: [{ row: 3, values: ['Grace Hopper', 6, true, ''], old: { qty: 5 } }],
      })),
      response: errorResponse(422, 'unknown_key_column'),
    },
    {
      name: 'error-too-large',
      description: 'A correctly signed snapshot of 2,000+ bytes with the webhook\'s body limit configured to 1024 bytes (`config.max_body_bytes`).',
      config: { max_body_bytes: 1024 },
      request: signedRequest(variant({
        event_id: '00000000-0000-4000-8000-0000000000e6',
        kind: 'snapshot',
        rows: Array.from({ length: 40 }, (_, i) => ({ row: i + 2, values: [1000 + i, `Customer ${i}`, i, false, ''] })),
      })),
      response: errorResponse(413, 'too_large'),
    },
  ];
  errors.forEach((e) => {
    let body = null;
    try { body = JSON.parse(e.request.raw_body); } catch (err) { body = null; }
    e.request.body = body;
  });
  return out.concat(errors);
}

/** JSON with short arrays and objects on one line, for people to read. */
function pretty(v, indent = '') {
  const flat = JSON.stringify(v);
  if (v === null || typeof v !== 'object' || flat.length <= 96) return flat;
  const inner = `${indent}  `;
  if (Array.isArray(v)) {
    return `[\n${v.map((x) => inner + pretty(x, inner)).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(v).map(([k, x]) => `${inner}${JSON.stringify(k)}: ${pretty(x, inner)}`);
  return `{\n${entries.join(',\n')}\n${indent}}`;
}

/** Writes the fixtures, keeping each file's `response` and foreign fields. */
function writeFixtures() {
  fs.mkdirSync(CONTRACT_DIR, { recursive: true });
  for (const f of buildFixtures()) {
    let existing = {};
    if (fs.existsSync(fixturePath(f.name))) existing = readFixture(f.name);
    const mine = { name: f.name, description: f.description, now: NOW };
    if (f.config) mine.config = f.config;
    mine.request = f.request;
    const merged = { ...mine, ...existing, ...mine };
    merged.response = existing.response !== undefined && existing.response !== null ? existing.response : f.response;
    // key order: ours first, then the webhook owner's extra fields
    const ordered = { name: merged.name, description: merged.description, now: merged.now };
    Object.keys(merged).forEach((k) => { if (!(k in ordered)) ordered[k] = merged[k]; });
    fs.writeFileSync(fixturePath(f.name), `${pretty(ordered)}\n`);
  }
}

if (require.main === module) writeFixtures();

module.exports = { buildFixtures, readFixture, writeFixtures, CONTRACT_DIR, NOW, OTHER_SPREADSHEET };
