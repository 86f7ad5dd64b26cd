// Lighthouse accessibility of the dashboard's sign-in, caseload and client pages, the last two
// signed in: the script signs in through the form in the same Chromium, and the API's
// HttpOnly cookie keeps the sign-in across Lighthouse's own page loads
// (disableStorageReset). Not part of `make test` (it needs Node and the npm packages):
//
//   mkdir -p var/lh && cp tests/e2e/lighthouse_accessibility.mjs var/lh/ && cd var/lh
//   npm install lighthouse puppeteer-core   # ES modules resolve beside the script
//   CHROME_PATH=/usr/bin/chromium node lighthouse_accessibility.mjs \
//     http://127.0.0.1:8501 EMAIL PASSWORD CLIENT_CODE
//
// It prints each page's score, failing audits and first heading (so a page that was not
// signed in shows), and writes each report to lh-<page>.json and a screenshot beside it.
import fs from 'node:fs';
import puppeteer from 'puppeteer-core';
import lighthouse from 'lighthouse';

const [base, email, password, code] = process.argv.slice(2);
const browser = await puppeteer.launch({
  executablePath: process.env.CHROME_PATH || '/usr/bin/chromium',
  args: ['--headless=new', '--no-sandbox', '--disable-gpu'],
  defaultViewport: null,
});
const flags = {
  output: 'json',
  onlyCategories: ['accessibility'],
  disableStorageReset: true,
  formFactor: 'desktop',
  screenEmulation: { mobile: false, width: 1440, height: 900, deviceScaleFactor: 1, disabled: false },
  throttlingMethod: 'provided',
  pauseAfterLoadMs: 4000,
  networkQuietThresholdMs: 2000,
  maxWaitForLoad: 60000,
};
const results = {};
async function audit(name, url) {
  const page = await browser.newPage();
  const run = await lighthouse(url, flags, undefined, page);
  const lhr = run.lhr;
  const failing = Object.values(lhr.audits)
    .filter((a) => a.score !== null && a.score < 1 && a.scoreDisplayMode !== 'notApplicable' && a.scoreDisplayMode !== 'manual' && a.scoreDisplayMode !== 'informative')
    .map((a) => ({ id: a.id, title: a.title, items: (a.details?.items || []).slice(0, 6).map((i) => ({ node: i.node?.snippet, selector: i.node?.selector, expl: i.node?.explanation })) }));
  results[name] = { score: Math.round(lhr.categories.accessibility.score * 100), failing };
  fs.writeFileSync(`lh-${name}.json`, JSON.stringify(lhr, null, 1));
  await page.screenshot({ path: `lh-${name}.png` });
  results[name].h1 = await page.$$eval('h1', (hs) => hs.map((h) => h.textContent));
  await page.close();
}
await audit('sign-in', `${base}/`);
const page = await browser.newPage();
await page.setViewport({ width: 1440, height: 900 });
await page.goto(`${base}/`);
await page.waitForSelector('input[aria-label="Email"]', { timeout: 60000 });
await page.type('input[aria-label="Email"]', email);
await page.type('input[aria-label="Password"]', password);
await page.keyboard.press('Enter');
await page.waitForSelector('[data-testid=stDataFrame]', { timeout: 60000 });
await new Promise((r) => setTimeout(r, 3000)); // the browser redeems its ticket for the cookie
await page.close();
await audit('caseload', `${base}/`);
await audit('client', `${base}/client?client=${code}`);
console.log(JSON.stringify(results, null, 1));
await browser.close();
