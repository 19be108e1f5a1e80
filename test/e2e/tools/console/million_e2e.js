// million_e2e.js - the console's result view on a job of about 1,000,000 result lines (run by
// test/e2e/web_console_million.sh, which sets the environment below): the view reads the result
// as a stream and pages it without holding it, so after loading the page's JS heap is a small
// part of the result's size; the row count, the summary (every row counted), pages 1, 2 and the
// last equal `geobatch geocode`'s lines, and the map shows a sample of MAP_MAX (20,000) points.
// Every step waits for a condition, never for a time.
//   NODE_DIR  where playwright-core is installed;  HOST  the server (credentials appA / codeA)
//   JOB       the completed job;  REF  `geobatch geocode` of the same rows (outdelim '|')
//   HEAP_MAX  bytes of JS heap allowed after loading (and a garbage collection)
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require(path.join(process.env.NODE_DIR, 'node_modules', 'playwright-core'));

const { HOST, JOB, REF } = process.env;
const HEAP_MAX = Number(process.env.HEAP_MAX);
let step = 'start';
const errors = [];
function fail(msg) { throw new Error(`[${step}] ${msg}`); }
function eq(got, want, what) {
  const g = JSON.stringify(got), w = JSON.stringify(want);
  if (g !== w) fail(`${what}: expected ${w.slice(0, 2000)}, got ${g.slice(0, 2000)}`);
}

async function main() {
  const lines = fs.readFileSync(REF, 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const cols = lines[0].split('|');
  const rows = lines.length - 1;
  const li = cols.indexOf('matchLevel'), la = cols.indexOf('displayLatitude');
  const count = new Map();
  let located = 0;
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i].split('|');
    count.set(f[li], (count.get(f[li]) || 0) + 1);
    if (f[la] !== '') located++;
  }
  const page = (p) => lines.slice(1 + p * 50, 1 + (p + 1) * 50).map((l) => l.split('|'));
  const pages = Math.ceil(rows / 50);

  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  try {
    const pg = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    pg.setDefaultTimeout(Number(process.env.TIMEOUT_MS || 300000));
    pg.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text()); });
    pg.on('pageerror', (e) => errors.push(String(e)));
    const tid = (id) => pg.getByTestId(id);
    step = 'signin';
    await pg.goto(HOST + '/console');
    await pg.waitForSelector('body[data-ready="true"]');
    await tid('signin-app-id').fill('appA');
    await tid('signin-app-code').fill('codeA');
    await tid('signin-submit').click();
    const row = pg.locator(`[data-testid=job-row][data-job-id="${JOB}"][data-state=completed]`);
    await row.waitFor();

    step = 'load';
    const t0 = Date.now();
    await row.getByTestId('job-view').click();
    await pg.waitForSelector('[data-testid=results-table][data-rows]');
    const secs = (Date.now() - t0) / 1000;
    eq(await tid('results-table').getAttribute('data-rows'), String(rows), 'rows');
    const cdp = await pg.context().newCDPSession(pg);
    await cdp.send('HeapProfiler.collectGarbage');
    const heap = (await cdp.send('Runtime.getHeapUsage')).usedSize;
    const bytes = fs.statSync(REF).size;
    console.log(`million_e2e: ${rows} lines (${bytes} bytes) loaded in ${secs.toFixed(1)} s; ` +
      `JS heap after loading ${(heap / 1e6).toFixed(1)} MB`);
    if (!(heap < HEAP_MAX)) fail(`JS heap ${heap} bytes, more than ${HEAP_MAX}`);

    step = 'summary';
    const got = await pg.locator('[data-testid=match-summary] tbody tr').evaluateAll(
      (trs) => trs.map((tr) => [tr.getAttribute('data-level'), Number(tr.cells[1].textContent.replace(/,/g, ''))]));
    eq(new Map(got).size, count.size, 'levels');
    for (const [l, n] of got) eq(n, count.get(l), 'summary ' + l);
    eq(await tid('map-sample').textContent(),
      `The map shows a sample of 20,000 of the ${located.toLocaleString('en-US')} located rows.`, 'sampling note');
    eq(await tid('map').getAttribute('data-points'), '20000', 'points drawn');

    step = 'pages';
    const table = async () => pg.locator('[data-testid=results-table] tbody tr').evaluateAll(
      (trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
    const label = (p) => `page ${p.toLocaleString('en-US')} of ${pages.toLocaleString('en-US')} (${rows.toLocaleString('en-US')} rows)`;
    eq(await tid('results-page').textContent(), label(1), 'label of page 1');
    eq(await pg.locator('[data-testid=results-table] thead th').allTextContents(), cols, 'columns');
    eq(await table(), page(0), 'page 1');
    await tid('results-next').click();
    await pg.waitForFunction((l) => document.querySelector('[data-testid=results-page]').textContent === l, label(2));
    eq(await table(), page(1), 'page 2');
    await tid('results-last').click();
    await pg.waitForFunction((l) => document.querySelector('[data-testid=results-page]').textContent === l, label(pages));
    eq(await table(), page(pages - 1), 'last page');
    await tid('results-prev').click();
    await pg.waitForFunction((l) => document.querySelector('[data-testid=results-page]').textContent === l, label(pages - 1));
    eq(await table(), page(pages - 2), 'page before the last');
    step = 'end';
    eq(errors, [], 'console errors');
  } finally {
    await browser.close();
  }
}

main().then(() => console.log('million_e2e: ok'), (e) => {
  console.error('million_e2e: FAIL ' + (e.message.startsWith('[') ? '' : `[${step}] `) + e.message);
  process.exit(1);
});
