// `sheetsync dev` with a real SQS API (moto in server mode) instead of the
// in-process queue, and with `--google` against a stand-in for Google (the
// Sheets API emulator's own binary, with its OAuth token endpoint).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { binary, psql, startDev, until } from './lib/dev.mjs';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A child process whose stdout is collected; killed by `stop`. */
function run(command, args, env = process.env) {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = { child, out: '' };
  child.stdout.on('data', (d) => { proc.out += d; });
  child.stderr.on('data', (d) => { proc.out += d; });
  proc.exit = new Promise((resolve) => child.on('exit', resolve));
  proc.stop = async () => { child.kill('SIGINT'); await proc.exit; };
  return proc;
}

async function tabRows(base, spreadsheet, tab) {
  const res = await fetch(`${base}/_emulator/spreadsheets/${spreadsheet}/tabs/${tab}/rows`);
  return res.ok ? (await res.json()).rows : [];
}

// moto with SQS's FIFO group order, as the Rust tests run it.
const MOTO_SQS = join(import.meta.dirname, '..', 'testkit', 'python', 'moto_sqs.py');

function hasMoto() {
  try {
    execFileSync('python3', ['-c', 'import moto.server'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('--sqs-url: the relay sends through SQS and a receiver feeds the writer', { skip: !hasMoto() && 'moto is not installed (pip install "moto[server]")' }, async () => {
  const port = await freePort();
  const moto = run('python3', [MOTO_SQS, '-H', '127.0.0.1', '-p', String(port)]);
  const endpoint = `http://127.0.0.1:${port}`;
  const aws = {
    AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_SQS: endpoint, AWS_EC2_METADATA_DISABLED: 'true',
  };
  let dev;
  try {
    await until('moto', () => fetch(endpoint).then(() => true), 30000);
    const queueUrl = execFileSync('python3', ['-c', `
import boto3
sqs = boto3.client('sqs', endpoint_url='${endpoint}', region_name='us-east-1',
                   aws_access_key_id='test', aws_secret_access_key='test')
print(sqs.create_queue(QueueName='sheetsync-dev.fifo',
                       Attributes={'FifoQueue': 'true', 'VisibilityTimeout': '5'})['QueueUrl'])
`], { encoding: 'utf8' }).trim();
    dev = await startDev(['--sqs-url', queueUrl], aws);
    assert.match(dev.stdout, new RegExp(`queue +SQS ${queueUrl.replace(/[.]/g, '\\.')}`));
    await until('the first sync through SQS', async () => (await tabRows(dev.url, 'sheetsync-dev', 'orders')).length === 6);
    psql(dev.databaseUrl, 'UPDATE orders SET qty = 77 WHERE id = 2');
    await until('the update through SQS', async () => (await tabRows(dev.url, 'sheetsync-dev', 'orders'))[2][2] === 77);
    assert.deepEqual((await tabRows(dev.url, 'sheetsync-dev', 'orders'))[2].slice(0, 3), [2, 'Grace Hopper', 77]);
  } finally {
    if (dev) assert.deepEqual(await dev.stop(), { code: 0, signal: null }, dev.stderr);
    await moto.stop();
  }
});

test('--google: the same stack against a Sheets API at another address, no grid', async () => {
  const emulator = run(binary('sheets-emulator'), ['--port', '0', '--spreadsheet', 'gsheet-1', '--sheet', 'Orders']);
  const dir = mkdtempSync(join(tmpdir(), 'sheetsync-google-'));
  let dev;
  try {
    const root = await until('the emulator', () => (/Sheets API root URL:\s+(\S+)/.exec(emulator.out) || [])[1], 30000);
    const base = root.replace(/\/$/, '');
    const credentials = join(dir, 'sa.json');
    writeFileSync(credentials, await (await fetch(`${base}/_emulator/service-account`)).text());
    dev = await startDev(
      ['--google', '--credentials', credentials, '--spreadsheet', 'gsheet-1', '--sheet', 'Orders'],
      { SHEETS_API_ROOT_URL: root, SHEETSYNC_WEBHOOK_SECRET: 'the-script-s-secret' },
    );
    assert.match(dev.stdout, /no grid is served/);
    // The spreadsheet's key, derived from the master (docs/security.md).
    const key = createHmac('sha256', 'the-script-s-secret').update('sheetsync/v1/gsheet-1').digest('hex');
    assert.match(dev.stdout, new RegExp(`key +${key} \\(for Sheetsync → Set up… in the sheet; derived from SHEETSYNC_WEBHOOK_SECRET\\)\n`));
    assert.equal(dev.stdout.includes('the-script-s-secret'), false, 'the master is never printed');
    assert.match(await (await fetch(`${dev.url}/`)).text(), /no grid is served/);
    await until('the first sync into the sheet', async () => (await tabRows(base, 'gsheet-1', 'Orders')).length === 6);

    // What the Apps Script sends from that sheet, signed with its key.
    const body = JSON.stringify({
      v: 1, event_id: randomUUID(), spreadsheet_id: 'gsheet-1', sheet: 'Orders', kind: 'edit',
      edited_at: new Date().toISOString(), header: ['id', 'customer', 'qty', 'shipped', 'due', 'price'],
      rows: [{ row: 2, values: [1, 'Ada King', 3, false, '2026-12-01', 19.9], old: { customer: 'Ada Lovelace' } }],
    });
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = createHmac('sha256', key).update(`${timestamp}.${body}`).digest('hex');
    const res = await fetch(`${dev.url}/sync_postgres`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Sheetsync-Timestamp': timestamp, 'X-Sheetsync-Signature': `v1=${signature}` },
      body,
    });
    assert.equal(res.status, 200);
    assert.deepEqual((await res.json()).rows, [{ row: 2, key: { id: 1 }, status: 'updated' }]);
    assert.deepEqual(psql(dev.databaseUrl, 'SELECT customer FROM orders WHERE id = 1'), [['Ada King']]);

    psql(dev.databaseUrl, 'DELETE FROM orders WHERE id = 3');
    await until('the delete in the sheet', async () => (await tabRows(base, 'gsheet-1', 'Orders')).length === 5);
    assert.deepEqual((await tabRows(base, 'gsheet-1', 'Orders')).map((r) => r[0]), ['id', 1, 2, 4, 5]);
  } finally {
    if (dev) assert.deepEqual(await dev.stop(), { code: 0, signal: null }, dev.stderr);
    await emulator.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
