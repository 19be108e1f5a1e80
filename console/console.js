/*
 * console.js - the geobatch web console: a client of the public APIs of the server that serves
 * it (docs/api.md), nothing more: the HERE 6.2 job API, and for the search box v7's
 * /v1/autosuggest and /v1/geocode. Plain JavaScript, no framework, no external resource.
 *
 * Rules kept throughout: everything that comes from a file or from the server is put in the
 * page as text (textContent: never parsed as HTML); credentials live in sessionStorage only (this
 * tab) and travel in request URLs of fetch()/XHR (never shown in the address bar) or in an
 * Authorization header (API keys); a file is uploaded as a Blob made of a new header line and
 * a slice of the File, which the browser streams from disk: it is never read whole.
 */
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const CRED_KEY = 'geobatch.credentials';
  const INPUT_FIELDS = ['recId', 'searchText', 'country', 'state', 'county', 'city', 'district',
    'street', 'houseNumber', 'postalCode'];
  /* header names (lower case, letters and digits only) -> HERE input field */
  const ALIASES = {
    recId: ['recid', 'id', 'recordid', 'ref', 'reference', 'key', 'rowid', 'customerid'],
    searchText: ['searchtext', 'address', 'addr', 'fulladdress', 'query', 'text', 'freeform',
      'singleline', 'adresse'],
    country: ['country', 'countrycode', 'cc', 'iso', 'iso3', 'land', 'pays'],
    state: ['state', 'region', 'province'],
    county: ['county'],
    city: ['city', 'town', 'locality', 'municipality', 'place', 'ort', 'gemeinde', 'ville'],
    district: ['district', 'suburb', 'neighbourhood', 'neighborhood', 'quarter'],
    street: ['street', 'road', 'streetname', 'strasse', 'rue', 'addrstreet'],
    houseNumber: ['housenumber', 'number', 'houseno', 'hnr', 'nr', 'num', 'no', 'addrhousenumber'],
    postalCode: ['postalcode', 'postcode', 'zip', 'zipcode', 'plz', 'postal', 'cp'],
  };
  const OUTCOLS = ['displayLatitude', 'displayLongitude', 'navigationLatitude',
    'navigationLongitude', 'locationLabel', 'addressLines', 'houseNumber', 'street', 'building',
    'subdistrict', 'district', 'city', 'postalCode', 'county', 'state', 'country',
    'addressDetailsCountry', 'locationId', 'relevance', 'matchLevel', 'matchType', 'matchCode',
    'matchQualityCity', 'matchQualityStreet', 'matchQualityHouseNumber',
    'matchQualityPostalCode'];
  /* what the result view needs: always sent */
  const REQUIRED_OUTCOLS = ['displayLatitude', 'displayLongitude', 'relevance', 'matchLevel'];
  const DEFAULT_OUTCOLS = ['displayLatitude', 'displayLongitude', 'locationLabel', 'houseNumber',
    'street', 'postalCode', 'city', 'country', 'relevance', 'matchLevel', 'matchType'];
  const LEVEL_COLOURS = {
    houseNumber: '#1a7f37', street: '#2f81f7', intersection: '#8250df', postalCode: '#bf8700',
    district: '#d4a72c', city: '#e16f24', county: '#a0522d', state: '#a0522d', country: '#6e7781',
    NOMATCH: '#cf222e', FAILED: '#000000',
  };
  const OUT_DELIM = '|';
  const PAGE_ROWS = 50;
  const SAMPLE_BYTES = 64 * 1024;

  /* ---- small helpers ---- */

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function fmtInt(n) { return Number(n || 0).toLocaleString('en-US'); }
  function age(iso) {
    if (!iso) return '';
    const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    if (s < 60) return Math.round(s) + ' s';
    if (s < 3600) return Math.round(s / 60) + ' min';
    if (s < 86400) return Math.round(s / 3600) + ' h';
    return Math.round(s / 86400) + ' d';
  }
  function levelClass(level) {
    return LEVEL_COLOURS[level] ? 'ml-' + level : 'ml-NOMATCH';
  }

  /* ---- credentials and requests ---- */

  let cred = null; /* {mode: 'app'|'key', appId, appCode, key} */

  function loadCred() {
    try { cred = JSON.parse(sessionStorage.getItem(CRED_KEY) || 'null'); } catch (e) { cred = null; }
  }
  function saveCred(c) {
    cred = c;
    if (c) sessionStorage.setItem(CRED_KEY, JSON.stringify(c));
    else sessionStorage.removeItem(CRED_KEY);
  }

  /* The URL of an API path with the query params and, for app_id/app_code, the credentials. */
  function apiUrl(path, params, c) {
    const q = new URLSearchParams(params || {});
    c = c || cred;
    if (c && c.mode === 'app') { q.set('app_id', c.appId); q.set('app_code', c.appCode); }
    const s = q.toString();
    return path + (s ? '?' + s : '');
  }
  function authHeaders(c) {
    c = c || cred;
    return c && c.mode === 'key' ? { Authorization: 'Bearer ' + c.key } : {};
  }

  class ApiError extends Error {
    constructor(status, details) { super(details); this.status = status; }
  }

  /* fetch() an API path; the answer's JSON (or text with asText); ApiError on a non-2xx. */
  async function api(method, path, params, opts) {
    opts = opts || {};
    const headers = Object.assign({ Accept: 'application/json' }, authHeaders(opts.cred));
    const r = await fetch(apiUrl(path, params, opts.cred), { method, headers, cache: 'no-store' });
    if (!r.ok) throw new ApiError(r.status, await errorText(r));
    if (opts.blob) return r;
    return opts.asText ? r.text() : r.json();
  }
  async function errorText(r) {
    const t = await r.text();
    try {
      const j = JSON.parse(t);
      if (j && j.Details) return j.Details;
      if (j && (j.cause || j.title)) return j.cause || j.title; /* v7 */
    } catch (e) { /* not JSON */ }
    return 'HTTP ' + r.status;
  }

  /* ---- sign in / out ---- */

  function showSignedIn() {
    const on = !!cred;
    $('signin').hidden = on;
    $('app').hidden = !on;
    $('who').hidden = !on;
    $('signout').hidden = !on;
    $('who').textContent = on ? 'Signed in as ' + (cred.mode === 'app' ? cred.appId : 'API key') : '';
    if (on) refreshJobs();
  }

  function setupSignIn() {
    const form = $('signin-form');
    form.addEventListener('change', () => {
      const key = form.elements.mode.value === 'key';
      document.querySelectorAll('.app-only').forEach((e) => { e.hidden = key; });
      document.querySelectorAll('.key-only').forEach((e) => { e.hidden = !key; });
    });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      $('signin-error').textContent = '';
      const mode = form.elements.mode.value;
      const c = mode === 'key'
        ? { mode, key: $('api-key').value.trim() }
        : { mode, appId: $('app-id').value.trim(), appCode: $('app-code').value };
      if ((mode === 'key' && !c.key) || (mode === 'app' && (!c.appId || !c.appCode))) {
        $('signin-error').textContent = 'Enter the credentials of your application.';
        return;
      }
      try {
        await api('GET', '/6.2/jobs.json', { limit: '1' }, { cred: c });
      } catch (e) {
        $('signin-error').textContent = e.status === 401
          ? 'Sign-in failed: ' + e.message : 'Sign-in failed: ' + (e.message || 'no answer');
        return;
      }
      $('app-code').value = '';
      $('api-key').value = '';
      saveCred(c);
      showSignedIn();
    });
    $('signout').addEventListener('click', () => {
      saveCred(null);
      stopWatching();
      $('results').hidden = true;
      $('progress').hidden = true;
      geom.data = null;
      geom.key = '';
      result = null;
      resultGen++;
      resetSearch();
      clear($('job-list').tBodies[0]);
      $('job-list').removeAttribute('data-total');
      showSignedIn();
      $('app-id').focus();
    });
  }

  /* ---- the file: delimiter, header, encoding, preview ---- */

  let upload = null; /* {file, delim, hasHeader, headerEnd, bom, rows, mapping, encoding} */

  /* Split delimited text into rows of fields (RFC 4180 quotes); the last line may be cut. */
  function parseRows(text, delim, maxRows) {
    const rows = [];
    let row = [], field = '', i = 0, quoted = false;
    while (i < text.length && rows.length < maxRows) {
      const ch = text[i];
      if (quoted) {
        if (ch === '"') {
          if (text[i + 1] === '"') { field += '"'; i += 2; continue; }
          quoted = false;
        } else field += ch;
        i++;
        continue;
      }
      if (ch === '"' && field === '') { quoted = true; i++; continue; }
      if (ch === delim) { row.push(field); field = ''; i++; continue; }
      if (ch === '\r' && text[i + 1] === '\n') { i++; continue; }
      if (ch === '\n') { row.push(field); rows.push(row); row = []; field = ''; i++; continue; }
      field += ch;
      i++;
    }
    return rows;
  }

  /* The delimiter whose count per line is the same and highest over the sample's lines. */
  function detectDelimiter(lines) {
    let best = ',', bestScore = -1;
    for (const d of [',', ';', '\t', '|']) {
      const counts = lines.map((l) => countOutsideQuotes(l, d));
      const first = counts[0];
      if (!first) continue;
      const same = counts.filter((c) => c === first).length / counts.length;
      const score = same * 1000 + first;
      if (score > bestScore) { bestScore = score; best = d; }
    }
    return best;
  }
  function countOutsideQuotes(line, d) {
    let n = 0, q = false;
    for (const ch of line) {
      if (ch === '"') q = !q;
      else if (ch === d && !q) n++;
    }
    return n;
  }

  function normName(s) { return s.toLowerCase().replace(/[^a-z0-9]/g, ''); }
  function fieldOfName(name) {
    const n = normName(name);
    for (const [f, names] of Object.entries(ALIASES)) if (names.includes(n)) return f;
    return '';
  }
  const isNumeric = (s) => /^\s*-?\d+([.,]\d+)?\s*$/.test(s);

  function detectHeader(rows) {
    if (!rows.length) return false;
    if (rows[0].some((c) => fieldOfName(c))) return true;
    if (rows.length < 2 || rows[0].some(isNumeric)) return false;
    return rows[1].some((c, i) => isNumeric(c) && !isNumeric(rows[0][i] || ''));
  }

  /* A first guess of each column's field: by header name, else by content. */
  function guessMapping(rows, hasHeader) {
    const ncols = Math.max(...rows.map((r) => r.length));
    const map = new Array(ncols).fill('');
    const used = new Set();
    if (hasHeader) {
      rows[0].forEach((name, i) => {
        const f = fieldOfName(name);
        if (f && !used.has(f)) { map[i] = f; used.add(f); }
      });
      return map;
    }
    const data = rows.slice(0, 20);
    const avgLen = (i) => data.reduce((s, r) => s + (r[i] || '').length, 0) / data.length;
    const spaces = (i) => data.filter((r) => /\s/.test(r[i] || '')).length;
    if (ncols === 1) { map[0] = 'searchText'; return map; }
    let text = -1;
    for (let i = 0; i < ncols; i++) if (spaces(i) && (text < 0 || avgLen(i) > avgLen(text))) text = i;
    if (text >= 0) map[text] = 'searchText';
    if (text !== 0 && !spaces(0)) map[0] = 'recId';
    for (let i = 0; i < ncols; i++) { /* a column of ISO codes: the country */
      if (!map[i] && data.every((r) => /^[A-Z]{2,3}$/.test(r[i] || ''))) { map[i] = 'country'; break; }
    }
    return map;
  }

  async function takeFile(file) {
    $('mapping-error').textContent = '';
    $('upload-text').textContent = '';
    $('upload-progress').value = 0;
    const bytes = new Uint8Array(await file.slice(0, SAMPLE_BYTES).arrayBuffer());
    const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
    let end = bytes.length;
    if (file.size > SAMPLE_BYTES) { /* whole lines only: no cut UTF-8 sequence */
      const nl = bytes.lastIndexOf(10);
      end = nl > 0 ? nl + 1 : end;
    }
    let encoding = 'UTF-8', text;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(bom, end));
    } catch (e) {
      encoding = 'not UTF-8 (probably Latin-1 or Windows-1252)';
      text = new TextDecoder('windows-1252').decode(bytes.subarray(bom, end));
    }
    const firstNl = bytes.indexOf(10);
    const lines = text.split('\n').filter((l) => l.trim() !== '').slice(0, 50);
    const delim = detectDelimiter(lines);
    upload = { file, bom, encoding, delim, headerEnd: firstNl >= 0 ? firstNl + 1 : -1, text };
    $('delim').value = delim;
    reparse(true);
    $('file-info').hidden = false;
  }

  /* Parse the sample with the chosen delimiter; guess the header and mapping when asked. */
  function reparse(guessHeader) {
    upload.delim = $('delim').value;
    upload.rows = parseRows(upload.text, upload.delim, 11);
    if (guessHeader) $('has-header').checked = detectHeader(upload.rows);
    upload.hasHeader = $('has-header').checked;
    upload.mapping = guessMapping(upload.rows, upload.hasHeader);
    showDetected();
    showPreview();
  }

  function delimName(d) {
    return { ',': 'comma', ';': 'semicolon', '\t': 'tab', '|': 'pipe' }[d] || d;
  }
  function showDetected() {
    const u = upload;
    $('detected').textContent = u.file.name + ' — ' + fmtInt(u.file.size) + ' bytes; delimiter: ' +
      delimName(u.delim) + '; header: ' + (u.hasHeader ? 'yes' : 'no') + '; encoding: ' +
      u.encoding + (u.bom ? ' (with BOM)' : '');
  }

  function showPreview() {
    const table = $('preview');
    const thead = table.tHead, tbody = table.tBodies[0];
    clear(thead);
    clear(tbody);
    const u = upload;
    const ncols = u.mapping.length;
    const selRow = el('tr');
    for (let i = 0; i < ncols; i++) {
      const th = el('th');
      const name = u.hasHeader ? (u.rows[0][i] || '') : 'column ' + (i + 1);
      const label = el('label', { for: 'map-' + i }, name);
      const sel = el('select', { id: 'map-' + i, 'data-testid': 'map-' + i });
      sel.appendChild(el('option', { value: '' }, '(ignore)'));
      for (const f of INPUT_FIELDS) sel.appendChild(el('option', { value: f }, f));
      sel.value = u.mapping[i];
      sel.addEventListener('change', () => { u.mapping[i] = sel.value; checkMapping(); });
      th.appendChild(label);
      th.appendChild(el('br'));
      th.appendChild(sel);
      selRow.appendChild(th);
    }
    thead.appendChild(selRow);
    for (const r of u.rows.slice(u.hasHeader ? 1 : 0, (u.hasHeader ? 1 : 0) + 10)) {
      const tr = el('tr');
      for (let i = 0; i < ncols; i++) tr.appendChild(el('td', {}, r[i] || ''));
      tbody.appendChild(tr);
    }
    checkMapping();
  }

  /* The mapping's problem for a human, or '' when it can be submitted. */
  function mappingProblem() {
    const u = upload;
    if (!u) return 'Choose a file first.';
    if (!u.encoding.startsWith('UTF-8')) return 'The file is not UTF-8: save it as UTF-8 first.';
    if (u.hasHeader && u.headerEnd < 0) return 'The header line is longer than 64 KB.';
    const seen = new Set();
    for (const f of u.mapping) {
      if (!f) continue;
      if (seen.has(f)) return 'Two columns are mapped to ' + f + '.';
      seen.add(f);
    }
    const usable = [...seen].filter((f) => f !== 'recId');
    if (!usable.length) return 'Map at least one column to searchText or to address fields.';
    return '';
  }
  function checkMapping() {
    const p = mappingProblem();
    $('mapping-error').textContent = p;
    $('submit').disabled = !!p;
  }

  function setupOutcols() {
    const fs = $('outcols');
    for (const c of OUTCOLS) {
      const id = 'oc-' + c;
      const lab = el('label', { for: id });
      const box = el('input', { type: 'checkbox', id, value: c, 'data-testid': 'outcol-' + c });
      box.checked = DEFAULT_OUTCOLS.includes(c);
      if (REQUIRED_OUTCOLS.includes(c)) {
        box.checked = true;
        box.disabled = true;
        lab.title = 'needed by the result view';
      }
      lab.appendChild(box);
      lab.appendChild(document.createTextNode(' ' + c));
      fs.appendChild(lab);
    }
  }
  function chosenOutcols() {
    return OUTCOLS.filter((c) => $('oc-' + c).checked);
  }

  function setupFile() {
    const input = $('file'), drop = $('drop');
    input.addEventListener('change', () => { if (input.files[0]) takeFile(input.files[0]); });
    drop.addEventListener('dragover', (ev) => { ev.preventDefault(); drop.classList.add('over'); });
    drop.addEventListener('dragleave', () => drop.classList.remove('over'));
    drop.addEventListener('drop', (ev) => {
      ev.preventDefault();
      drop.classList.remove('over');
      const f = ev.dataTransfer && ev.dataTransfer.files[0];
      if (!f) return;
      input.value = ''; /* the picker no longer names the file in use (and may pick it again) */
      takeFile(f);
    });
    $('delim').addEventListener('change', () => reparse(true));
    $('has-header').addEventListener('change', () => reparse(false));
    $('submit').addEventListener('click', submitJob);
  }

  /* ---- submit: a new header line + the file's bytes after its own header, streamed ---- */

  function submitJob() {
    const problem = mappingProblem();
    if (problem) { $('mapping-error').textContent = problem; return; }
    const u = upload;
    const header = u.mapping.join(u.delim) + '\n';
    const rest = u.hasHeader ? u.file.slice(u.headerEnd) : u.file.slice(u.bom);
    const body = new Blob([header, rest]);
    const params = {
      indelim: u.delim, outdelim: OUT_DELIM, outcols: chosenOutcols().join(','),
      outputcombined: 'true', header: 'true',
    };
    if (u.mapping.some((f) => !f)) params.allowUnknownInputColumns = 'true';
    if ($('start-now').checked) params.action = 'run';
    const xhr = new XMLHttpRequest();
    xhr.open('POST', apiUrl('/6.2/jobs.json', params));
    for (const [k, v] of Object.entries(authHeaders())) xhr.setRequestHeader(k, v);
    xhr.setRequestHeader('Content-Type', 'text/plain; charset=utf-8');
    $('submit').disabled = true;
    xhr.upload.onprogress = (ev) => {
      if (!ev.lengthComputable) return;
      const pct = Math.floor((100 * ev.loaded) / ev.total);
      $('upload-progress').value = pct;
      $('upload-text').textContent = pct + ' % of ' + fmtInt(ev.total) + ' bytes';
    };
    xhr.onerror = () => {
      $('submit').disabled = false;
      $('mapping-error').textContent = 'Upload failed: no answer from the server.';
    };
    xhr.onload = () => {
      $('submit').disabled = false;
      let doc = null;
      try { doc = JSON.parse(xhr.responseText); } catch (e) { doc = null; }
      if (xhr.status !== 200 || !doc || !doc.Response) {
        $('mapping-error').textContent = 'Upload refused: ' +
          (doc && doc.Details ? doc.Details : 'HTTP ' + xhr.status);
        return;
      }
      $('upload-progress').value = 100;
      $('upload-text').textContent = 'uploaded';
      const id = doc.Response.MetaInfo.RequestId;
      refreshJobs();
      if (params.action === 'run') watch(id, doc.Response);
    };
    xhr.send(body);
  }

  /* ---- live progress: long polling of /6.2/jobs/{id}/progress (docs/api.md) ---- */

  let watching = null; /* {id, stop} */
  const FINAL = ['completed', 'cancelled', 'deleted', 'failed'];

  function stopWatching() { if (watching) watching.stop = true; watching = null; }

  async function watch(id, first) {
    stopWatching();
    const w = { id, stop: false };
    watching = w;
    $('progress').hidden = false;
    $('progress-id').textContent = id;
    let doc = first, t0 = null, p0 = 0;
    for (;;) {
      if (doc) {
        showProgress(doc, t0, p0);
        if (doc.Status === 'running' && t0 === null) { t0 = performance.now(); p0 = doc.ProcessedCount; }
        if (FINAL.includes(doc.Status)) break;
      }
      try {
        const r = await api('GET', '/6.2/jobs/' + id + '/progress.json',
          { status: doc ? doc.Status : '', processed: doc ? String(doc.ProcessedCount) : '', wait: '10' });
        doc = r.Response;
      } catch (e) {
        $('progress-text').textContent = 'Progress unavailable: ' + e.message;
        return;
      }
      if (w.stop) return;
    }
    refreshJobs();
    if (doc.Status === 'completed') showResult(id);
  }

  function showProgress(d, t0, p0) {
    const valid = d.ValidCount || 0, done = d.ProcessedCount || 0;
    let pct = d.Status === 'completed' ? 100 : valid ? Math.floor((100 * done) / valid) : 0;
    const bar = $('job-progress');
    bar.value = pct;
    bar.setAttribute('data-state', d.Status);
    bar.setAttribute('data-percent', String(pct));
    $('progress-state').textContent = d.Status;
    let s = pct + ' % — ' + fmtInt(done) + ' of ' + fmtInt(valid) + ' rows';
    if (t0 !== null && d.Status === 'running') {
      const sec = (performance.now() - t0) / 1000;
      const rate = sec > 0 ? (done - p0) / sec : 0;
      if (rate > 0) {
        s += '; ' + fmtInt(Math.round(rate)) + ' rows/s; about ' +
          Math.ceil((valid - done) / rate) + ' s left';
      }
    }
    s += '; not matched ' + fmtInt(d.ErrorCount) + '; invalid lines ' + fmtInt(d.InvalidCount);
    $('progress-text').textContent = s;
  }

  /* ---- the job list ---- */

  async function refreshJobs() {
    $('jobs-error').textContent = '';
    let list;
    try {
      list = (await api('GET', '/6.2/jobs.json', { limit: '100' })).JobList;
    } catch (e) {
      $('jobs-error').textContent = 'Could not list the jobs: ' + e.message;
      return;
    }
    const tbody = $('job-list').tBodies[0];
    clear(tbody);
    for (const j of list.Jobs) tbody.appendChild(jobRow(j));
    $('job-list').setAttribute('data-total', String(list.TotalJobs));
  }

  function jobRow(j) {
    const id = j.MetaInfo.RequestId, st = j.Status;
    const tr = el('tr', { 'data-testid': 'job-row', 'data-job-id': id, 'data-state': st });
    tr.appendChild(el('td', { class: 'mono' }, id));
    tr.appendChild(el('td', { 'data-testid': 'job-state' }, st));
    tr.appendChild(el('td', {}, age(j.Created)));
    tr.appendChild(el('td', {}, fmtInt(j.TotalCount)));
    tr.appendChild(el('td', {}, fmtInt(j.ProcessedCount)));
    tr.appendChild(el('td', {}, fmtInt(j.SuccessCount)));
    tr.appendChild(el('td', {}, fmtInt(j.ErrorCount)));
    tr.appendChild(el('td', {}, fmtInt(j.InvalidCount)));
    const td = el('td', { class: 'actions' });
    const act = (label, testid, fn, enabled) => {
      const b = el('button', { type: 'button', class: 'small', 'data-testid': testid,
        'aria-label': label + ' job ' + id }, label);
      b.disabled = !enabled;
      b.addEventListener('click', () => fn(id).catch((e) => {
        $('jobs-error').textContent = label + ' failed: ' + e.message;
      }));
      td.appendChild(b);
    };
    const open = ['submitted', 'accepted', 'running'].includes(st);
    act('View', 'job-view', viewJob, st === 'completed' || open);
    act('Start', 'job-run', (x) => put(x, 'run'), st === 'submitted' || st === 'failed');
    act('Cancel', 'job-cancel', (x) => put(x, 'cancel'), open);
    act('Delete', 'job-delete', del, st !== 'deleted');
    act('Result', 'job-download-result', (x) => download(x, 'result', { outputcompressed: 'false' }, '_out.txt'), st === 'completed');
    act('Result (zip)', 'job-download-zip', (x) => download(x, 'result', {}, '.zip'), st === 'completed');
    act('Non-matches', 'job-download-nomatches', (x) => download(x, 'no-matches', { outputcompressed: 'false' }, '_nomatch.txt'), st === 'completed');
    act('Errors', 'job-download-errors', (x) => download(x, 'errors', {}, '_errors.txt'), st !== 'deleted');
    tr.appendChild(td);
    return tr;
  }

  async function put(id, action) {
    const r = await api('PUT', '/6.2/jobs/' + id + '.json', { action });
    await refreshJobs();
    if (action === 'run') watch(id, r.Response);
  }
  async function del(id) {
    await api('DELETE', '/6.2/jobs/' + id + '.json', {});
    if (watching && watching.id === id) stopWatching();
    await refreshJobs();
  }
  async function viewJob(id) {
    const r = await api('GET', '/6.2/jobs/' + id + '.json', {});
    if (r.Response.Status === 'completed') showResult(id);
    else watch(id, r.Response);
  }

  /*
   * Fetch a file of the job with the credentials (they cannot go in a link) and offer it as a
   * link to save. The link is clicked by the user: a download started by the page itself after
   * the fetch would count as an automatic one, which browsers allow only once per page.
   */
  let saveUrl = null;
  async function download(id, what, params, suffix) {
    const area = $('save-area');
    clear(area);
    area.appendChild(el('span', {}, 'Preparing ' + id + suffix + '…'));
    const r = await api('GET', '/6.2/jobs/' + id + '/' + what, params, { blob: true });
    const blob = await r.blob();
    if (saveUrl) URL.revokeObjectURL(saveUrl);
    saveUrl = URL.createObjectURL(blob);
    clear(area);
    const a = el('a', { href: saveUrl, download: id + suffix, 'data-testid': 'save-link' },
      'Save ' + id + suffix + ' (' + fmtInt(blob.size) + ' bytes)');
    area.appendChild(a);
    a.focus();
  }

  /* ---- the result: table, summary, map ---- */

  /*
   * The result is read once, as a stream (fetch's reader), and never held as text: while it
   * streams, the summary counts every row (rows per match level, relevance histogram), the map
   * keeps a uniform sample of at most MAP_MAX_POINTS located rows (reservoir sampling with a
   * fixed seed, so the same result gives the same sample), and the table keeps only the byte
   * offset of every PAGE_ROWS-th line. The bytes go into Blobs of about BLOB_PART bytes each,
   * which the browser keeps outside the page's memory (on disk when they are large); a page
   * is the slice of the Blob between two offsets, decoded when it is shown.
   */
  const MAP_MAX_POINTS = 20000;
  const BLOB_PART = 8 * 1024 * 1024;
  let result = null; /* {id, cols, rows, page, pageStart[], blob, counts, bins, points, done} */
  let resultGen = 0; /* the result being read: a newer one stops an older one */
  let pageGen = 0; /* the page being shown: a newer one wins */

  function splitLine(line, d) {
    if (!line.includes('"')) return line.split(d);
    return parseRows(line + '\n', d, 1)[0] || [];
  }

  /* A small seeded PRNG (mulberry32) for the map's sample. */
  function prng(seed) {
    return () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  async function showResult(id) {
    const gen = ++resultGen;
    const r = await api('GET', '/6.2/jobs/' + id + '/result', { outputcompressed: 'false' }, { blob: true });
    const st = {
      id, cols: [], rows: 0, page: 0, pageStart: [], blob: null, counts: new Map(),
      bins: new Array(10).fill(0), points: [], located: 0, done: false, firstPage: [],
    };
    result = st;
    $('results').hidden = false;
    showJobParts(true);
    $('results-id').textContent = id;
    $('results-table').removeAttribute('data-rows');
    $('page-label').textContent = 'reading the result…';
    ['page-first', 'page-prev', 'page-next', 'page-last'].forEach((b) => { $(b).disabled = true; });
    const dec = new TextDecoder();
    const rand = prng(20261203);
    let li = -1, ri = -1, la = -1, lo = -1;
    const line = (bytes, start) => {
      const text = dec.decode(bytes).replace(/\r$/, '');
      if (start === 0) {
        st.cols = splitLine(text, OUT_DELIM);
        li = st.cols.indexOf('matchLevel'); ri = st.cols.indexOf('relevance');
        la = st.cols.indexOf('displayLatitude'); lo = st.cols.indexOf('displayLongitude');
        return;
      }
      const k = st.rows++;
      if (k % PAGE_ROWS === 0) st.pageStart.push(start);
      const row = splitLine(text, OUT_DELIM);
      if (k < PAGE_ROWS) st.firstPage.push(row);
      const lv = row[li] || '';
      st.counts.set(lv, (st.counts.get(lv) || 0) + 1);
      const rel = parseFloat(row[ri]);
      if (!Number.isNaN(rel)) st.bins[Math.min(9, Math.max(0, Math.floor(rel * 10)))]++;
      const lat = parseFloat(row[la]), lon = parseFloat(row[lo]);
      if (!Number.isFinite(lat) || !Number.isFinite(lon)) return;
      const [x, y] = merc(lat, lon);
      const p = { x, y, level: lv, row };
      st.located++;
      if (st.points.length < MAP_MAX_POINTS) st.points.push(p);
      else {
        const j = Math.floor(rand() * st.located);
        if (j < MAP_MAX_POINTS) st.points[j] = p;
      }
    };
    const reader = r.body.getReader();
    const parts = [], pending = [];
    let pendingBytes = 0, pos = 0, carry = null, lineStart = 0, shown = false, told = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (gen !== resultGen) { reader.cancel().catch(() => {}); return; }
      if (done) break;
      pending.push(value);
      pendingBytes += value.length;
      if (pendingBytes >= BLOB_PART) { parts.push(new Blob(pending)); pending.length = 0; pendingBytes = 0; }
      let from = 0;
      for (let nl = value.indexOf(10); nl >= 0; nl = value.indexOf(10, from)) {
        let bytes = value.subarray(from, nl);
        if (carry) { bytes = concat(carry, bytes); carry = null; }
        line(bytes, lineStart);
        from = nl + 1;
        lineStart = pos + from;
      }
      if (from < value.length) carry = carry ? concat(carry, value.subarray(from)) : value.slice(from);
      pos += value.length;
      if (!shown && st.rows >= PAGE_ROWS) { shown = true; fillTable(st.firstPage); }
      if (st.rows - told >= 50000) {
        told = st.rows;
        $('page-label').textContent = 'reading the result: ' + fmtInt(st.rows) + ' rows…';
      }
    }
    if (carry && carry.length) line(carry, lineStart);
    parts.push(new Blob(pending));
    st.blob = new Blob(parts);
    st.done = true;
    st.firstPage = null;
    showSummary();
    mapFit();
    await showPage();
    if (gen === resultGen) $('results-table').setAttribute('data-rows', String(st.rows));
  }

  function concat(a, b) {
    const c = new Uint8Array(a.length + b.length);
    c.set(a, 0);
    c.set(b, a.length);
    return c;
  }

  /* Show the rows of one page of the table (the header line above them). */
  function fillTable(rows) {
    const r = result, table = $('results-table');
    clear(table.tHead);
    clear(table.tBodies[0]);
    const hr = el('tr');
    for (const c of r.cols) hr.appendChild(el('th', { scope: 'col' }, c));
    table.tHead.appendChild(hr);
    const li = r.cols.indexOf('matchLevel');
    for (const row of rows) {
      const tr = el('tr');
      row.forEach((v, i) => {
        const td = el('td', {}, v);
        if (i === li) td.className = 'level ' + levelClass(v);
        tr.appendChild(td);
      });
      table.tBodies[0].appendChild(tr);
    }
  }

  /* Show page result.page: the slice of the Blob between its offset and the next page's. */
  async function showPage() {
    const r = result, gen = ++pageGen;
    const pages = Math.max(1, Math.ceil(r.rows / PAGE_ROWS));
    r.page = Math.min(Math.max(0, r.page), pages - 1);
    let rows = [];
    if (r.rows > 0) {
      const end = r.page + 1 < r.pageStart.length ? r.pageStart[r.page + 1] : r.blob.size;
      const text = await r.blob.slice(r.pageStart[r.page], end).text();
      if (gen !== pageGen || r !== result) return;
      rows = text.split('\n').filter((l, i, a) => !(i === a.length - 1 && l === ''))
        .map((l) => splitLine(l.replace(/\r$/, ''), OUT_DELIM));
    }
    fillTable(rows);
    $('page-label').textContent = 'page ' + fmtInt(r.page + 1) + ' of ' + fmtInt(pages) + ' (' + fmtInt(r.rows) + ' rows)';
    $('page-first').disabled = $('page-prev').disabled = r.page === 0;
    $('page-last').disabled = $('page-next').disabled = r.page >= pages - 1;
  }

  function showSummary() {
    const r = result;
    const tbody = $('summary').tBodies[0];
    clear(tbody);
    for (const [lv, n] of [...r.counts.entries()].sort((a, b) => b[1] - a[1])) {
      const tr = el('tr', { 'data-level': lv });
      const td = el('td');
      td.appendChild(el('span', { class: 'swatch ' + levelClass(lv), 'aria-hidden': 'true' }));
      td.appendChild(document.createTextNode(lv));
      tr.appendChild(td);
      tr.appendChild(el('td', {}, fmtInt(n)));
      tr.appendChild(el('td', {}, ((100 * n) / Math.max(1, r.rows)).toFixed(1) + ' %'));
      tbody.appendChild(tr);
    }
    const h = $('histogram');
    clear(h);
    const max = Math.max(1, ...r.bins);
    r.bins.forEach((n, i) => {
      const bar = el('div', { title: (i / 10).toFixed(1) + '–' + ((i + 1) / 10).toFixed(1) + ': ' + n + ' rows' });
      bar.style.height = Math.round((100 * n) / max) + '%';
      h.appendChild(bar);
    });
    const note = $('map-sample');
    note.textContent = r.located > r.points.length
      ? 'The map shows a sample of ' + fmtInt(r.points.length) + ' of the ' + fmtInt(r.located) + ' located rows.'
      : '';
  }

  /* The map: Web Mercator on a canvas; view = centre (x, y in [0,1]) and scale (px per unit). */
  const view = { cx: 0.5, cy: 0.5, scale: 640, drag: null };
  function merc(lat, lon) {
    const s = Math.sin((Math.max(-85, Math.min(85, lat)) * Math.PI) / 180);
    return [(lon + 180) / 360, 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)];
  }
  function toScreen(x, y, c) {
    return [(x - view.cx) * view.scale + c.width / 2, (y - view.cy) * view.scale + c.height / 2];
  }

  function mapFit() {
    const pts = result ? result.points : [];
    const c = $('map');
    if (!pts.length && sg.point) { view.cx = sg.point.x; view.cy = sg.point.y; view.scale = Math.max(view.scale, 4e6); drawMap(); return; }
    if (!pts.length) { view.cx = 0.5; view.cy = 0.5; view.scale = c.width; drawMap(); return; }
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const p of pts) { x0 = Math.min(x0, p.x); x1 = Math.max(x1, p.x); y0 = Math.min(y0, p.y); y1 = Math.max(y1, p.y); }
    view.cx = (x0 + x1) / 2;
    view.cy = (y0 + y1) / 2;
    const span = Math.max(x1 - x0, y1 - y0, 1e-6);
    view.scale = (0.9 * Math.min(c.width, c.height)) / span;
    drawMap();
  }

  function drawMap() {
    const c = $('map'), g = c.getContext('2d');
    g.fillStyle = '#eef3f7';
    g.fillRect(0, 0, c.width, c.height);
    /* graticule: a line every step degrees, step chosen for the zoom */
    const degPx = view.scale / 360;
    let step = 0.001;
    for (const s of [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30]) {
      step = s;
      if (s * degPx >= 60) break;
    }
    g.strokeStyle = '#d0dae3';
    g.lineWidth = 1;
    const lonL = ((view.cx - c.width / 2 / view.scale) * 360) - 180;
    const lonR = ((view.cx + c.width / 2 / view.scale) * 360) - 180;
    for (let lon = Math.ceil(lonL / step) * step; lon <= lonR; lon += step) {
      const [x] = toScreen((lon + 180) / 360, 0, c);
      g.beginPath(); g.moveTo(x, 0); g.lineTo(x, c.height); g.stroke();
    }
    const latOf = (y) => (Math.atan(Math.sinh(Math.PI * (1 - 2 * y))) * 180) / Math.PI;
    const latB = latOf(view.cy + c.height / 2 / view.scale), latT = latOf(view.cy - c.height / 2 / view.scale);
    for (let lat = Math.ceil(latB / step) * step; lat <= latT; lat += step) {
      const [, y] = toScreen(0, merc(lat, 0)[1], c);
      g.beginPath(); g.moveTo(0, y); g.lineTo(c.width, y); g.stroke();
    }
    drawGeometry(g, c);
    let drawn = 0;
    if (result && result.points) {
      for (const p of result.points) {
        const [x, y] = toScreen(p.x, p.y, c);
        if (x < -4 || y < -4 || x > c.width + 4 || y > c.height + 4) continue;
        g.fillStyle = LEVEL_COLOURS[p.level] || LEVEL_COLOURS.NOMATCH;
        g.beginPath();
        g.arc(x, y, 3, 0, 2 * Math.PI);
        g.fill();
        drawn++;
      }
    }
    c.setAttribute('data-points', String(drawn));
    /* the answer of the search box: a dark point ringed in white */
    if (sg.point) {
      const [x, y] = toScreen(sg.point.x, sg.point.y, c);
      g.beginPath();
      g.arc(x, y, 6, 0, 2 * Math.PI);
      g.fillStyle = '#0f2a44';
      g.fill();
      g.lineWidth = 2;
      g.strokeStyle = '#ffffff';
      g.stroke();
      c.setAttribute('data-search-point', sg.point.lat + ',' + sg.point.lng);
    } else c.removeAttribute('data-search-point');
    c.setAttribute('data-scale', view.scale.toFixed(1));
    scheduleGeometry();
  }

  /* ---- outlines from the index: /6.2/geometry.json for the visible box (docs/api.md) ---- */

  const geom = { data: null, key: '', timer: 0, abort: null };

  function visibleBox() {
    const c = $('map');
    const latOf = (y) => (Math.atan(Math.sinh(Math.PI * (1 - 2 * y))) * 180) / Math.PI;
    const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
    const w = clamp((view.cx - c.width / 2 / view.scale) * 360 - 180, -180, 180);
    const e = clamp((view.cx + c.width / 2 / view.scale) * 360 - 180, -180, 180);
    const s = clamp(latOf(view.cy + c.height / 2 / view.scale), -85, 85);
    const n = clamp(latOf(view.cy - c.height / 2 / view.scale), -85, 85);
    return [s, w, n, e].map((v) => v.toFixed(5)).join(',');
  }

  /* Ask for the outlines of the visible box once the view has been still for a moment. */
  function scheduleGeometry() {
    if (!cred || $('results').hidden) return;
    const key = visibleBox();
    if (key === geom.key) return;
    clearTimeout(geom.timer);
    $('map').setAttribute('data-geometry', 'pending');
    geom.timer = setTimeout(() => loadGeometry(key), 150);
  }

  async function loadGeometry(key) {
    if (geom.abort) geom.abort.abort();
    const ctl = new AbortController();
    geom.abort = ctl;
    const c = $('map');
    c.setAttribute('data-geometry', 'loading');
    try {
      const r = await fetch(apiUrl('/6.2/geometry.json', { bbox: key }),
        { headers: Object.assign({ Accept: 'application/json' }, authHeaders()), signal: ctl.signal, cache: 'no-store' });
      if (!r.ok) throw new ApiError(r.status, await errorText(r));
      geom.data = await r.json();
      geom.key = key;
    } catch (e) {
      if (e.name === 'AbortError') return;
      geom.data = null;
      geom.key = key;
      c.setAttribute('data-geometry', 'error');
      c.setAttribute('title', 'No outlines: ' + e.message);
      return;
    }
    drawMap();
    c.setAttribute('data-geometry', 'loaded');
  }

  function strokeLines(g, c, lines) {
    for (const line of lines) {
      g.beginPath();
      for (let i = 0; i + 1 < line.length; i += 2) {
        const [x, y] = toScreen(...merc(line[i], line[i + 1]), c);
        if (i === 0) g.moveTo(x, y);
        else g.lineTo(x, y);
      }
      g.stroke();
    }
  }

  function drawGeometry(g, c) {
    const d = geom.data;
    let nlines = 0;
    if (d) {
      g.lineJoin = 'round';
      for (const a of d.areas) {
        g.strokeStyle = a.rank <= 2 ? '#6e7781' : '#a5b1bd';
        g.lineWidth = a.rank <= 2 ? 2 : 1;
        strokeLines(g, c, a.lines);
      }
      g.strokeStyle = '#ffffff';
      g.lineWidth = 3;
      for (const s of d.streets) strokeLines(g, c, s.lines);
      g.strokeStyle = '#c2ccd6';
      g.lineWidth = 1;
      for (const s of d.streets) { strokeLines(g, c, s.lines); nlines += s.lines.length; }
    }
    c.setAttribute('data-lines', String(nlines));
    c.setAttribute('data-areas', String(d ? d.areas.length : 0));
  }

  function zoom(f, px, py) {
    const c = $('map');
    px = px === undefined ? c.width / 2 : px;
    py = py === undefined ? c.height / 2 : py;
    const wx = view.cx + (px - c.width / 2) / view.scale, wy = view.cy + (py - c.height / 2) / view.scale;
    view.scale = Math.min(Math.max(view.scale * f, 100), 1e9);
    view.cx = wx - (px - c.width / 2) / view.scale;
    view.cy = wy - (py - c.height / 2) / view.scale;
    drawMap();
  }
  function pan(dx, dy) { view.cx -= dx / view.scale; view.cy -= dy / view.scale; drawMap(); }

  function mapClick(px, py) {
    if (!result || !result.points) return;
    const c = $('map');
    let best = null, bd = 8 * 8;
    for (const p of result.points) {
      const [x, y] = toScreen(p.x, p.y, c);
      const d = (x - px) * (x - px) + (y - py) * (y - py);
      if (d <= bd) { bd = d; best = p; }
    }
    const info = $('map-info');
    if (!best) { info.textContent = ''; return; }
    const row = best.row;
    info.textContent = result.cols.map((col, i) => col + ': ' + (row[i] || '')).join('\n');
  }

  function setupMap() {
    const c = $('map');
    c.addEventListener('mousedown', (ev) => { view.drag = { x: ev.offsetX, y: ev.offsetY, moved: false }; });
    c.addEventListener('mousemove', (ev) => {
      if (!view.drag) return;
      const dx = ev.offsetX - view.drag.x, dy = ev.offsetY - view.drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 2) view.drag.moved = true;
      view.drag.x = ev.offsetX;
      view.drag.y = ev.offsetY;
      if (view.drag.moved) pan(dx, dy);
    });
    c.addEventListener('mouseup', (ev) => {
      if (view.drag && !view.drag.moved) mapClick(ev.offsetX, ev.offsetY);
      view.drag = null;
    });
    c.addEventListener('mouseleave', () => { view.drag = null; });
    c.addEventListener('wheel', (ev) => {
      ev.preventDefault();
      zoom(ev.deltaY < 0 ? 1.25 : 0.8, ev.offsetX, ev.offsetY);
    }, { passive: false });
    c.addEventListener('keydown', (ev) => {
      const k = ev.key;
      if (k === '+' || k === '=') zoom(1.25);
      else if (k === '-') zoom(0.8);
      else if (k === 'ArrowLeft') pan(40, 0);
      else if (k === 'ArrowRight') pan(-40, 0);
      else if (k === 'ArrowUp') pan(0, 40);
      else if (k === 'ArrowDown') pan(0, -40);
      else return;
      ev.preventDefault();
    });
    $('zoom-in').addEventListener('click', () => zoom(1.5));
    $('zoom-out').addEventListener('click', () => zoom(1 / 1.5));
    $('zoom-fit').addEventListener('click', mapFit);
    $('page-first').addEventListener('click', () => { result.page = 0; showPage(); });
    $('page-prev').addEventListener('click', () => { result.page--; showPage(); });
    $('page-next').addEventListener('click', () => { result.page++; showPage(); });
    $('page-last').addEventListener('click', () => { result.page = Infinity; showPage(); });
    drawMap();
  }

  /* ---- the search box: /v1/autosuggest as you type, /v1/geocode on a choice (docs/api.md) ---- */

  /*
   * An ARIA combobox: the input owns a listbox of suggestions; ArrowDown/ArrowUp move the active
   * option (aria-activedescendant, focus stays in the input), Enter geocodes the active
   * suggestion or else the text as typed, Escape closes the list, a click chooses. A request
   * for suggestions goes out SUGGEST_DELAY ms after the last keystroke, near the centre of the
   * map (`at`); an older request still running is aborted, and an answer to anything but the
   * text now in the box is dropped.
   */
  const SUGGEST_DELAY = 200;
  const SUGGEST_LIMIT = 8;
  const sg = { timer: 0, abort: null, items: [], active: -1, point: null };

  /* The centre of the map as "lat,lon" with 5 decimals. */
  function mapCentre() {
    const lat = (Math.atan(Math.sinh(Math.PI * (1 - 2 * view.cy))) * 180) / Math.PI;
    const lon = view.cx * 360 - 180;
    const r = (v, lim) => Math.min(lim, Math.max(-lim, v)).toFixed(5);
    return r(lat, 85) + ',' + r(lon, 180);
  }

  function suggestOpen(open) {
    const list = $('suggest-list'), input = $('search-input');
    list.hidden = !open;
    input.setAttribute('aria-expanded', open ? 'true' : 'false');
    if (!open) { sg.active = -1; input.removeAttribute('aria-activedescendant'); }
  }

  function suggestActivate(i) {
    const list = $('suggest-list'), input = $('search-input');
    sg.active = i;
    [...list.children].forEach((li, k) => li.setAttribute('aria-selected', k === i ? 'true' : 'false'));
    if (i < 0) { input.removeAttribute('aria-activedescendant'); return; }
    input.setAttribute('aria-activedescendant', 'suggest-' + i);
    list.children[i].scrollIntoView({ block: 'nearest' });
  }

  async function suggest(q) {
    if (sg.abort) sg.abort.abort();
    const ctl = new AbortController();
    sg.abort = ctl;
    const at = mapCentre();
    const list = $('suggest-list'), status = $('suggest-status');
    let items;
    try {
      const r = await fetch(apiUrl('/v1/autosuggest', { q, at, limit: String(SUGGEST_LIMIT) }),
        { headers: Object.assign({ Accept: 'application/json' }, authHeaders()), signal: ctl.signal, cache: 'no-store' });
      if (!r.ok) throw new ApiError(r.status, await errorText(r));
      items = (await r.json()).items || [];
    } catch (e) {
      if (e.name === 'AbortError') return;
      status.textContent = 'No suggestions: ' + e.message;
      return;
    }
    if (ctl !== sg.abort || $('search-input').value !== q) return;
    sg.abort = null;
    sg.items = items;
    clear(list);
    items.forEach((it, i) => {
      const li = el('li', { id: 'suggest-' + i, role: 'option', 'aria-selected': 'false', 'data-testid': 'suggestion' });
      li.appendChild(el('span', { class: 'title', 'data-testid': 'suggestion-title' }, it.title));
      li.appendChild(el('span', { class: 'kind' }, it.resultType || ''));
      li.addEventListener('mousedown', (ev) => ev.preventDefault()); /* the input keeps the focus */
      li.addEventListener('click', () => choose(i));
      list.appendChild(li);
    });
    list.setAttribute('data-q', q);
    list.setAttribute('data-at', at);
    suggestActivate(-1); /* a new list: nothing chosen yet */
    suggestOpen(items.length > 0);
    status.textContent = items.length
      ? items.length + (items.length === 1 ? ' suggestion' : ' suggestions')
      : 'No suggestions for “' + q + '”';
  }

  function choose(i) {
    const it = sg.items[i];
    if (!it) return;
    $('search-input').value = it.title;
    searchGeocode(it.title);
  }

  /* Geocode q with /v1/geocode (the best answer) and show it, and its point on the map. */
  async function searchGeocode(q) {
    clearTimeout(sg.timer);
    if (sg.abort) { sg.abort.abort(); sg.abort = null; }
    suggestOpen(false);
    const ans = $('search-answer'), err = $('search-error');
    err.textContent = '';
    ans.removeAttribute('data-q');
    q = q.trim();
    if (!q) return;
    let items;
    try {
      items = (await api('GET', '/v1/geocode', { q, limit: '1' })).items || [];
    } catch (e) {
      err.textContent = 'Search failed: ' + e.message;
      return;
    }
    if ($('search-input').value.trim() !== q) return; /* the text changed meanwhile */
    const it = items[0];
    if (!it || !it.position) {
      ans.hidden = true;
      err.textContent = 'No address found for “' + q + '”';
      sg.point = null;
      drawMap();
      return;
    }
    $('answer-label').textContent = it.title;
    $('answer-level').textContent = it.resultType + (it.houseNumberType ? ' (' + it.houseNumberType + ')' : '');
    $('answer-position').textContent = it.position.lat + ', ' + it.position.lng;
    ans.hidden = false;
    ans.setAttribute('data-q', q);
    const [x, y] = merc(it.position.lat, it.position.lng);
    sg.point = { x, y, lat: it.position.lat, lng: it.position.lng };
    if ($('results').hidden) {
      $('results').hidden = false;
      showJobParts(false);
      view.scale = Math.max(view.scale, 4e6);
    }
    view.cx = x;
    view.cy = y;
    drawMap();
  }

  function setupSearch() {
    const input = $('search-input');
    input.addEventListener('input', () => {
      clearTimeout(sg.timer);
      const q = input.value;
      if (!q.trim()) {
        if (sg.abort) { sg.abort.abort(); sg.abort = null; }
        clear($('suggest-list'));
        sg.items = [];
        suggestOpen(false);
        $('suggest-status').textContent = '';
        return;
      }
      sg.timer = setTimeout(() => suggest(q), SUGGEST_DELAY);
    });
    input.addEventListener('keydown', (ev) => {
      const n = sg.items.length, open = !$('suggest-list').hidden;
      if (ev.key === 'ArrowDown' && n) {
        if (!open) suggestOpen(true);
        suggestActivate(open ? (sg.active + 1) % n : 0);
      } else if (ev.key === 'ArrowUp' && n) {
        if (!open) suggestOpen(true);
        suggestActivate(open && sg.active > 0 ? sg.active - 1 : n - 1);
      } else if (ev.key === 'Escape' && open) {
        suggestOpen(false);
      } else return;
      ev.preventDefault();
    });
    input.addEventListener('blur', () => suggestOpen(false));
    $('search-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      if (!$('suggest-list').hidden && sg.active >= 0) choose(sg.active);
      else searchGeocode(input.value);
    });
  }

  /* Show or hide the parts of the result section that belong to a job (the map stays). */
  function showJobParts(on) {
    document.querySelectorAll('#results .job-only').forEach((e) => { e.hidden = !on; });
    document.querySelectorAll('#results .search-only').forEach((e) => { e.hidden = on; });
  }

  function resetSearch() {
    clearTimeout(sg.timer);
    if (sg.abort) { sg.abort.abort(); sg.abort = null; }
    sg.items = [];
    sg.point = null;
    clear($('suggest-list'));
    $('suggest-list').removeAttribute('data-q');
    $('suggest-list').removeAttribute('data-at');
    suggestOpen(false);
    $('search-input').value = '';
    $('suggest-status').textContent = '';
    $('search-answer').hidden = true;
    $('search-error').textContent = '';
  }

  /* ---- start ---- */

  document.addEventListener('DOMContentLoaded', () => {
    setupSignIn();
    setupOutcols();
    setupFile();
    setupMap();
    setupSearch();
    $('jobs-refresh').addEventListener('click', refreshJobs);
    loadCred();
    showSignedIn();
    document.body.setAttribute('data-ready', 'true');
  });
})();
