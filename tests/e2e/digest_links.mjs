// digest_links.mjs - every link of every digest of the demo week, followed
// in headless Debian chromium (playwright-core) as its recipient: each
// message's person signs in with a one-time link from the CLI, then opens
// each link of the message and checks that the page shows what the mail
// said beside it (the need, the marked partner, the proposal to answer,
// the unsubscribe question, the signed-in front page). Every page is held
// to guard.mjs. Each recipient in a browser context of its own (its own
// cookies); a link a message repeats is followed once.
//
// usage: node digest_links.mjs URL LINKS.json OUT
//        (run by tests/integration/test_digest_links.sh; LINKS.json is what
//        tests/integration/digest_links.py wrote)
// env:   KX_E2E_MODULES  directory holding node_modules/playwright-core
//        KX_BIN, KX_DB   the kxmatch binary and the server's data directory
//        KX_E2E_WORKERS  recipients followed at once (default 1: with
//                        2 cores, more only share the same CPU)
//        CHROMIUM        the browser (default /usr/bin/chromium)
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { chromiumArgs, loopbackOnly, watch } from './guard.mjs';

const [base, linksFile, out] = process.argv.slice(2);
if (!base || !linksFile || !out) {
  console.error('usage: node digest_links.mjs URL LINKS.json OUT');
  process.exit(2);
}
const require = createRequire(path.join(process.env.KX_E2E_MODULES || '.', 'x.js'));
const { chromium } = require('playwright-core');
const messages = JSON.parse(fs.readFileSync(linksFile, 'utf8'));
fs.mkdirSync(out, { recursive: true });

function assert(cond, msg) {
  if (!cond) throw new Error('assertion failed: ' + msg);
}

const text = async (loc) => (await loc.textContent()).trim();

/* What each kind of link must show, by the page it opens. */
const checks = [
  [/^\/expert\.html\?need=[\w.-]+$/, async (page, link) => {
    const h = page.locator('#need-card:not([hidden]) h3.need-name');
    await h.waitFor();
    assert(await text(h) === link.title, `shows the need ${link.title}: ${await text(h)}`);
    assert(await page.locator('#need .answer button.ans-yes').count() === 1, 'with its answers');
  }],
  [/^\/enterprise\.html\?need=[\w.-]+&partner=\w+:[\w.-]+$/, async (page, link) => {
    const key = new URL(base + link.url).searchParams.get('partner');
    const li = page.locator('#matches li.match.highlight');
    await li.waitFor();
    assert(await li.count() === 1, 'one partner is marked');
    assert(await li.getAttribute('data-key') === key, `${key} is marked: ${await li.getAttribute('data-key')}`);
    assert(await text(li.locator('.m-name')) === link.title, `named as in the mail: ${link.title}`);
  }],
  [/^\/enterprise\.html\?need=[\w.-]+$/, async (page, link) => {
    await page.locator('#matches li.match').first().waitFor();
    const name = await page.locator('#need-form [name=name]').inputValue();
    assert(name === link.title, `the need ${link.title} is open: ${name}`);
  }],
  [/^\/liaison\.html\?need=[\w.-]+$/, async (page, link) => {
    const h = page.locator('#detail-card:not([hidden]) #detail-title');
    await h.waitFor();
    assert((await text(h)).endsWith(' · ' + link.title), `the need's partners: ${await text(h)}`);
  }],
  [/^\/answer\.html#t=[0-9a-f]+\.[0-9a-f]{64}$/, async (page, link) => {
    await page.locator('#proposal:not([hidden])').waitFor();
    assert(await text(page.locator('#need-name')) === link.title, `the proposal of ${link.title}`);
    assert(await page.locator('#answer-form').isVisible(), 'not answered yet: the two answers');
  }],
  [/^\/v1\/digests\/unsubscribe\?token=[0-9a-f]{32}$/, async (page) => {
    const form = page.locator('body[data-page=unsubscribe] form[method=post]');
    assert(await form.count() === 1, 'the page asks before unsubscribing');
  }],
  [/^\/$/, async (page) => {
    const a = page.locator('#signin:not([href="signin.html"])');
    await a.waitFor();
  }],
];

/* Follows every link of one message as its recipient, in a context of
 * its own. */
async function follow(browser, msg) {
  const problems = [];
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 },
                                         locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  try {
    await loopbackOnly(ctx, problems);
    const page = await ctx.newPage();
    page.setDefaultTimeout(15000);
    watch(page, problems);
    const link = execFileSync(process.env.KX_BIN, ['user', 'link', '--db', process.env.KX_DB,
                                                   msg.email, '--base', base],
                              { encoding: 'utf8' }).trim();
    // What the sign-in page does with the link, without rendering the
    // page (the sign-in page has a test of its own in e2e.mjs): the
    // session cookie lands in this context.
    const secret = new URLSearchParams(new URL(link).hash.slice(1)).get('link');
    const r = await ctx.request.post(base + '/v1/session/redeem', { data: { link: secret } });
    assert(r.ok(), `sign-in link of ${msg.email}: HTTP ${r.status()} ${await r.text()}`);
    const seen = new Set();
    for (const l of msg.links) {
      if (seen.has(l.url)) continue; /* the site root, say, in the text and the HTML part */
      seen.add(l.url);
      const check = checks.find(([re]) => re.test(l.url));
      assert(check, `${l.url}: a link of no known kind`);
      const t0 = Date.now();
      // A link that differs from the page's address only after '#' would
      // not load the page again: reload it.
      const same = page.url().replace(/#.*/, '') === (base + l.url).replace(/#.*/, '');
      let resp = await page.goto(base + l.url);
      if (same) resp = await page.reload();
      assert(resp && resp.status() === 200, `${l.url}: HTTP ${resp && resp.status()}`);
      try {
        await check[1](page, l);
      } catch (e) {
        throw new Error(`${l.url}: ${e.message}`);
      }
      assert(!problems.length, `${l.url}: ${problems.join('; ')}`);
      const kind = l.url.replace(/[?#].*/, '');
      const k = (spent[kind] ||= { links: 0, ms: 0 });
      k.links++;
      k.ms += Date.now() - t0;
      links++;
    }
    return null;
  } catch (e) {
    try {
      await ctx.pages()[0].screenshot({ path: path.join(out, `FAILED-${msg.file}.png`), fullPage: true });
    } catch (e2) { /* nothing more to show */ }
    return e.message;
  } finally {
    await ctx.close();
  }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: chromiumArgs,
});
const start = Date.now();
const queue = messages.slice();
const failures = [];
const spent = {}; /* per page: links followed, milliseconds */
let links = 0; /* distinct links of a message, followed */
await Promise.all(Array.from({ length: Number(process.env.KX_E2E_WORKERS || 1) }, async () => {
  for (let msg = queue.shift(); msg; msg = queue.shift()) {
    const why = await follow(browser, msg);
    if (why) failures.push(`${msg.file} (${msg.recipient}, ${msg.email}): ${why}`);
  }
}));
await browser.close();
for (const f of failures) console.error('FAIL ' + f);
for (const [k, v] of Object.entries(spent))
  console.log(`  ${k}: ${v.links} links, ${(v.ms / v.links).toFixed(0)} ms each`);
const secs = (Date.now() - start) / 1000;
console.log(`${messages.length - failures.length} of ${messages.length} digests: every link ` +
            `lands where it points (${links} distinct links in ${secs.toFixed(1)} s)`);
process.exit(failures.length || !messages.length ? 1 : 0);
