// The sheetsync dev grid: a small spreadsheet over the Sheets API emulator's
// tab. It writes cells through the emulator's control API (as a person types
// into a sheet) and then sends the same signed docs/contract.md requests as the
// Apps Script. It follows the emulator's change feed, so rows the writer
// puts into the tab (changes made in PostgreSQL) show up at once.
'use strict';

(function () {
  const MIN_ROWS = 16;
  const ACTIVITY_EVERY_MS = 4000;

  let cfg = null;
  let cells = [[]];          // the tab, row 0 = header; emulator cell JSON
  let watermark = null;      // the tab's sheetsync.watermark developer metadata
  let extraRows = 0;         // rows added with "Add row", not yet typed into
  let sel = { r: 1, c: 1 };
  let editing = null;        // { r, c, input }
  let dirty = false;         // a reload arrived while editing
  let shown = new Map();     // cell id -> displayed text, to flash what changed
  const marks = new Map();   // cell id -> reason the server rejected it
  const sent = [];
  let queue = Promise.resolve();

  const $ = (id) => document.getElementById(id);
  const enc = encodeURIComponent;
  const tabApi = () => `/_emulator/spreadsheets/${enc(cfg.spreadsheetId)}/tabs/${enc(cfg.sheet)}`;

  // ---- the tab's values, as the Apps Script reads them ---------------------

  function cellAt(r, c) {
    return (cells[r] && cells[r][c]) || null;
  }

  function isEmpty(cell) {
    return !cell || cell.value === null || cell.value === undefined;
  }

  function numberFormat(cell) {
    return cell && cell.format && cell.format.numberFormat ? cell.format.numberFormat.type : null;
  }

  function serialToIso(serial, dateOnly) {
    const iso = new Date(Math.round((serial - 25569) * 86400000)).toISOString();
    return dateOnly ? iso.slice(0, 10) : iso.slice(0, 19);
  }

  function isFormula(cell) {
    return !isEmpty(cell) && 'formulaValue' in cell.value;
  }

  /**
   * A cell as docs/contract.md carries it: number, boolean, string, ISO date or "".
   * A formula is sent as what it shows, as the script's getValues() reads it
   * (an error as its text), never as the formula.
   */
  function payloadValue(cell) {
    if (isEmpty(cell)) return '';
    const v = isFormula(cell) ? cell.effectiveValue || {} : cell.value;
    if ('errorValue' in v) return cell.formatted || '';
    if ('boolValue' in v) return v.boolValue;
    if ('stringValue' in v) return v.stringValue;
    if ('numberValue' in v) {
      const type = numberFormat(cell);
      if (type === 'DATE') return serialToIso(v.numberValue, true);
      if (type === 'DATE_TIME') return serialToIso(v.numberValue, false);
      return v.numberValue;
    }
    return '';
  }

  /** What an editor starts with: what the person would type to get the cell. */
  function editText(cell) {
    if (isFormula(cell)) return cell.value.formulaValue;
    const v = payloadValue(cell);
    // A date-time is typed with a space, as in a sheet; the request carries ISO 8601.
    if (numberFormat(cell) === 'DATE_TIME' && typeof v === 'string') return v.replace('T', ' ');
    if (v === true) return 'TRUE';
    if (v === false) return 'FALSE';
    return String(v);
  }

  function headerNames() {
    return (cells[0] || []).map((cell) => String(payloadValue(cell)));
  }

  function column(name) {
    return cfg.columns.find((col) => col.name === name) || null;
  }

  function isKeyColumn(c) {
    return cfg.keyColumns.includes(headerNames()[c]);
  }

  /** True when the database assigns the key (identity, serial, a default): the sheet leaves it empty. */
  function keyAssigned() {
    return cfg.keyColumns.every((name) => { const col = column(name); return col && (col.has_default || col.generated); });
  }

  /** A key cell may be typed only to name a new row whose key the database does not assign. */
  function keyTypable(r, c) {
    return !keyAssigned() && isEmpty(cellAt(r, c));
  }

  function rowValues(r) {
    return headerNames().map((_, c) => payloadValue(cellAt(r, c)));
  }

  function rowKey(r) {
    const names = headerNames();
    const key = {};
    for (const name of cfg.keyColumns) {
      const c = names.indexOf(name);
      const v = c < 0 ? '' : payloadValue(cellAt(r, c));
      if (v === '') return null;
      key[name] = v;
    }
    return key;
  }

  function cellId(r, c) {
    const key = r > 0 ? rowKey(r) : null;
    const name = headerNames()[c];
    return key ? `k${JSON.stringify(key)}:${name}` : `r${r}:${name}`;
  }

  // ---- talking to the emulator and the webhook ----------------------------

  async function call(url, init) {
    const res = await fetch(url, init);
    const body = await res.json().catch(() => ({}));
    return { res, body };
  }

  async function reload() {
    const { res, body } = await call(tabApi());
    if (!res.ok) throw new Error(`reading the tab: ${res.status}`);
    cells = body.cells && body.cells.length ? body.cells : [[]];
    const wm = body.developerMetadata && body.developerMetadata['sheetsync.watermark'];
    watermark = wm === undefined ? null : Number(wm);
    render();
  }

  /** Types `text` into a cell as a person would (`42` becomes a number, `2026-12-01` a date). */
  function writeCell(r, c, text) {
    return putCell(r, c, { text });
  }

  /** Sets a cell to a JSON value exactly (a key the server returned keeps its type). */
  function writeValue(r, c, value) {
    return putCell(r, c, value);
  }

  async function putCell(r, c, content) {
    const { res, body } = await call(`${tabApi()}/cells/${r}/${c}`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(content),
    });
    if (!res.ok) throw new Error(`writing the cell: ${res.status}`);
    const before = cells.length;
    while (cells.length <= r) cells.push([]);
    cells[r][c] = body;
    // Rows added locally become the tab's own once typed into.
    extraRows = Math.max(0, before + extraRows - cells.length);
  }

  const encoder = new TextEncoder();
  let signingKey = null;

  async function sign(timestamp, body) {
    if (!signingKey) {
      signingKey = await crypto.subtle.importKey(
        'raw', encoder.encode(cfg.key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    }
    const mac = await crypto.subtle.sign('HMAC', signingKey, encoder.encode(`${timestamp}.${body}`));
    return Array.from(new Uint8Array(mac), (b) => b.toString(16).padStart(2, '0')).join('');
  }

  /** One docs/contract.md request, signed as the Apps Script signs it. */
  async function send(kind, fields, editedAt, label) {
    const request = {
      v: 1,
      event_id: crypto.randomUUID(),
      spreadsheet_id: cfg.spreadsheetId,
      sheet: cfg.sheet,
      kind,
      edited_at: editedAt,
    };
    if (watermark !== null) request.watermark = watermark;
    request.header = headerNames();
    Object.assign(request, fields);
    const body = JSON.stringify(request);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = await sign(timestamp, body);
    const { res, body: answer } = await call('/sync_postgres', {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-Sheetsync-Timestamp': timestamp,
        'X-Sheetsync-Signature': `v1=${signature}`,
      },
      body,
    });
    if (!res.ok) {
      const err = answer.error || {};
      logSent(label, `${res.status} ${err.code || ''}: ${err.message || ''}`, false);
      status(`The webhook refused the request: ${err.message || res.status}`, true);
      return;
    }
    await apply(answer);
    logSent(label, summary(answer), !(answer.rows || []).some((out) => out.status === 'rejected'));
    refreshActivity();
  }

  /** The answer, as the Apps Script applies it: keys into new rows, reasons on rejected cells. */
  async function apply(answer) {
    const names = headerNames();
    const rejected = [];
    for (const out of answer.rows || []) {
      const r = out.row - 1;
      for (let c = 0; c < names.length; c++) marks.delete(cellId(r, c));
      if (out.key && !rowKey(r)) {
        for (const [name, value] of Object.entries(out.key)) {
          const c = names.indexOf(name);
          if (c >= 0) await writeValue(r, c, value);
        }
      }
      if (out.status === 'rejected') {
        let c = names.indexOf(out.column);
        if (c < 0) c = names.findIndex((_, i) => !isKeyColumn(i));
        marks.set(cellId(r, c), out.reason || 'rejected');
        rejected.push(out.reason);
      }
    }
    render();
    if (rejected.length) status(rejected.join(' · '), true);
    else status(summary(answer));
  }

  function summary(answer) {
    const counts = {};
    for (const out of answer.rows || []) counts[out.status] = (counts[out.status] || 0) + 1;
    const parts = Object.entries(counts).map(([s, n]) => `${n} ${s}`);
    if (answer.deleted) parts.push(`${answer.deleted} deleted`);
    return parts.length ? parts.join(', ') : 'no change';
  }

  /** Serialises every change, as the Apps Script's lock does: each sees the tab the previous one left. */
  function run(task) {
    queue = queue.then(task).catch((err) => status(err.message, true));
    return queue;
  }

  // ---- what a person does ---------------------------------------------------

  function commitCell(r, c, text) {
    const editedAt = new Date().toISOString();
    const name = headerNames()[c];
    run(async () => {
      const before = cellAt(r, c);
      const old = payloadValue(before);
      await writeCell(r, c, text);
      const values = rowValues(r);
      if (values.every((v) => v === '')) return render();
      let row;
      // A new row, or one whose key was just typed, goes whole (the Apps Script's rule).
      if (!rowKey(r) || isKeyColumn(c)) row = { row: r + 1, values };
      else if (!isEmpty(before)) row = { row: r + 1, values, old: { [name]: old } };
      else row = { row: r + 1, values, edited: [name] };
      render();
      await send('edit', { rows: [row] }, editedAt, `edit ${name} in row ${r + 1}`);
    });
  }

  function pasteBlock(top, left, block) {
    const editedAt = new Date().toISOString();
    run(async () => {
      const names = headerNames();
      const touched = new Map();
      for (let i = 0; i < block.length; i++) {
        for (let j = 0; j < block[i].length; j++) {
          const r = top + i;
          const c = left + j;
          if (r < 1 || c >= names.length || (isKeyColumn(c) && !keyTypable(r, c))) continue;
          await writeCell(r, c, block[i][j]);
          if (!touched.has(r)) touched.set(r, new Set());
          touched.get(r).add(c);
        }
      }
      const rows = [];
      for (const [r, cols] of touched) {
        const values = rowValues(r);
        if (values.every((v) => v === '')) continue;
        const edited = [...cols].sort((a, b) => a - b).map((c) => names[c]);
        const keyPasted = edited.some((name) => cfg.keyColumns.includes(name));
        rows.push(rowKey(r) && !keyPasted ? { row: r + 1, values, edited } : { row: r + 1, values });
      }
      render();
      if (rows.length) await send('edit', { rows }, editedAt, `paste ${block.length}×${block[0].length}`);
    });
  }

  function deleteRow(r) {
    const editedAt = new Date().toISOString();
    run(async () => {
      if (r < 1) return;
      if (r >= cells.length) {
        extraRows = Math.max(0, extraRows - 1);
        return render();
      }
      const { res } = await call(`${tabApi()}/rows/${r}?count=1`, { method: 'DELETE' });
      if (!res.ok) throw new Error(`deleting the row: ${res.status}`);
      await reload();
      const keys = [];
      for (let i = 1; i < cells.length; i++) {
        const key = rowKey(i);
        if (key) keys.push(key);
      }
      await send('keys', { keys }, editedAt, `delete row ${r + 1}`);
    });
  }

  function syncNow() {
    const editedAt = new Date().toISOString();
    run(async () => {
      await reload();
      const rows = [];
      for (let r = 1; r < cells.length; r++) {
        const values = rowValues(r);
        if (values.some((v) => v !== '')) rows.push({ row: r + 1, values });
      }
      await send('snapshot', { rows }, editedAt, `snapshot of ${rows.length} rows`);
    });
  }

  function addRow() {
    extraRows += 1;
    render();
    const r = cells.length + extraRows - 1;
    const c = headerNames().findIndex((_, i) => keyAssigned() !== isKeyColumn(i));
    select(r, Math.max(c, 0));
    startEdit('');
  }

  // ---- rendering ------------------------------------------------------------

  function letter(c) {
    let s = '';
    for (let n = c + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
    return s;
  }

  function scaleOf(col) {
    const m = col && /^numeric\(\d+,(\d+)\)$/.exec(col.sql_type);
    return m ? Number(m[1]) : null;
  }

  function widthOf(col, c) {
    if (isKeyColumn(c)) return 72;
    if (!col) return 140;
    switch (col.pg_type) {
      case 'bool': return 84;
      case 'int2': case 'int4': case 'int8': return 84;
      case 'float4': case 'float8': case 'numeric': return 100;
      case 'date': return 112;
      case 'timestamp': case 'timestamptz': return 170;
      default: return 200;
    }
  }

  /** Text and CSS class of a data cell. */
  function display(cell, col) {
    if (isEmpty(cell)) return { text: '', cls: col && col.pg_type === 'bool' ? 'bool' : '' };
    const v = cell.value;
    if ('boolValue' in v) return { bool: v.boolValue, cls: 'bool' };
    if ('numberValue' in v) {
      const type = numberFormat(cell);
      if (type === 'DATE' || type === 'DATE_TIME') return { text: cell.formatted, cls: 'date' };
      const scale = scaleOf(col);
      const text = scale === null ? cell.formatted : v.numberValue.toFixed(scale);
      return { text, cls: 'num' };
    }
    return { text: cell.formatted || '', cls: '' };
  }

  function render() {
    if (!cfg) return;
    if (editing) { dirty = true; return; }
    const names = headerNames();
    const table = $('grid');
    const rowCount = Math.max(cells.length + extraRows, MIN_ROWS);
    const seen = new Map();
    const html = [];
    html.push('<colgroup><col style="width:46px">');
    names.forEach((name, c) => html.push(`<col style="width:${widthOf(column(name), c)}px">`));
    html.push('</colgroup><thead><tr><th class="corner"></th>');
    names.forEach((_, c) => html.push(`<th>${letter(c)}</th>`));
    html.push('</tr></thead><tbody>');
    for (let r = 0; r < rowCount; r++) {
      const classes = [r === 0 ? 'header' : '', r === sel.r ? 'selected-row' : ''];
      html.push(`<tr class="${classes.join(' ').trim()}" data-r="${r}"><th>${r + 1}</th>`);
      names.forEach((name, c) => {
        const cell = cellAt(r, c);
        const col = column(name);
        const cls = [];
        let inner;
        if (r === 0) {
          const kind = col ? (isKeyColumn(c) ? `${col.sql_type} · key` : col.sql_type) : '';
          const type = kind ? `<span class="type">${escape(kind)}</span>` : '';
          inner = escape(name) + type;
        } else {
          const d = display(cell, col);
          if (d.cls) cls.push(d.cls);
          // An empty boolean cell of a data row offers a faint checkbox; rows below the data stay blank.
          if (d.bool !== undefined || (d.cls === 'bool' && d.text === '' && r < cells.length + extraRows)) {
            const checked = d.bool ? ' checked' : '';
            const faint = d.bool === undefined ? ' style="opacity:.35"' : '';
            inner = `<input type="checkbox" tabindex="-1"${checked}${faint}>`;
          } else {
            inner = escape(d.text);
          }
          const id = cellId(r, c);
          const text = d.bool === undefined ? d.text : String(d.bool);
          seen.set(id, text);
          if (shown.has(id) && shown.get(id) !== text) cls.push('flash');
          if (marks.has(id)) cls.push('rejected');
        }
        if (isKeyColumn(c)) cls.push('key');
        if (r === sel.r && c === sel.c) cls.push('selected');
        const reason = r > 0 && marks.get(cellId(r, c));
        const title = reason ? ` title="${escape(reason)}" data-reason="${escape(reason)}"` : '';
        html.push(`<td class="${cls.join(' ')}" data-r="${r}" data-c="${c}"${title}>${inner}</td>`);
      });
      html.push('</tr>');
    }
    html.push('</tbody>');
    table.innerHTML = html.join('');
    tooltip(null);
    shown = seen;
    showSelection();
  }

  function escape(s) {
    return String(s).replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]);
  }

  function td(r, c) {
    return $('grid').querySelector(`td[data-r="${r}"][data-c="${c}"]`);
  }

  function showSelection() {
    $('cell-ref').textContent = `${letter(sel.c)}${sel.r + 1}`;
    $('cell-value').textContent = editText(cellAt(sel.r, sel.c));
    const reason = marks.get(cellId(sel.r, sel.c));
    if (reason) status(reason, true);
    $('delete-row').disabled = sel.r < 1;
  }

  function select(r, c) {
    const names = headerNames();
    const rows = Math.max(cells.length + extraRows, MIN_ROWS);
    sel = { r: Math.min(Math.max(r, 0), rows - 1), c: Math.min(Math.max(c, 0), Math.max(names.length - 1, 0)) };
    render();
    const el = td(sel.r, sel.c);
    if (el) el.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  }

  // ---- editing --------------------------------------------------------------

  function editable(r, c) {
    return r >= 1 && c < headerNames().length && (!isKeyColumn(c) || keyTypable(r, c));
  }

  function startEdit(initial) {
    const { r, c } = sel;
    if (!editable(r, c)) {
      if (r >= 1 && isKeyColumn(c)) {
        status(keyAssigned()
          ? 'Keys are assigned by the database and written back into new rows.'
          : 'A key names its row: type it into a new row; to change one, change it in the table.');
      }
      return;
    }
    const el = td(r, c);
    if (!el) return;
    const input = document.createElement('input');
    input.value = initial === undefined ? editText(cellAt(r, c)) : initial;
    el.className = 'editing';
    el.textContent = '';
    el.appendChild(input);
    editing = { r, c, input };
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
    input.addEventListener('keydown', (e) => {
      // The grid's own keys must not act on the keystroke that ends the edit.
      e.stopPropagation();
      if (e.key === 'Enter') { e.preventDefault(); finishEdit(true); select(r + 1, c); }
      else if (e.key === 'Tab') { e.preventDefault(); finishEdit(true); select(r, c + (e.shiftKey ? -1 : 1)); }
      else if (e.key === 'Escape') { e.preventDefault(); finishEdit(false); }
    });
    input.addEventListener('blur', () => finishEdit(true));
  }

  function finishEdit(save) {
    if (!editing) return;
    const { r, c, input } = editing;
    editing = null;
    const text = input.value;
    if (save && text !== editText(cellAt(r, c))) commitCell(r, c, text);
    dirty = false;
    render();
  }

  // ---- events ---------------------------------------------------------------

  function bind() {
    const grid = $('grid');
    grid.addEventListener('mousedown', (e) => {
      const cell = e.target.closest('td');
      const rowHead = e.target.closest('tbody th');
      if (editing && cell && cell.querySelector('input') === editing.input) return;
      if (cell) {
        const r = Number(cell.dataset.r);
        const c = Number(cell.dataset.c);
        if (e.target.matches('input[type=checkbox]')) {
          e.preventDefault();
          select(r, c);
          if (editable(r, c)) commitCell(r, c, payloadValue(cellAt(r, c)) === true ? 'FALSE' : 'TRUE');
          return;
        }
        select(r, c);
      } else if (rowHead) {
        select(Number(rowHead.parentElement.dataset.r), sel.c);
      }
    });
    grid.addEventListener('dblclick', (e) => {
      if (e.target.closest('td') && !editing) startEdit();
    });
    grid.addEventListener('mousemove', (e) => {
      const cell = e.target.closest('td[data-reason]');
      tooltip(cell ? cell.dataset.reason : null, e);
    });
    grid.addEventListener('mouseleave', () => tooltip(null));

    document.addEventListener('keydown', (e) => {
      if (editing || !cfg || e.target.closest('button')) return;
      const { r, c } = sel;
      const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
      if (moves[e.key]) { e.preventDefault(); select(r + moves[e.key][0], c + moves[e.key][1]); }
      else if (e.key === 'Tab') { e.preventDefault(); select(r, c + (e.shiftKey ? -1 : 1)); }
      else if (e.key === 'Enter' || e.key === 'F2') { e.preventDefault(); startEdit(); }
      else if ((e.key === 'Delete' || e.key === 'Backspace') && editable(r, c) && !isEmpty(cellAt(r, c))) {
        e.preventDefault();
        commitCell(r, c, '');
      } else if (e.key === ' ' && column(headerNames()[c]) && column(headerNames()[c]).pg_type === 'bool' && editable(r, c)) {
        e.preventDefault();
        commitCell(r, c, payloadValue(cellAt(r, c)) === true ? 'FALSE' : 'TRUE');
      } else if (e.key.length === 1 && !e.ctrlKey && !e.metaKey && !e.altKey) {
        e.preventDefault();
        startEdit(e.key);
      }
    });
    document.addEventListener('paste', (e) => {
      if (editing || !cfg) return;
      const text = (e.clipboardData || window.clipboardData).getData('text/plain');
      if (!text) return;
      e.preventDefault();
      const block = text.replace(/\r\n?/g, '\n').replace(/\n$/, '').split('\n').map((line) => line.split('\t'));
      pasteBlock(sel.r, sel.c, block);
    });
    document.addEventListener('copy', (e) => {
      if (editing || !cfg) return;
      e.preventDefault();
      e.clipboardData.setData('text/plain', editText(cellAt(sel.r, sel.c)));
    });
    $('add-row').addEventListener('click', addRow);
    $('delete-row').addEventListener('click', () => deleteRow(sel.r));
    $('sync-now').addEventListener('click', syncNow);
  }

  let tip = null;
  function tooltip(text, e) {
    if (!text) { if (tip) tip.remove(); tip = null; return; }
    if (!tip) { tip = document.createElement('div'); tip.className = 'tooltip'; document.body.appendChild(tip); }
    tip.textContent = text;
    tip.style.left = `${e.clientX + 12}px`;
    tip.style.top = `${e.clientY + 14}px`;
  }

  function status(text, error) {
    const el = $('status');
    el.textContent = text;
    el.classList.toggle('error', !!error);
  }

  // ---- side panel -----------------------------------------------------------

  function ago(iso) {
    const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    if (s < 60) return `${s}s ago`;
    if (s < 3600) return `${Math.round(s / 60)}m ago`;
    return new Date(iso).toLocaleTimeString();
  }

  function keyText(key) {
    if (!key) return 'new row';
    const values = Array.isArray(key) ? key : Object.values(key);
    return values.map((v) => String(v)).join(', ');
  }

  function shortJson(v) {
    return v === null || v === undefined ? 'empty' : JSON.stringify(v);
  }

  function list(el, items, empty, render) {
    el.innerHTML = items.length ? items.map(render).join('') : `<li class="empty">${empty}</li>`;
  }

  async function refreshActivity() {
    const { res, body } = await call('/api/activity').catch(() => ({ res: { ok: false } }));
    if (!res.ok) return;
    $('reject-count').textContent = body.rejects.length;
    $('conflict-count').textContent = body.conflicts.length;
    list($('rejects'), body.rejects, 'No rejected values.', (x) =>
      `<li class="reject"><span class="when">${ago(x.at)}</span><span class="what">${escape(x.column || 'row')}</span>` +
      ` · ${x.row ? `row ${x.row}` : escape(keyText(x.key))}<br>${escape(x.reason)}</li>`);
    list($('conflicts'), body.conflicts, 'No conflicts.', (x) =>
      `<li class="conflict"><span class="when">${ago(x.at)}</span><span class="what">${escape(x.column)}</span>` +
      ` · key ${escape(keyText(x.key))}<br>sheet ${escape(shortJson(x.sheetValue))}, database ${escape(shortJson(x.dbValue))}` +
      ` → <b>${escape(x.winner)}</b> wins (${escape(x.policy)})</li>`);
  }

  function logSent(label, outcome, ok) {
    sent.unshift({ label, outcome, ok, at: new Date().toISOString() });
    sent.length = Math.min(sent.length, 12);
    list($('sent'), sent, 'Nothing yet.', (x) =>
      `<li class="${x.ok ? 'sent-ok' : 'sent-bad'}"><span class="when">${ago(x.at)}</span>` +
      `<span class="what">${escape(x.label)}</span><br>${escape(x.outcome)}</li>`);
  }

  // ---- live updates ---------------------------------------------------------

  let reloadPending = false;
  function scheduleReload() {
    if (reloadPending) return;
    reloadPending = true;
    run(async () => { reloadPending = false; await reload(); });
  }

  function follow() {
    const events = new EventSource('/api/events');
    const live = $('live');
    events.onopen = () => { live.classList.add('on'); $('live-text').textContent = 'live'; scheduleReload(); };
    events.onerror = () => { live.classList.remove('on'); $('live-text').textContent = 'reconnecting…'; };
    events.addEventListener('change', (e) => {
      const change = JSON.parse(e.data);
      if (change.spreadsheetId === cfg.spreadsheetId && change.sheet === cfg.sheet) {
        scheduleReload();
        if (change.source === 'api') refreshActivity();
      }
    });
    events.addEventListener('lagged', scheduleReload);
  }

  async function start() {
    const { res, body } = await call('/api/config');
    if (!res.ok) { status('The dev server did not answer /api/config.', true); return; }
    cfg = body;
    $('binding').innerHTML = `<b>${escape(cfg.table)}</b> ⇄ tab <b>${escape(cfg.sheet)}</b>` +
      ` · binding ${escape(cfg.binding)} · conflicts: ${escape(cfg.policy)}`;
    $('tab-name').textContent = cfg.sheet;
    if (cfg.psql) { $('try-sql').textContent = cfg.psql; $('try').hidden = false; }
    document.title = `${cfg.sheet} · sheetsync dev`;
    bind();
    await run(reload);
    follow();
    refreshActivity();
    setInterval(refreshActivity, ACTIVITY_EVERY_MS);
    status('Ready. Edit a cell, or change the table in psql and watch it here.');
  }

  start();
})();
