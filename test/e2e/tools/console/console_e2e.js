// console_e2e.js - the web console in headless Chromium against a running `geobatch serve`
// (run by test/e2e/web_console.sh, which sets the environment below). Every step waits for a
// condition in the page, never for a time; every check compares exact values; the first
// failure ends the run with exit status 1. A screenshot of each step goes to $SHOTS. The search
// box's suggestions and answers are compared with what curl gets from /v1/autosuggest and
// /v1/geocode for the same parameters.
//   NODE_DIR   where playwright-core is installed (node_modules/)
//   HOST       http://127.0.0.1:PORT of the server; credentials appA / codeA
//   UPLOAD     the CSV file to upload (Id,Street,Number,Postcode,City,Country,Note; 10,000 rows)
//   REF        `geobatch geocode` of the same rows (outdelim '|', the console's default outcols)
//   REF_ERRORS its --errors file (the upload's one invalid line)
//   XSS        the HTML held by the 5th row's Id and Street cells
//   SHOTS, DOWNLOADS  output folders
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const { chromium } = require(path.join(process.env.NODE_DIR, 'node_modules', 'playwright-core'));

const { HOST, UPLOAD, REF, REF_ERRORS, SHOTS, XSS, DOWNLOADS } = process.env;
const TIMEOUT = Number(process.env.TIMEOUT_MS || 120000);
let step = 'start';
const consoleErrors = [];
const dialogs = [];

function fail(msg) {
  throw new Error(`[${step}] ${msg}`);
}
function eq(got, want, what) {
  const g = JSON.stringify(got), w = JSON.stringify(want);
  if (g === w) return;
  if (Array.isArray(got) && Array.isArray(want)) { // name the first difference, not all of it
    for (let i = 0; i < Math.max(got.length, want.length); i++) {
      eq(got[i], want[i], `${what} [${i}]`);
    }
  }
  fail(`${what}: expected ${w}, got ${g}`);
}

let curlJson = null; // curl's JSON answer of an API endpoint (set in the search step)

async function main() {
  const ref = fs.readFileSync(REF);
  const refLines = ref.toString('utf8').split('\n').filter((l) => l !== '');
  const refCols = refLines[0].split('|');
  const refRows = refLines.slice(1).map((l) => l.split('|'));
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(TIMEOUT);
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') consoleErrors.push({ step, type: m.type(), text: m.text() }); });
    page.on('pageerror', (e) => consoleErrors.push({ step, type: 'pageerror', text: String(e) }));
    page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
    const tid = (id) => page.getByTestId(id);
    const shot = (name) => page.screenshot({ path: path.join(SHOTS, name + '.png'), fullPage: true });

    // ---- the page loads under its CSP ----
    step = 'load';
    const resp = await page.goto(HOST + '/console');
    eq(resp.status(), 200, 'status of /console');
    const h = resp.headers();
    if (!/script-src 'self'/.test(h['content-security-policy'] || '')) fail('no CSP');
    eq(h['x-content-type-options'], 'nosniff', 'nosniff');
    await page.waitForSelector('body[data-ready="true"]');
    await tid('signin-form').waitFor({ state: 'visible' });
    await shot('01-signin');

    // ---- a wrong credential shows an error and does not sign in ----
    step = 'wrong-credential';
    await tid('signin-app-id').fill('appA');
    await tid('signin-app-code').fill('wrong');
    await tid('signin-submit').click();
    await page.waitForFunction(() => document.querySelector('[data-testid=signin-error]').textContent !== '');
    eq(await tid('signin-error').textContent(), 'Sign-in failed: Invalid or missing credentials', 'sign-in error');
    eq(await page.locator('#app').isVisible(), false, 'console shown after a wrong credential');
    await shot('02-wrong-credential');
    // the one error Chromium logs here is the 401 itself
    for (const e of consoleErrors.splice(0)) {
      if (!/status of 401/.test(e.text)) fail(`console: ${e.type}: ${e.text}`);
    }

    // ---- sign in (keyboard: Enter submits the form) ----
    step = 'signin';
    await tid('signin-app-code').fill('codeA');
    await tid('signin-app-code').press('Enter');
    await tid('job-list').waitFor({ state: 'visible' });
    eq(await tid('who').textContent(), 'Signed in as appA', 'who');
    eq(await page.evaluate(() => document.cookie), '', 'cookies');
    if (page.url() !== HOST + '/console') fail('URL changed: ' + page.url());

    // ---- the search box before any job: the answer's point on a map of its own ----
    step = 'search-first';
    eq(await page.locator('#results').isVisible(), false, 'result section before a search');
    await tid('search-input').fill('Floraweg 13, 9490 Vaduz');
    await tid('search-input').press('Enter');
    await page.waitForSelector('[data-testid=search-answer][data-q="Floraweg 13, 9490 Vaduz"]');
    eq(await page.locator('#results-h').innerText(), 'Map', 'heading of the map without a job');
    eq([await tid('map').isVisible(), await tid('match-summary').isVisible(), await tid('results-table').isVisible()],
      [true, false, false], 'map without the job parts');
    eq(await tid('map').getAttribute('data-search-point'),
      (await tid('answer-position').textContent()).replace(', ', ','), 'search point on the map');

    // ---- the file: detection, preview, guessed mapping ----
    // the file picker, opened from the keyboard (Space on the file input)
    step = 'picker';
    // (listen first: the driver asks Chromium to report choosers before the focus round trip
    // ends, so Space cannot open one that nobody intercepts)
    const chooserOpened = page.waitForEvent('filechooser');
    await tid('file-input').focus();
    eq(await page.evaluate(() => document.activeElement.id), 'file', 'focus before Space');
    await page.keyboard.press('Space');
    const chooser = await chooserOpened;
    await chooser.setFiles(UPLOAD);
    await page.waitForFunction(() => document.querySelector('[data-testid=detected]').textContent.startsWith('upload.csv'));

    // a file dropped on the drop zone: tab-separated, no header
    step = 'drop';
    const dropped = '1\tGrasgarten 15, 9492 Eschen\tLIE\n2\tIradug 52, 9496 Balzers\tLIE\n';
    const dt = await page.evaluateHandle((text) => {
      const d = new DataTransfer();
      d.items.add(new File([text], 'drop.tsv', { type: 'text/tab-separated-values' }));
      return d;
    }, dropped);
    await tid('drop-zone').dispatchEvent('drop', { dataTransfer: dt });
    await page.waitForFunction(() => document.querySelector('[data-testid=detected]').textContent.startsWith('drop.tsv'));
    eq(await tid('detected').textContent(),
      `drop.tsv — ${Buffer.byteLength(dropped)} bytes; delimiter: tab; header: no; encoding: UTF-8`, 'dropped file');
    eq([await tid('map-0').inputValue(), await tid('map-1').inputValue(), await tid('map-2').inputValue()],
      ['recId', 'searchText', 'country'], 'mapping without a header');
    eq(await page.locator('[data-testid=preview-table] tbody tr').count(), 2, 'preview of the dropped file');

    // back to the 10,000 rows, through the file input
    step = 'preview';
    await tid('file-input').setInputFiles(UPLOAD);
    await page.waitForFunction(() => document.querySelector('[data-testid=detected]').textContent.startsWith('upload.csv'));
    eq(await tid('detected').textContent(),
      `upload.csv — ${fs.statSync(UPLOAD).size.toLocaleString('en-US')} bytes; delimiter: comma; header: yes; encoding: UTF-8`,
      'detected');
    const mapping = [];
    for (let i = 0; i < 7; i++) mapping.push(await tid('map-' + i).inputValue());
    eq(mapping, ['recId', 'street', 'houseNumber', 'postalCode', 'city', 'country', ''], 'guessed mapping');
    const prev = page.locator('[data-testid=preview-table] tbody tr');
    eq(await prev.count(), 10, 'preview rows');
    eq(await prev.nth(4).locator('td').nth(1).textContent(), XSS, 'HTML cell in the preview, as text');
    eq(await page.locator('img').count(), 0, 'img elements');
    eq(await tid('submit-job').isEnabled(), true, 'submit enabled');
    await shot('03-preview');

    // ---- submit, watch the progress reach 100 % ----
    step = 'progress';
    await page.evaluate(() => {
      window.__percents = [];
      const bar = document.querySelector('[data-testid=job-progress]');
      new MutationObserver(() => window.__percents.push(Number(bar.getAttribute('data-percent'))))
        .observe(bar, { attributes: true, attributeFilter: ['data-percent'] });
    });
    await tid('submit-job').click();
    await page.waitForSelector('[data-testid=job-progress][data-state=completed]');
    const jobId = (await tid('progress-job').textContent()).trim();
    if (!/^[A-Za-z0-9]{32}$/.test(jobId)) fail('job id ' + jobId);
    const pct = await page.evaluate(() => window.__percents);
    eq(pct[pct.length - 1], 100, 'last percent');
    for (let i = 1; i < pct.length; i++) if (pct[i] < pct[i - 1]) fail('progress went back: ' + pct);
    eq(await tid('upload-progress').evaluate((e) => e.value), 100, 'upload progress');
    const ptext = await tid('progress-text').textContent();
    const notMatched = refRows.filter((r) => r[1] === '0' && ['NOMATCH', 'FAILED'].includes(r[refCols.indexOf('matchLevel')])).length;
    eq(ptext, `100 % — 10,000 of 10,000 rows; not matched ${notMatched.toLocaleString('en-US')}; invalid lines 1`, 'progress text');
    await shot('04-progress');

    // ---- the result: the table, page by page, is geocode's answer ----
    step = 'result';
    await page.waitForSelector(`[data-testid=results-table][data-rows="${refRows.length}"]`);
    const headCells = await page.locator('[data-testid=results-table] thead th').allTextContents();
    eq(headCells, refCols, 'result columns');
    const tableRows = async () => page.locator('[data-testid=results-table] tbody tr').evaluateAll(
      (trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
    eq(await tableRows(), refRows.slice(0, 50), 'page 1');
    eq(await tid('results-page').textContent(),
      `page 1 of ${Math.ceil(refRows.length / 50)} (${refRows.length.toLocaleString('en-US')} rows)`, 'page label');
    await tid('results-next').click();
    await page.waitForFunction(() => document.querySelector('[data-testid=results-page]').textContent.startsWith('page 2 '));
    eq(await tableRows(), refRows.slice(50, 100), 'page 2');
    await tid('results-prev').click();
    await page.waitForFunction(() => document.querySelector('[data-testid=results-page]').textContent.startsWith('page 1 '));
    eq((await tableRows())[4][0], XSS, 'HTML recId in the results, as text');
    // the last page (a short one when the rows are not a multiple of 50), then the first again
    const pages = Math.ceil(refRows.length / 50);
    await tid('results-last').click();
    await page.waitForFunction((p) => document.querySelector('[data-testid=results-page]').textContent.startsWith(`page ${p} `), pages);
    eq(await tableRows(), refRows.slice((pages - 1) * 50), 'last page');
    eq([await tid('results-next').isDisabled(), await tid('results-last').isDisabled()], [true, true], 'next/last on the last page');
    await tid('results-first').click();
    await page.waitForFunction(() => document.querySelector('[data-testid=results-page]').textContent.startsWith('page 1 '));
    eq(await tableRows(), refRows.slice(0, 50), 'page 1 again');
    eq(await tid('map-sample').textContent(), '', 'no sampling note for 10,000 rows');
    eq(await page.locator('img').count(), 0, 'img elements after the result');
    // the level cell is coloured by its level
    const li = refCols.indexOf('matchLevel');
    eq(await page.locator('[data-testid=results-table] tbody tr').first().locator('td').nth(li).getAttribute('class'),
      'level ml-' + refRows[0][li], 'level class');
    // the summary: rows per match level, as geocode's
    const want = new Map();
    for (const r of refRows) want.set(r[li], (want.get(r[li]) || 0) + 1); // lines, as the console counts
    const got = await page.locator('[data-testid=match-summary] tbody tr').evaluateAll(
      (trs) => trs.map((tr) => [tr.getAttribute('data-level'), tr.cells[1].textContent]));
    eq(new Map(got.map(([l, n]) => [l, Number(n.replace(/,/g, ''))])).size, want.size, 'levels');
    for (const [l, n] of got) eq(Number(n.replace(/,/g, '')), want.get(l), 'summary ' + l);
    // the map draws every located row (all inside the fitted view), zoom changes the scale
    const la = refCols.indexOf('displayLatitude');
    const located = refRows.filter((r) => r[la] !== '').length;
    eq(await tid('map').getAttribute('data-points'), String(located), 'points drawn');
    const scale0 = Number(await tid('map').getAttribute('data-scale'));
    await tid('map-zoom-in').click();
    const scale1 = Number(await tid('map').getAttribute('data-scale'));
    if (!(Math.abs(scale1 / scale0 - 1.5) < 0.01)) fail(`zoom: ${scale0} -> ${scale1}`);
    await tid('map').focus();
    await page.keyboard.press('-');
    await tid('map-fit').click();
    // the outlines of the visible box, from the index (/6.2/geometry.json)
    await page.waitForSelector('[data-testid=map][data-geometry=loaded]');
    if (!(Number(await tid('map').getAttribute('data-lines')) > 100)) fail('street lines: ' + await tid('map').getAttribute('data-lines'));
    if (!(Number(await tid('map').getAttribute('data-areas')) >= 2)) fail('areas: ' + await tid('map').getAttribute('data-areas'));
    // a click on a point shows its row
    const hit = await page.evaluate(() => {
      const c = document.querySelector('[data-testid=map]');
      const g = c.getContext('2d');
      const d = g.getImageData(0, 0, c.width, c.height).data;
      for (let y = 0; y < c.height; y++) for (let x = 0; x < c.width; x++) {
        const i = 4 * (y * c.width + x);
        if (d[i] === 0x1a && d[i + 1] === 0x7f && d[i + 2] === 0x37) return { x: x + 1, y: y + 2 };
      }
      return null;
    });
    if (!hit) fail('no houseNumber point on the map');
    await tid('map').click({ position: hit });
    await page.waitForFunction(() => document.querySelector('[data-testid=map-info]').textContent !== '');
    const info = await tid('map-info').textContent();
    if (!info.startsWith('recId: ') || !/\nmatchLevel: [A-Za-z]+\n/.test(info)) fail('map info: ' + info);
    await shot('05-result');
    await page.setViewportSize({ width: 1100, height: 900 });
    await page.locator('#results .cols').screenshot({ path: path.join(SHOTS, 'result-map.png'),
      clip: undefined, animations: 'disabled' });
    await page.setViewportSize({ width: 1280, height: 900 });

    // ---- the search box: suggestions as typed are /v1/autosuggest's, the answer /v1/geocode's ----
    step = 'search';
    curlJson = (endpoint, params, key) => {
      const args = ['-s', '-f', '-G', HOST + endpoint];
      if (key) args.push('-H', `Authorization: Bearer ${key}`);
      else args.push('--data-urlencode', 'app_id=appA', '--data-urlencode', 'app_code=codeA');
      for (const [k, v] of Object.entries(params)) args.push('--data-urlencode', `${k}=${v}`);
      return JSON.parse(execFileSync('curl', args, { encoding: 'utf8' }));
    };
    const input = tid('search-input');
    const list = tid('suggest-list');
    eq([await input.getAttribute('role'), await input.getAttribute('aria-controls'), await list.getAttribute('role')],
      ['combobox', 'suggest-list', 'listbox'], 'combobox roles');
    // keyboard only: focus the box, type part of a street of Vaduz
    await input.focus();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('Städt');
    await page.locator('[data-testid=suggest-list][data-q="Städt"]').waitFor({ state: 'attached' });
    const at = await list.getAttribute('data-at');
    if (!/^-?\d+\.\d{5},-?\d+\.\d{5}$/.test(at)) fail('at ' + at);
    const sugg = curlJson('/v1/autosuggest', { q: 'Städt', at, limit: '8' }).items;
    const titles = sugg.map((i) => i.title);
    if (!titles.includes('Städtle, 9490 Vaduz, Liechtenstein')) fail('curl suggestions: ' + JSON.stringify(titles));
    await list.waitFor({ state: 'visible' });
    eq(await page.locator('[data-testid=suggestion-title]').allTextContents(), titles, 'suggestions for Städt');
    eq(await page.locator('[data-testid=suggestion] .kind').allTextContents(), sugg.map((i) => i.resultType), 'kinds of the suggestions');
    eq(await input.getAttribute('aria-expanded'), 'true', 'aria-expanded with suggestions');
    eq(await tid('suggest-status').textContent(), `${titles.length} suggestions`, 'suggestion count');
    // ArrowDown to Städtle (past it and back up with ArrowUp), Enter geocodes it
    const k = titles.indexOf('Städtle, 9490 Vaduz, Liechtenstein');
    for (let i = 0; i <= k + 1 && i < titles.length; i++) await page.keyboard.press('ArrowDown');
    if (k + 1 < titles.length) {
      eq(await input.getAttribute('aria-activedescendant'), `suggest-${k + 1}`, 'active after ArrowDown');
      await page.keyboard.press('ArrowUp');
    }
    eq(await input.getAttribute('aria-activedescendant'), `suggest-${k}`, 'active suggestion');
    eq(await page.locator('[data-testid=suggestion][aria-selected=true]').count(), 1, 'one selected option');
    eq(await page.locator(`#suggest-${k}`).getAttribute('aria-selected'), 'true', 'selected option');
    await page.keyboard.press('Enter');
    const chosen = titles[k];
    await page.locator(`[data-testid=search-answer][data-q="${chosen}"]`).waitFor();
    eq(await input.inputValue(), chosen, 'the box holds the choice');
    eq(await input.getAttribute('aria-expanded'), 'false', 'list closed after the choice');
    const geo = curlJson('/v1/geocode', { q: chosen, limit: '1' }).items[0];
    eq([await tid('answer-label').textContent(), await tid('answer-level').textContent(), await tid('answer-position').textContent()],
      [geo.title, geo.resultType + (geo.houseNumberType ? ` (${geo.houseNumberType})` : ''), `${geo.position.lat}, ${geo.position.lng}`],
      'answer to the chosen suggestion');
    eq(await tid('map').getAttribute('data-search-point'), `${geo.position.lat},${geo.position.lng}`, 'the answer on the map');
    eq(await page.evaluate(() => document.activeElement.getAttribute('data-testid')), 'search-input', 'focus stays in the box');
    await shot('08-search');
    // a click on a suggestion, then the text as typed (Enter without a choice)
    await input.fill('Herreng');
    await page.locator('[data-testid=suggest-list][data-q="Herreng"]').waitFor({ state: 'visible' });
    const sugg2 = curlJson('/v1/autosuggest', { q: 'Herreng', at: await list.getAttribute('data-at'), limit: '8' }).items;
    eq(await page.locator('[data-testid=suggestion-title]').allTextContents(), sugg2.map((i) => i.title), 'suggestions for Herreng');
    eq([await input.getAttribute('aria-activedescendant'), await page.locator('[data-testid=suggestion][aria-selected=true]').count()],
      [null, 0], 'nothing chosen in a new list');
    await page.locator('[data-testid=suggestion]').first().click();
    await page.locator(`[data-testid=search-answer][data-q="${sugg2[0].title}"]`).waitFor();
    eq(await tid('answer-label').textContent(), curlJson('/v1/geocode', { q: sugg2[0].title, limit: '1' }).items[0].title, 'answer to a clicked suggestion');
    const typed = 'Floraweg 13, 9490 Vaduz';
    await input.fill(typed);
    await input.press('Enter');
    await page.locator(`[data-testid=search-answer][data-q="${typed}"]`).waitFor();
    const geo3 = curlJson('/v1/geocode', { q: typed, limit: '1' }).items[0];
    eq([await tid('answer-label').textContent(), await tid('answer-position').textContent()],
      [geo3.title, `${geo3.position.lat}, ${geo3.position.lng}`], 'answer to the text as typed');
    // HTML typed in the box is text: in the status line and in the message that nothing was found
    await input.fill(XSS);
    await page.waitForFunction((x) => document.querySelector('[data-testid=suggest-status]').textContent === `No suggestions for “${x}”`, XSS);
    eq(await list.isVisible(), false, 'no list without suggestions');
    await input.press('Enter');
    await page.waitForFunction((x) => document.querySelector('[data-testid=search-error]').textContent === `No address found for “${x}”`, XSS);
    eq(await tid('search-answer').isVisible(), false, 'no answer for the HTML');
    eq(await page.locator('img').count(), 0, 'img elements after the search');
    eq(await page.locator('[data-testid=suggest-list] *').count(), 0, 'suggestions left for the HTML');

    // ---- the download is geocode's output, byte for byte ----
    step = 'download';
    const row = page.locator(`[data-testid=job-row][data-job-id="${jobId}"]`);
    await row.waitFor();
    eq(await row.getAttribute('data-state'), 'completed', 'job state in the list');
    // a file is fetched with the credentials, then offered as a link to save
    const save = async (button, name) => {
      await row.getByTestId(button).click();
      const link = page.locator(`[data-testid=save-link][download="${name}"]`);
      await link.waitFor();
      const [d] = await Promise.all([page.waitForEvent('download'), link.click()]);
      return d;
    };
    const dl = await save('job-download-result', jobId + '_out.txt');
    fs.mkdirSync(DOWNLOADS, { recursive: true });
    const saved = path.join(DOWNLOADS, 'result.txt');
    await dl.saveAs(saved);
    eq(dl.suggestedFilename(), jobId + '_out.txt', 'download name');
    if (!fs.readFileSync(saved).equals(ref)) fail('downloaded result differs from geobatch geocode');
    const dle = await save('job-download-errors', jobId + '_errors.txt');
    const savedErr = path.join(DOWNLOADS, 'errors.txt');
    await dle.saveAs(savedErr);
    if (!fs.readFileSync(savedErr).equals(fs.readFileSync(REF_ERRORS))) fail('downloaded errors differ from geobatch geocode --errors');

    // ---- a job submitted without starting: cancel, then delete ----
    step = 'cancel';
    await tid('start-now').uncheck();
    await tid('submit-job').click();
    const sub = page.locator('[data-testid=job-row][data-state=submitted]');
    await sub.waitFor();
    const id2 = await sub.getAttribute('data-job-id');
    if (id2 === jobId) fail('same job');
    await sub.getByTestId('job-cancel').click();
    const row2 = page.locator(`[data-testid=job-row][data-job-id="${id2}"]`);
    await page.locator(`[data-testid=job-row][data-job-id="${id2}"][data-state=cancelled]`).waitFor();
    eq(await row2.getByTestId('job-cancel').isEnabled(), false, 'cancel of a cancelled job');
    await shot('06-cancelled');
    step = 'delete';
    await row2.getByTestId('job-delete').click();
    await page.locator(`[data-testid=job-row][data-job-id="${id2}"][data-state=deleted]`).waitFor();
    eq(await page.locator(`[data-testid=job-row][data-job-id="${jobId}"]`).getAttribute('data-state'), 'completed', 'first job');
    await shot('07-deleted');

    // ---- sign out: the credentials leave the tab ----
    step = 'signout';
    await tid('signout').click();
    await tid('signin-form').waitFor({ state: 'visible' });
    eq(await page.evaluate(() => sessionStorage.length), 0, 'session storage after sign-out');

    // ---- an API key: another application, which sees none of appA's jobs ----
    step = 'apikey';
    await tid('signin-mode-key').check();
    await tid('signin-api-key').fill('consolekey1');
    await tid('signin-submit').click();
    await tid('job-list').waitFor({ state: 'visible' });
    eq(await tid('who').textContent(), 'Signed in as API key', 'who (API key)');
    await page.waitForSelector('[data-testid=job-list][data-total]');
    eq(await tid('job-list').getAttribute('data-total'), '0', 'jobs of the API key application');
    eq(await page.locator('[data-testid=job-row]').count(), 0, 'job rows of the API key application');
    // the search box sends the key as the other requests do (Authorization: Bearer)
    eq(await tid('search-input').inputValue(), '', 'search box after sign-out');
    await tid('search-input').fill('Städt');
    await page.locator('[data-testid=suggest-list][data-q="Städt"]').waitFor({ state: 'visible' });
    const keySugg = curlJson('/v1/autosuggest', { q: 'Städt', at: await tid('suggest-list').getAttribute('data-at'), limit: '8' }, 'consolekey1').items;
    eq(await page.locator('[data-testid=suggestion-title]').allTextContents(), keySugg.map((i) => i.title), 'suggestions with an API key');
    await tid('signout').click();
    await tid('signin-form').waitFor({ state: 'visible' });

    step = 'end';
    eq(dialogs, [], 'dialogs (alert) opened');
    eq(consoleErrors, [], 'console errors and warnings');
  } finally {
    await browser.close();
  }
}

main().then(() => console.log('console_e2e: ok'), (e) => {
  console.error('console_e2e: FAIL ' + (e.message.startsWith('[') ? '' : `[${step}] `) + e.message);
  process.exit(1);
});
