'use strict';
// Set up: prompts, Script Properties, triggers installed idempotently; the menu.

const test = require('node:test');
const assert = require('node:assert/strict');
const { loadScript, TEST_URL, TEST_KEY } = require('./support/load');

function freshSpreadsheet() {
  const env = loadScript();
  env.fakes.spreadsheet.addSheet('Orders').setRows(1, [['id', 'customer']]);
  return env;
}

function triggerSummary(fakes) {
  return fakes.triggers.map((t) => `${t.getHandlerFunction()}:${t.getEventType()}`).sort();
}

test('Set up stores the settings in Script Properties and installs one trigger of each kind', () => {
  const { script, fakes } = freshSpreadsheet();
  fakes.ui.answers = [{ text: TEST_URL }, { text: 's3cret' }, { text: '' }, { text: '' }];
  script.sheetsyncSetup();
  const p = fakes.scriptProperties;
  assert.equal(p.getProperty('SHEETSYNC_URL'), TEST_URL);
  assert.equal(p.getProperty('SHEETSYNC_SECRET'), 's3cret');
  assert.equal(p.getProperty('SHEETSYNC_SHEETS'), '["Orders"]', 'the active tab by default');
  assert.equal(p.getProperty('SHEETSYNC_KEY_COLUMNS'), '["id"]', 'id by default');
  assert.deepEqual(triggerSummary(fakes), ['sheetsyncOnChange:ON_CHANGE', 'sheetsyncOnEdit:ON_EDIT', 'sheetsyncOnTimer:CLOCK']);
  const timer = fakes.triggers.find((t) => t.getHandlerFunction() === 'sheetsyncOnTimer');
  assert.equal(timer.spec.minutes, 10);
  assert.equal(fakes.triggers.find((t) => t.getHandlerFunction() === 'sheetsyncOnEdit').spec.source, '1AbC-sheetsync-test');
  assert.match(fakes.ui.alerts[0].text, /Triggers: 3 installed/);
});

test('Set up asks for this spreadsheet\'s key and says how to print it', () => {
  const { script, fakes } = freshSpreadsheet();
  fakes.ui.answers = [{ text: TEST_URL }, { text: TEST_KEY }, { text: '' }, { text: '' }];
  script.sheetsyncSetup();
  const prompt = fakes.ui.prompts[1];
  assert.equal(prompt.title, 'Sheetsync: spreadsheet key');
  assert.match(prompt.text, /sheetsync key --spreadsheet 1AbC-sheetsync-test/);
  assert.equal(fakes.scriptProperties.getProperty('SHEETSYNC_SECRET'), TEST_KEY);
});

test('Set up run twice leaves one trigger of each kind, and keeps the secret when left empty', () => {
  const { script, fakes } = freshSpreadsheet();
  fakes.ui.answers = [{ text: TEST_URL }, { text: 's3cret' }, { text: 'Orders' }, { text: 'id' }];
  script.sheetsyncSetup();
  fakes.ui.answers = [{ text: '' }, { text: '' }, { text: '' }, { text: 'order_id' }];
  script.sheetsyncSetup();
  assert.deepEqual(triggerSummary(fakes), ['sheetsyncOnChange:ON_CHANGE', 'sheetsyncOnEdit:ON_EDIT', 'sheetsyncOnTimer:CLOCK']);
  assert.equal(fakes.scriptProperties.getProperty('SHEETSYNC_SECRET'), 's3cret');
  assert.equal(fakes.scriptProperties.getProperty('SHEETSYNC_URL'), TEST_URL);
  assert.equal(fakes.scriptProperties.getProperty('SHEETSYNC_KEY_COLUMNS'), '["order_id"]');
  assert.match(fakes.ui.alerts[1].text, /Triggers: already installed/);
  assert.doesNotMatch(fakes.ui.prompts[5].text, /s3cret/, 'the secret is never shown');
});

test('Set up removes duplicate triggers left by earlier versions', () => {
  const { script, fakes } = freshSpreadsheet();
  const ss = fakes.spreadsheet;
  fakes.globals.ScriptApp.newTrigger('sheetsyncOnEdit').forSpreadsheet(ss).onEdit().create();
  fakes.globals.ScriptApp.newTrigger('sheetsyncOnEdit').forSpreadsheet(ss).onEdit().create();
  fakes.globals.ScriptApp.newTrigger('sheetsyncOnTimer').timeBased().everyMinutes(10).create();
  fakes.globals.ScriptApp.newTrigger('sheetsyncOnTimer').timeBased().everyMinutes(10).create();
  fakes.globals.ScriptApp.newTrigger('someoneElsesHandler').timeBased().everyMinutes(5).create();
  fakes.ui.answers = [{ text: TEST_URL }, { text: 's3cret' }, { text: '' }, { text: '' }];
  script.sheetsyncSetup();
  assert.deepEqual(triggerSummary(fakes), [
    'sheetsyncOnChange:ON_CHANGE', 'sheetsyncOnEdit:ON_EDIT', 'sheetsyncOnTimer:CLOCK', 'someoneElsesHandler:CLOCK',
  ]);
});

test('Set up cancelled, or with a bad URL or tab, changes nothing', () => {
  const { script, fakes } = freshSpreadsheet();
  fakes.ui.answers = [{ text: TEST_URL }, { button: 'CANCEL' }];
  script.sheetsyncSetup();
  fakes.ui.answers = [{ text: 'not a url' }];
  script.sheetsyncSetup();
  fakes.ui.answers = [{ text: TEST_URL }, { text: 's3cret' }, { text: 'Orders, Missing' }, { text: '' }];
  script.sheetsyncSetup();
  assert.deepEqual(fakes.scriptProperties.getKeys(), []);
  assert.equal(fakes.triggers.length, 0);
  assert.match(fakes.ui.alerts[0].text, /not a URL/);
  assert.match(fakes.ui.alerts[1].text, /No such tab: Missing/);
});

test('onOpen adds the Sheetsync menu; the script defines no simple onEdit', () => {
  const { script, fakes } = freshSpreadsheet();
  script.onOpen();
  assert.equal(fakes.ui.menus[0].caption, 'Sheetsync');
  assert.deepEqual(fakes.ui.menus[0].items.map((i) => i.fn),
    ['sheetsyncSetup', 'sheetsyncSyncNow', 'sheetsyncStatus', 'sheetsyncPushTable']);
  for (const i of fakes.ui.menus[0].items) assert.equal(typeof script[i.fn], 'function', i.fn);
  assert.equal(typeof script.onEdit, 'undefined');
  assert.equal(typeof script.onChange, 'undefined');
});

test('Status before and after Set up', () => {
  const { script, fakes } = freshSpreadsheet();
  script.sheetsyncStatus();
  assert.match(fakes.ui.alerts[0].text, /Not set up/);
  assert.match(fakes.ui.alerts[0].text, /Triggers: missing sheetsyncOnEdit, sheetsyncOnChange, sheetsyncOnTimer/);
  fakes.ui.answers = [{ text: TEST_URL }, { text: 's3cret' }, { text: '' }, { text: '' }];
  script.sheetsyncSetup();
  script.sheetsyncStatus();
  const text = fakes.ui.alerts[2].text;
  assert.match(text, /Webhook: https:\/\/abc123\.execute-api\.eu-west-1\.amazonaws\.com\/Prod\/sync_postgres/);
  assert.match(text, /Tabs: Orders \(key id\)/);
  assert.match(text, /Triggers: installed/);
  assert.match(text, /Last success: never/);
  assert.match(text, /Pending events: 0/);
  assert.doesNotMatch(text, /s3cret/);
});

test('webhook URL: the full endpoint or the API base both work; /sync_gsheet sits beside it', () => {
  const { script } = loadScript();
  assert.equal(script.syncPostgresUrl_('https://x.test/Prod/sync_postgres'), 'https://x.test/Prod/sync_postgres');
  assert.equal(script.syncPostgresUrl_('https://x.test/Prod/'), 'https://x.test/Prod/sync_postgres');
  assert.equal(script.syncGsheetUrl_('https://x.test/Prod/sync_postgres'), 'https://x.test/Prod/sync_gsheet');
});

test('clasp pushes every script file the tests load, and nothing else', () => {
  const fs = require('node:fs');
  const path = require('node:path');
  const { SCRIPT_FILES } = require('./support/load');
  const root = path.resolve(__dirname, '..');
  const pushed = fs
    .readFileSync(path.join(root, '.claspignore'), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('!'))
    .map((line) => line.slice(1))
    .sort();
  assert.deepEqual(pushed, ['appsscript.json', ...SCRIPT_FILES].sort());
  const onDisk = fs.readdirSync(root).filter((f) => f.endsWith('.js')).sort();
  assert.deepEqual(onDisk, [...SCRIPT_FILES].sort(), 'every script file is loaded by the tests');
});
