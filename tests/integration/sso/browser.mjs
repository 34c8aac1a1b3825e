// The person at the browser, for integration.sso: Debian's chromium, headless, driven over its
// DevTools protocol by playwright-core. Every request to a host other than 127.0.0.1 is refused
// (and counted: the run fails if there was one), so nothing leaves the machine.
//
//   node browser.mjs device URL EMAIL     the device grant: confirm the code, sign in
//   node browser.mjs login URL EMAIL      an authorization URL: sign in, follow the redirect to
//                                         the app's loopback port; checks "You can close this tab"
//   node browser.mjs watch FILE EMAIL     waits (2 min) for a URL in FILE ($BROWSER wrote it), then
//                                         does `login` with it
//   node browser.mjs deny URL             an authorization URL: press Cancel at the provider
import { readFileSync, existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

const [mode, target, email] = process.argv.slice(2);
let outside = 0;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-sync',
    '--disable-component-update', '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1'],
});
const fail = async (why) => { console.error('browser:', why); await browser.close(); process.exit(1); };
try {
  const page = await browser.newPage();
  await page.route('**/*', (route) => {
    const host = new URL(route.request().url()).hostname;
    if (host === '127.0.0.1') return route.continue();
    outside += 1;
    console.error('browser: refused a request to', route.request().url());
    return route.abort();
  });
  page.setDefaultTimeout(20000);
  let url = target;
  if (mode === 'watch') {
    const deadline = Date.now() + 120000;
    while (!(existsSync(target) && readFileSync(target, 'utf8').trim())) {
      if (Date.now() > deadline) await fail('no URL was handed to the browser');
      await new Promise((r) => setTimeout(r, 100));
    }
    url = readFileSync(target, 'utf8').trim().split('\n')[0];
  }
  await page.goto(url);
  if (mode === 'device') {
    await page.click('#confirm');
  }
  if (mode === 'deny') {
    await page.click('#deny');
    await page.waitForLoadState();
    console.log(await page.textContent('body'));
  } else {
    await page.fill('#email', email);
    await page.click('#signin');
    if (mode === 'device') {
      await page.waitForSelector('#done');
    } else {
      await page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/callback/);
      await page.waitForSelector('text=You can close this tab');
    }
    console.log('browser: signed in as', email, 'at', page.url().split('?')[0]);
  }
} catch (e) {
  await fail(e.message);
}
await browser.close();
if (outside > 0) {
  console.error(`browser: ${outside} request(s) to other hosts were refused`);
  process.exit(1);
}
