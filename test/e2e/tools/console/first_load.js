// first_load.js - `make bench`: how long the web console takes to be usable in headless
// Chromium (navigation start to the sign-in form shown with the page's script run), median of
// RUNS fresh loads, and the bytes it transferred. Prints "first_load_ms N" and
// "transfer_bytes N". Environment: NODE_DIR (playwright-core), HOST, RUNS (default 5).
'use strict';
const path = require('path');
const { chromium } = require(path.join(process.env.NODE_DIR, 'node_modules', 'playwright-core'));

(async () => {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const times = [];
  let bytes = 0;
  for (let i = 0; i < Number(process.env.RUNS || 5); i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    let b = 0;
    page.on('response', async (r) => { b += Number((await r.allHeaders())['content-length'] || 0); });
    await page.goto(process.env.HOST + '/console');
    await page.waitForSelector('body[data-ready="true"] [data-testid=signin-form]', { state: 'visible' });
    times.push(await page.evaluate(() => performance.now()));
    bytes = b;
    await context.close();
  }
  await browser.close();
  times.sort((a, b) => a - b);
  console.log('first_load_ms ' + times[Math.floor(times.length / 2)].toFixed(0));
  console.log('transfer_bytes ' + bytes);
})().catch((e) => { console.error(e.message); process.exit(1); });
