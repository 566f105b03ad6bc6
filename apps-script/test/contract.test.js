'use strict';
// The requests the script sends equal the shared contract fixtures in
// tests/contract/ (byte for byte: the signature covers the raw body), and
// its HMAC equals the stand-alone test vector.

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { SCENARIOS } = require('./support/scenarios');
const { buildFixtures, readFixture, CONTRACT_DIR, NOW } = require('./support/fixtures');
const { loadScript, spreadsheetKey, TEST_MASTER, TEST_SPREADSHEET, TEST_KEY } = require('./support/load');

function hmacHex(secret, message) {
  return crypto.createHmac('sha256', Buffer.from(secret, 'utf8')).update(Buffer.from(message, 'utf8')).digest('hex');
}

for (const scenario of SCENARIOS) {
  test(`requests equal the fixtures: ${scenario.files.join(', ')}`, () => {
    const sent = scenario.run();
    assert.equal(sent.length, scenario.files.length, 'number of requests');
    sent.forEach((req, i) => {
      const fixture = readFixture(scenario.files[i]);
      assert.equal(req.body, fixture.request.raw_body, `${scenario.files[i]}: raw body`);
      assert.deepEqual(JSON.parse(req.body), fixture.request.body, `${scenario.files[i]}: parsed body`);
      assert.deepEqual(req.headers, fixture.request.headers, `${scenario.files[i]}: headers`);
    });
  });
}

test('every fixture file is one the generator writes, with the same request', () => {
  const built = buildFixtures();
  const files = fs.readdirSync(CONTRACT_DIR).filter((f) => f.endsWith('.json') && f !== 'signature.json');
  assert.deepEqual(files.map((f) => f.replace(/\.json$/, '')).sort(), built.map((f) => f.name).sort());
  for (const f of built) {
    const onDisk = readFixture(f.name);
    assert.deepEqual(onDisk.request, f.request, f.name);
    assert.equal(onDisk.now, NOW, f.name);
  }
});

test('fixture signatures verify with the spreadsheet\'s derived key, except the refused ones', () => {
  const refused = ['error-bad-signature', 'error-signed-with-master'];
  for (const f of buildFixtures()) {
    const h = f.request.headers;
    const expected = `v1=${hmacHex(TEST_KEY, `${h['X-Sheetsync-Timestamp']}.${f.request.raw_body}`)}`;
    if (refused.includes(f.name)) assert.notEqual(h['X-Sheetsync-Signature'], expected, f.name);
    else assert.equal(h['X-Sheetsync-Signature'], expected, f.name);
    if (f.request.body) assert.equal(f.request.body.spreadsheet_id, TEST_SPREADSHEET, f.name);
  }
  const master = readFixture('error-signed-with-master').request;
  assert.equal(master.headers['X-Sheetsync-Signature'],
    `v1=${hmacHex(TEST_MASTER, `${master.headers['X-Sheetsync-Timestamp']}.${master.raw_body}`)}`);
  const stale = readFixture('error-stale-timestamp');
  assert.equal(Number(stale.request.headers['X-Sheetsync-Timestamp']), NOW - 600);
  assert.ok(Buffer.byteLength(readFixture('error-too-large').request.raw_body) > 2 * 1024);
});

test('the key derivation vector (signature.json) matches the test helper', () => {
  const v = JSON.parse(fs.readFileSync(path.join(CONTRACT_DIR, 'signature.json'), 'utf8')).key_derivation;
  assert.equal(v.message, `sheetsync/v1/${v.spreadsheet_id}`);
  assert.equal(spreadsheetKey(v.master, v.spreadsheet_id), v.key);
  assert.equal(hmacHex(v.master, v.message), v.key);
  assert.equal(v.key, TEST_KEY, 'the fixtures are signed with this key');
});

test('the single-cell edit carries the typed base value and the watermark', () => {
  const body = readFixture('edit-single-cell').request.body;
  assert.deepEqual(body.rows, [{ row: 3, values: [42, 'Grace Hopper', 6, true, ''], old: { qty: 5 } }]);
  assert.equal(body.watermark, 1289);
  assert.equal(body.edited_at, '2026-11-25T13:35:00.123Z');
});

test('HMAC of the test vector (signature.json) matches, via the script and independently', () => {
  const v = JSON.parse(fs.readFileSync(path.join(CONTRACT_DIR, 'signature.json'), 'utf8'));
  const { script } = loadScript();
  assert.equal(script.signature_(v.secret, v.timestamp, v.body), v.signature);
  assert.equal(`v1=${hmacHex(v.secret, `${v.timestamp}.${v.body}`)}`, v.signature);
  assert.equal(v.signed_message, `${v.timestamp}.${v.body}`);
});

test('the signature is sent over exactly the bytes posted', () => {
  const { script, fakes } = loadScript();
  fakes.http.handler = () => ({ status: 200, body: {} });
  script.deliver_('https://example.test/sync_postgres', 's3cret', { sheet: 'Zoë ✓ 𝄞' });
  const req = fakes.http.requests[0];
  assert.equal(req.body, '{"sheet":"Zoë ✓ 𝄞"}');
  assert.equal(req.headers['X-Sheetsync-Signature'],
    `v1=${hmacHex('s3cret', `${req.headers['X-Sheetsync-Timestamp']}.${req.body}`)}`);
  assert.equal(req.headers['X-Sheetsync-Timestamp'], String(NOW));
  assert.equal(req.contentType, 'application/json');
  assert.equal(req.muteHttpExceptions, true);
});
