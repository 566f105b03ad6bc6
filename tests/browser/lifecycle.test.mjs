// `sheetsync dev` as a new user runs it: from an empty working directory with
// a clean environment it comes up, serves the page, and on Ctrl-C (SIGINT) or
// SIGTERM stops everything: no postgres, no keeper, no temp directory left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';

import { binary, processesNaming, startDev, until } from './lib/dev.mjs';

async function upServingAndDown(signal) {
  const dev = await startDev();
  try {
    assert.ok(dev.clusterDir, `the banner names the cluster's directory:\n${dev.stdout}`);
    assert.ok(existsSync(dev.clusterDir));
    assert.ok(processesNaming(dev.clusterDir).length > 0, 'postgres runs in the cluster directory');

    const page = await fetch(dev.url);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type'), /^text\/html/);
    assert.match(await page.text(), /<title>sheetsync dev<\/title>/);
    assert.equal((await fetch(`${dev.url}/grid.js`)).status, 200);
    // An oversized request gets the contract's JSON error, as from the Lambda.
    const big = await fetch(`${dev.url}/sync_postgres`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(7000000),
    });
    assert.equal(big.status, 413);
    assert.match(big.headers.get('content-type'), /^application\/json/);
    // Byte for byte what the Lambda answers (functions/sheet-webhook/tests/events.rs).
    assert.deepEqual(await big.json(), {
      error: { code: 'too_large', message: 'request body is 7000000 bytes, over the limit of 6000000' },
    });
    const config = await (await fetch(`${dev.url}/api/config`)).json();
    assert.equal(config.sheet, 'orders');
    assert.deepEqual(config.keyColumns, ['id']);
    assert.match(config.psql, /^psql postgres:\/\/postgres@127\.0\.0\.1:\d+\/sheetsync -c "UPDATE orders SET qty = qty \+ 1 WHERE id = 1"$/);
    assert.ok(dev.stdout.includes(config.psql), 'the page and the banner suggest the same command');
    const rows = await until('the first sync', async () => {
      const tab = await (await fetch(`${dev.url}/_emulator/spreadsheets/sheetsync-dev/tabs/orders/rows`)).json();
      return tab.rows.length === 6 && tab.rows;
    });
    assert.deepEqual(rows[0], ['id', 'customer', 'qty', 'shipped', 'due', 'price']);
    assert.deepEqual(readdirSync(dev.cwd), [], 'nothing is written into the working directory');
  } finally {
    const exit = await dev.stop(signal);
    assert.deepEqual(exit, { code: 0, signal: null }, dev.stderr);
  }
  assert.match(dev.stdout, /stopped; nothing left behind/);
  assert.equal(existsSync(dev.clusterDir), false, `${dev.clusterDir} removed`);
  assert.deepEqual(processesNaming(dev.clusterDir), []);
}

test('Ctrl-C (SIGINT) stops everything and removes the cluster', async () => {
  await upServingAndDown('SIGINT');
});

test('SIGTERM does the same', async () => {
  await upServingAndDown('SIGTERM');
});

test('a busy port is reported before anything starts', async () => {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  try {
    const run = spawnSync(binary(), ['dev', '--port', String(port)], {
      env: { PATH: process.env.PATH }, encoding: 'utf8', timeout: 60000,
    });
    assert.equal(run.status, 1);
    assert.equal(run.stdout, '');
    assert.equal(
      run.stderr.trim(),
      `sheetsync: cannot listen on 127.0.0.1:${port} (choose another port with --port): Address already in use (os error 98)`,
    );
  } finally {
    server.close();
  }
});
