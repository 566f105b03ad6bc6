'use strict';
// The user actions whose requests are the contract fixtures in
// tests/contract/. Each scenario drives the script through its real entry
// points over the fakes and returns the HTTP requests it sent, in order.

const { ordersFixture, editEvent, changeEvent } = require('./load');

function requestsOf(fakes) {
  return fakes.http.requests.map((r) => ({ headers: { 'Content-Type': r.contentType, ...r.headers }, body: r.body }));
}

const SCENARIOS = [
  {
    files: ['edit-single-cell'],
    description: 'A user types 6 over 5 in qty of the row keyed 42 (sheet row 3): one row, whole, with the base value in `old`.',
    run() {
      const { script, fakes, sheet } = ordersFixture();
      sheet.getRange(3, 3).setValue(6);
      script.sheetsyncOnEdit(editEvent(sheet, 3, 3, 1, 1, { oldValue: '5', value: '6' }));
      return requestsOf(fakes);
    },
  },
  {
    files: ['edit-paste-3x4'],
    description: 'A user pastes 3 rows x 4 columns (customer..due) over rows 4-6 (keys 43-45): whole rows, `edited` names the pasted columns.',
    run() {
      const { script, fakes, sheet, d } = ordersFixture();
      sheet.setRows(4, [
        [43, 'Alan M. Turing', 2, true, d('2026-12-16')],
        [44, 'Edsger W. Dijkstra', 8, false, ''],
        [45, 'Barbara H. Liskov', 4, false, d('2027-01-11')],
      ]);
      script.sheetsyncOnEdit(editEvent(sheet, 4, 2, 3, 4));
      return requestsOf(fakes);
    },
  },
  {
    files: ['insert-row'],
    description: 'A row is inserted above row 4 holding a new order without a key (onChange INSERT_ROW): sent whole, no key, no `old`/`edited`; the response carries the key the database assigned.',
    response: {
      status: 200,
      body: {
        event_id: '00000000-0000-4000-8000-000000000001',
        rows: [{ row: 4, key: { id: 46 }, status: 'inserted' }],
        deleted: 0,
      },
    },
    run() {
      const { script, fakes, sheet, d } = ordersFixture();
      sheet.insertRowsBefore(4, 1);
      sheet.setRows(4, [['', 'Zoë Ada', 4, false, d('2026-12-24')]]);
      script.sheetsyncOnChange(changeEvent(fakes.spreadsheet, 'INSERT_ROW'));
      return requestsOf(fakes);
    },
  },
  {
    files: ['remove-row'],
    description: 'The row keyed 43 (sheet row 4) is deleted (onChange REMOVE_ROW): a `keys` request listing every key still in the tab.',
    run() {
      const { script, fakes, sheet } = ordersFixture();
      sheet.deleteRow(4);
      script.sheetsyncOnChange(changeEvent(fakes.spreadsheet, 'REMOVE_ROW'));
      return requestsOf(fakes);
    },
  },
  {
    files: ['snapshot'],
    description: 'Sync now on a tab with the five keyed rows and one new row without a key (row 7): one `snapshot` with every data row.',
    run() {
      const { script, fakes, sheet, d } = ordersFixture();
      sheet.setRows(7, [['', 'Zoë Ada', 4, false, d('2026-12-24')]]);
      fakes.ui.answers = [];
      script.sheetsyncSyncNow();
      return requestsOf(fakes);
    },
  },
  {
    files: ['snapshot-partial-1', 'snapshot-partial-2', 'snapshot-partial-keys'],
    description: 'The same tab as `snapshot` with the request limit (SHEETSYNC_MAX_REQUEST_BYTES) set to 470 bytes: `partial` snapshots (upsert only), then one `keys` request with every key, all with the same watermark and edited_at. Send them in file order.',
    run() {
      const { script, fakes, sheet, d } = ordersFixture({ properties: { SHEETSYNC_MAX_REQUEST_BYTES: 470 } });
      sheet.setRows(7, [['', 'Zoë Ada', 4, false, d('2026-12-24')]]);
      script.sheetsyncSyncNow();
      return requestsOf(fakes);
    },
  },
];

module.exports = { SCENARIOS };
