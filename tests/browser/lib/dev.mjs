// Starting `sheetsync dev` (the built binary) and talking to what it runs.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const artifacts = join(root, 'tests', 'artifacts');

/** A debug binary of the workspace (`cargo build -p sheetsync-cli -p sheetsync-sheets-emulator`),
 *  in `CARGO_TARGET_DIR` when cargo was told to build there. */
export function binary(name = 'sheetsync') {
  const bin = join(process.env.CARGO_TARGET_DIR || join(root, 'target'), 'debug', name);
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run cargo build -p sheetsync-cli -p sheetsync-sheets-emulator first`);
  return bin;
}

/** Polls `check` until it returns a truthy value or the deadline passes. */
export async function until(what, check, ms = 15000) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The banner's line naming the grid (or, with --google, the webhook). */
const URL_LINE = /(?:Open|Webhook:) (http:\/\/127\.0\.0\.1:\d+)/;

/**
 * Starts `sheetsync dev --port 0` in a fresh temp working directory with a
 * clean environment (no DATABASE_URL: it makes its own cluster). Resolves once
 * the banner names the grid's URL.
 */
export async function startDev(extraArgs = [], extraEnv = {}) {
  const cwd = mkdtempSync(join(tmpdir(), 'sheetsync-dev-user-'));
  const env = { PATH: process.env.PATH, HOME: cwd, LANG: 'C.UTF-8', ...extraEnv };
  const child = spawn(binary(), ['dev', '--port', '0', ...extraArgs], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const dev = { child, cwd, stdout: '', stderr: '', exited: null };
  child.stdout.on('data', (d) => { dev.stdout += d; });
  child.stderr.on('data', (d) => { dev.stderr += d; });
  dev.exit = new Promise((resolve) => child.on('exit', (code, signal) => { dev.exited = { code, signal }; resolve(dev.exited); }));
  await until('the dev banner', () => {
    if (dev.exited) throw new Error(`sheetsync dev exited ${JSON.stringify(dev.exited)}: ${dev.stderr}${dev.stdout}`);
    return URL_LINE.test(dev.stdout);
  }, 120000);
  dev.url = URL_LINE.exec(dev.stdout)[1];
  dev.key = (/key\s+([0-9a-f]{64})/.exec(dev.stdout) || [])[1];
  // The throwaway cluster's URL is printed; a DATABASE_URL is shown only by name.
  dev.databaseUrl = (/psql (postgres:\/\/\S+)/.exec(dev.stdout) || [])[1] || env.DATABASE_URL;
  dev.clusterDir = (/in (\/\S+sheetsync-pg-[^\s,)]+)/.exec(dev.stdout) || [])[1];
  dev.stop = async (signal = 'SIGINT') => {
    if (!dev.exited) child.kill(signal);
    const result = await dev.exit;
    rmSync(cwd, { recursive: true, force: true });
    return result;
  };
  return dev;
}

/** One SQL statement through psql; rows as arrays of text (unaligned, tab-separated). */
export function psql(url, sql) {
  const out = execFileSync('psql', [url, '-X', '-A', '-t', '-F', '\t', '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
}

/** Processes whose command line mentions `needle`. */
export function processesNaming(needle) {
  const found = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(needle)) found.push(`${pid}: ${cmd}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}
