// e2e.mjs - the kxmatch web pages in headless Debian chromium, driven by
// playwright-core: an enterprise posts a need and sees ranked partners; a
// liaison officer filters by a facet, shortlists a partner and exports the
// shortlist as CSV; the dashboard draws its charts. Screenshots go to OUT.
//
// usage: node e2e.mjs URL OUT   (run by tests/integration/test_api_e2e.sh)
// env:   KX_E2E_MODULES  directory holding node_modules/playwright-core
//        KX_TOKEN_ENTERPRISE, KX_TOKEN_LIAISON, KX_TOKEN_ADMIN
//        KX_E2E_ORG      the organisation the server's configuration names
//        KX_E2E_UNSUB    a digest recipient's unsubscribe token
//        CHROMIUM        the browser (default /usr/bin/chromium)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const [base, out] = process.argv.slice(2);
if (!base || !out) {
  console.error('usage: node e2e.mjs URL OUT');
  process.exit(2);
}
const require = createRequire(path.join(process.env.KX_E2E_MODULES || '.', 'x.js'));
const { chromium } = require('playwright-core');
const tokens = {
  enterprise: process.env.KX_TOKEN_ENTERPRISE,
  liaison: process.env.KX_TOKEN_LIAISON,
  admin: process.env.KX_TOKEN_ADMIN,
};
fs.mkdirSync(out, { recursive: true });

let passed = 0;
let failed = 0;

function assert(cond, msg) {
  if (!cond) throw new Error('assertion failed: ' + msg);
}

/* A fresh browser profile per test, loopback only: any request elsewhere
 * is refused and fails the test, as does any console error (a CSP
 * violation among them). */
async function withPage(name, viewport, fn) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'kx-e2e-'));
  const problems = [];
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
           '--disable-background-networking', '--disable-quic',
           '--disable-component-update', '--disable-sync'],
    viewport,
    acceptDownloads: true,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
  });
  const start = Date.now();
  try {
    await ctx.route('**/*', (route) => {
      const u = new URL(route.request().url());
      if (u.hostname === '127.0.0.1' || u.protocol === 'blob:' || u.protocol === 'data:')
        return route.continue();
      problems.push('external request: ' + u.href);
      return route.abort();
    });
    const page = ctx.pages()[0] || await ctx.newPage();
    page.setDefaultTimeout(15000);
    page.on('console', (m) => {
      if (m.type() === 'error' && !/status of 4\d\d/.test(m.text()))
        problems.push('console: ' + m.text());
    });
    page.on('pageerror', (e) => problems.push('page error: ' + e.message));
    // Every file a page loads exists (a page that fetches favicon.ico,
    // say, and gets 404): API answers are the tests' own business.
    page.on('response', (r) => {
      const u = new URL(r.url());
      if (r.status() === 404 && !u.pathname.startsWith('/v1/'))
        problems.push('404: ' + u.pathname);
    });
    await fn(page);
    assert(problems.length === 0, problems.join('; '));
    passed++;
    console.log(`ok   ${name} (${((Date.now() - start) / 1000).toFixed(1)} s)`);
  } catch (e) {
    failed++;
    console.error(`FAIL ${name}: ${e.stack || e}`);
    try {
      await ctx.pages()[0].screenshot({ path: path.join(out, `FAILED-${name}.png`), fullPage: true });
    } catch (e2) { /* nothing more to show */ }
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

async function login(page, file, token) {
  await page.goto(`${base}/${file}`);
  await page.locator('#token').fill(token);
  await page.locator('#login-form button[type=submit]').click();
  await page.locator('#app').waitFor({ state: 'visible' });
}

async function noSideScroll(page, what) {
  const w = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert(w[0] <= w[1] + 1, `${what}: page is ${w[0]}px wide in a ${w[1]}px window`);
}

const desk = { width: 1280, height: 900 };
const phone = { width: 390, height: 844 };

await withPage('a digest recipient unsubscribes, is told so again, and comes back', phone, async (page) => {
  const link = `${base}/v1/digests/unsubscribe?token=${process.env.KX_E2E_UNSUB}`;
  const h1 = () => page.locator('h1').textContent();
  await page.goto(link);
  assert((await h1()).includes('退订每周推荐邮件'), 'the link asks first');
  const bg = await page.locator('#unsubscribe').evaluate((e) => getComputedStyle(e).backgroundColor);
  assert(bg !== 'rgba(0, 0, 0, 0)', 'the page has the site\'s style (a card)');
  await page.locator('form button').click();
  await page.waitForURL(/unsubscribe/);
  assert((await h1()) === '已退订', `unsubscribed, got ${await h1()}`);
  assert((await page.locator('form button').textContent()).includes('重新订阅'), 'offers to resubscribe');
  await page.goto(link);
  assert((await page.locator('p').first().textContent()).includes('您此前已退订'), 'the link again says it is already off');
  await page.locator('form button').click();
  await page.waitForURL(/resubscribe=1/);
  assert((await h1()).includes('已恢复每周推荐'), 'resubscribed');
  const resp = await page.goto(`${base}/v1/digests/unsubscribe?token=${'0'.repeat(32)}`);
  assert(resp.status() === 404, `an unknown token: 404, got ${resp.status()}`);
  const body = await page.locator('body').textContent();
  assert(body.includes('退订链接无效') && !body.trim().startsWith('{'), 'an unknown token gets a page, not JSON');
  await page.screenshot({ path: path.join(out, 'unsubscribe.png') });
});

await withPage('enterprise posts a need and sees ranked partners', desk, async (page) => {
  await login(page, 'enterprise.html', tokens.enterprise);
  assert((await page.locator('#who').textContent()).includes('企业'), 'the header names the role');
  const org = process.env.KX_E2E_ORG;
  await page.locator('header.top .brand .org').waitFor({ state: 'visible' });
  assert((await page.locator('header.top .brand .org').textContent()).includes(org),
         'the header names the configured organisation');
  assert((await page.title()).endsWith(org), 'so does the title');
  const title = '重油催化裂化装置增产丙烯(端到端测试)';
  await page.locator('[name=name]').fill(title);
  await page.locator('[name=text]').fill(
    '现有催化裂化装置丙烯收率偏低,油浆产率高,希望合作方提供FCC催化剂及助剂选型评价、工艺参数优化和工业标定。');
  await page.locator('[name=tags]').fill('催化裂化, 多产丙烯, 助剂');
  // A server error reads in the page's language and names the field by
  // its label, with no success notice left beside it (issue 18 item 10).
  await page.locator('[name=budget]').fill('-5');
  await page.locator('#save').click();
  await page.locator('#form-error:not(:empty)').waitFor();
  const ferr = await page.locator('#form-error').textContent();
  assert(ferr.startsWith('预算') && !/[a-z]{4}/.test(ferr), `the error is Chinese and names 预算: ${ferr}`);
  assert(!(await page.locator('#toast.show:not(.bad)').count()), 'no success notice beside the error');
  await page.locator('[name=budget]').fill('500000');
  // An industry code through the picker: type a name, take the suggestion.
  const pick = page.locator('.codepick[data-name=industries]');
  await pick.locator('.code-q').fill('原油加工');
  await pick.locator('.suggest li').first().waitFor();
  await pick.locator('.suggest li').first().dispatchEvent('mousedown');
  await pick.locator('.chip').first().waitFor();
  const chip = await pick.locator('.chip').first().getAttribute('data-code');
  assert(/^25/.test(chip), `an industry code 25.. was picked, got ${chip}`);
  // ... and a discipline, by its name
  const dpick = page.locator('.codepick[data-name=disciplines]');
  await dpick.locator('.code-q').fill('催化化学');
  await dpick.locator('.suggest li').first().waitFor();
  await dpick.locator('.suggest li').first().dispatchEvent('mousedown');
  await dpick.locator('.chip').first().waitFor();

  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/v1/needs') && r.request().method() === 'POST'),
    page.locator('#save').click(),
  ]);
  assert(resp.status() === 201, `POST /v1/needs answered ${resp.status()}`);
  const posted = await resp.json();
  await page.locator('#matches-card').waitFor({ state: 'visible' });
  const matches = page.locator('#matches li.match');
  await matches.first().waitFor();
  const n = await matches.count();
  assert(n >= 3, `at least 3 ranked partners, got ${n}`);
  // Ranked best first, each with its explanation.
  const scores = await page.locator('#matches .score').allTextContents();
  const nums = scores.map(Number);
  assert(nums.every((x, i) => i === 0 || x <= nums[i - 1]), `scores descend: ${nums}`);
  assert(nums[0] > 0, 'the best score is above 0');
  const first = matches.first();
  assert(await first.locator('.scorebar .seg').count() >= 2, 'the score bar shows its components');
  assert(await first.locator('dl.why dt').count() >= 2, 'the explanation lists its reasons');
  const why = await first.locator('dl.why').textContent();
  assert(why.includes('地域关系'), 'the region relation is explained');
  assert(await page.locator('#matches .legend').count() === 1, 'a legend of the components');
  // The need is on the list and in edit mode now.
  await page.locator(`#my-needs li[data-id="${posted.id}"]`).waitFor();
  assert((await page.locator('#save').textContent()).includes('保存'), 'the form now saves changes');
  await page.screenshot({ path: path.join(out, 'enterprise.png'), fullPage: true });

  // English, then a phone-width screen.
  await page.locator('#lang').click();
  assert((await page.locator('#matches-card h2').textContent()).includes('Recommended partners'),
         'the English switch translates the page');
  // Kinds are words, not the API's enum values (issue 18 item 11).
  const kindsEn = await page.locator('#matches .kind').allTextContents();
  assert(kindsEn.length > 0 && kindsEn.every((k) => /^[A-Z]/.test(k)), `kinds in English: ${kindsEn}`);
  // NSFC discipline names in English, as the taxonomy's source has them
  // (GB/T 4754 and GB/T 2260 are published in Chinese only).
  const discEn = await page.locator('#matches .codes .code[data-taxonomy="discipline"]').allTextContents();
  assert(discEn.length > 0 && discEn.every((c) => !/[\u4e00-\u9fff]/.test(c)), `disciplines in English: ${discEn}`);
  const dchipEn = await dpick.locator('.chip').first().textContent();
  assert(dchipEn.includes('Catalytic chemistry'), `the picked discipline in English: ${dchipEn}`);
  await page.screenshot({ path: path.join(out, 'enterprise-en.png'), fullPage: true });
  await page.locator('#lang').click();
  await page.setViewportSize(phone);
  await noSideScroll(page, 'enterprise page on a phone');
  await page.screenshot({ path: path.join(out, 'enterprise-phone.png'), fullPage: true });
});

/* A need that says little gets lower scores than a detailed one on the
 * same subject, and the page says it is too thin (issue 18 item 13). */
await withPage('a thin need is scored lower and says so', desk, async (page) => {
  const auth = { Authorization: `Bearer ${tokens.enterprise}`, 'Content-Type': 'application/json' };
  const r = await page.request.post(`${base}/v1/needs`, { headers: auth,
    data: { name: '测试需求1', text: '冬枣保鲜' } });
  assert(r.status() === 201, `POST a thin need: ${r.status()}`);
  const thin = await r.json();
  const top = async (id) => (await (await page.request.get(`${base}/v1/needs/${id}/matches?top=5`,
    { headers: auth })).json());
  const t1 = await top(thin.id);
  assert(t1.thin === true && t1.evidence < 1, `the thin need is marked thin: ${t1.thin} ${t1.evidence}`);
  await login(page, `enterprise.html?need=${thin.id}`, tokens.enterprise);
  await page.locator('#matches .thin-note').waitFor();
  const note = await page.locator('#matches .thin-note').textContent();
  assert(note.includes('过于简略'), `the page says the need is thin: ${note}`);
  const shown = Number(await page.locator('#matches .score').first().textContent());
  assert(shown === Math.round(t1.matches[0].score * 100),
         `the page shows the scaled score: ${shown} vs ${t1.matches[0].score}`);
});

/* Opening a stored need and saving it unchanged stores what was read:
 * N0003 lies in a township (371603107), below what a county select offers. */
await withPage('saving an opened need keeps its township and every field', desk, async (page) => {
  const auth = { headers: { Authorization: `Bearer ${tokens.enterprise}` } };
  const get = async () => (await (await page.request.get(`${base}/v1/needs/N0003`, auth)).json()).record;
  const before = await get();
  assert(before.region === '371603107', `the fixture need lies in a township: ${before.region}`);
  await login(page, 'enterprise.html?need=N0003', tokens.enterprise);
  // The enterprise lies in that township too: wait for the need itself.
  await page.waitForFunction((name) => document.querySelector('[name=name]').value === name &&
    document.querySelector('#matches-card:not([hidden])') &&
    document.querySelector('[name=township]').value === '371603107', before.name);
  assert(await page.locator('[name=region]').inputValue() === '371603', 'the county is shown');
  const save = async () => {
    const [resp] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/v1/needs/N0003') && r.request().method() === 'PUT'),
      page.locator('#save').click(),
    ]);
    assert(resp.status() === 200, `PUT /v1/needs/N0003 answered ${resp.status()}`);
  };
  await save();
  const after = await get();
  const strip = (r) => JSON.stringify({ ...r, updated: undefined });
  assert(strip(after) === strip(before),
         `saving unchanged stores what was read:\n${strip(before)}\n${strip(after)}`);
  // Another township of the county, then the county alone.
  await page.locator('[name=township]').selectOption('371603101');
  await save();
  assert((await get()).region === '371603101', 'a township chosen in the form is stored');
  await page.locator('[name=township]').selectOption('');
  await save();
  assert((await get()).region === '371603', 'the county alone is stored when no township is chosen');
  await page.locator('[name=township]').selectOption('371603107');
  await save();
  assert(strip(await get()) === strip(before), 'the need is back as it was');
});

// A CSV file per RFC 4180 (quoted fields, doubled quotes, CRLF rows) as
// rows of cells; throws on anything else.
function parseCsv(text) {
  const rows = [];
  let row = [], i = 0;
  while (i < text.length) {
    let cell = '';
    if (text[i] === '"') {
      for (i++; ; i++) {
        if (i >= text.length) throw new Error('CSV: unclosed quote');
        if (text[i] === '"' && text[i + 1] === '"') { cell += '"'; i++; }
        else if (text[i] === '"') break;
        else cell += text[i];
      }
      i++;
    } else {
      for (; i < text.length && !',\r\n'.includes(text[i]); i++) {
        if (text[i] === '"') throw new Error('CSV: quote in an unquoted field');
        cell += text[i];
      }
    }
    row.push(cell);
    if (text[i] === ',') { i++; continue; }
    if (text.startsWith('\r\n', i)) { rows.push(row); row = []; i += 2; continue; }
    throw new Error(`CSV: unexpected ${JSON.stringify(text[i])} at ${i}`);
  }
  if (row.length) throw new Error('CSV: last row without CRLF');
  return rows;
}

let shortlisted = null;

await withPage('liaison filters by a facet, shortlists a partner and exports CSV', desk, async (page) => {
  const [first] = await Promise.all([
    page.waitForResponse((r) => r.url().includes('/v1/search')),
    login(page, 'liaison.html', tokens.liaison),
  ]);
  // It opens on the work waiting: open needs, each with its button
  // (issue 18 item 9); closed needs offer no 推荐合作方.
  assert(/kind=need/.test(first.url()) && /status=open/.test(first.url()), `the first search: ${first.url()}`);
  const opening = await first.json();
  assert(opening.hits.length > 0 && opening.hits.every((h) => h.kind === 'need' && h.status === 'open'),
         'the page opens on open needs');
  // ... the newest first, and the page says so and shows each one's date
  const dates = opening.hits.map((h) => h.updated || '');
  assert(opening.sort === 'newest' && dates.every((d, i) => i === 0 || dates[i - 1] >= d),
         `the page opens on the newest needs: ${opening.sort} ${dates.join(',')}`);
  await page.locator('#results li.hit').first().waitFor();
  assert((await page.locator('#total').textContent()).includes('最新在前'), 'the order is stated');
  const meta0 = await page.locator('#results li.hit .meta').first().textContent();
  assert(/更新 \d{4}-\d\d-\d\d/.test(meta0) && (dates[0].includes('T') || meta0.includes(dates[0])),
         `the first need shows its date: ${meta0} (${dates[0]})`);
  assert(await page.locator('#results li.hit button.show-partners').count() === opening.hits.length,
         'every open need offers its partners');
  await page.locator('#open-only').uncheck();
  const [closedResp] = await Promise.all([
    page.waitForResponse((r) => r.url().includes('/v1/search') && !r.url().includes('status=')),
    page.locator('#search-form button[type=submit]').click(),
  ]);
  const all = await closedResp.json();
  const shut = all.hits.filter((h) => h.status && h.status !== 'open').length;
  await page.locator('#results li.hit').first().waitFor();
  assert(await page.locator('#results li.hit button.show-partners').count() === all.hits.length - shut,
         `closed needs (${shut}) offer no partners button`);
  await page.locator('#kind').selectOption('');
  await page.locator('#open-only').check();
  await page.locator('#q').fill('催化');
  await page.locator('#search-form button[type=submit]').click();
  await page.locator('#results li.hit').first().waitFor();

  // Facet: needs only.
  await Promise.all([
    page.waitForResponse((r) => r.url().includes('/v1/search') && r.url().includes('kind=need')),
    page.locator('#facets button[data-facet=kind][data-value=need]').click(),
  ]);
  await page.locator('#facets button.on[data-facet=kind]').waitFor();
  // In English the discipline facets read in English (issue 18 item 11).
  const discZh = await page.locator('#facets button[data-facet=discipline] span:first-child').allTextContents();
  await page.locator('#lang').click();
  const discEn = await page.locator('#facets button[data-facet=discipline] span:first-child').allTextContents();
  await page.locator('#lang').click();
  assert(discZh.length > 0 && discZh.every((d) => /[\u4e00-\u9fff]/.test(d)) &&
         discEn.length === discZh.length && discEn.every((d) => !/[\u4e00-\u9fff]/.test(d)),
         `discipline facets: ${discZh} / ${discEn}`);
  let kinds = await page.locator('#results li.hit').evaluateAll((ls) => ls.map((l) => l.dataset.kind));
  assert(kinds.length > 0 && kinds.every((k) => k === 'need'), `only needs after the kind facet: ${kinds}`);

  // Facet: one county; every hit the server returns lies in it.
  const county = page.locator('#facets button[data-facet=region]').first();
  const code = await county.getAttribute('data-value');
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.url().includes(`region=${code}`)),
    county.click(),
  ]);
  const data = await resp.json();
  assert(data.hits.length > 0, 'the county has needs');
  const prefix = code.replace(/(00)+$/, '');
  assert(data.hits.every((h) => (h.region || '').startsWith(prefix)),
         `every hit lies in ${code}`);
  await page.locator('#active-filters .chip[data-facet=region]').waitFor();
  kinds = await page.locator('#results li.hit').evaluateAll((ls) => ls.map((l) => l.dataset.kind));
  assert(kinds.length === data.hits.length, 'the page shows what the server returned');

  // A need's ranked partners; shortlist the best.
  const hit = page.locator('#results li.hit').first();
  const needKey = await hit.getAttribute('data-key');
  await hit.locator('button.show-partners').click();
  await page.locator('#detail li.match').first().waitFor();
  // The close button stays one line beside a long title, and each shared
  // code shows once per match (issue 18 item 12).
  const close = await page.locator('#detail-close').boundingBox();
  const lh = await page.locator('#detail-close').evaluate((b) => parseFloat(getComputedStyle(b).fontSize));
  assert(close.height < lh * 2.6 && close.width > lh * 1.5, `关闭 is one line (${close.width}x${close.height})`);
  const dupCodes = await page.locator('#detail dd.codes').evaluateAll((dds) => dds.filter((dd) => {
    const c = [...dd.querySelectorAll('.code b')].map((b) => b.textContent);
    return new Set(c).size !== c.length;
  }).length);
  assert(dupCodes === 0, `${dupCodes} matches list a shared code twice`);
  const match = page.locator('#detail li.match:has(button.shortlist-add:not([disabled]))').first();
  const partnerKey = await match.getAttribute('data-key');
  await match.locator('button.shortlist-add').click();
  const row = page.locator(`#shortlist tr[data-need="${needKey}"][data-partner="${partnerKey}"]`);
  await row.waitFor();
  // Times are the viewer's own (UTC+8 here), not the server's UTC (issue 18
  // item 11): the row just made shows about now, Shanghai time.
  const when = (await row.locator('td').last().textContent()).trim();
  const shanghai = new Date(Date.now() + 8 * 3600e3).toISOString().replace('T', ' ').slice(0, 16);
  const minutes = (x) => Date.parse(x.replace(' ', 'T') + ':00Z') / 60e3;
  assert(Math.abs(minutes(when) - minutes(shanghai)) <= 2, `updated ${when}, Shanghai now ${shanghai}`);
  assert(await page.locator(`#detail li.match[data-key="${partnerKey}"] button.shortlist-add`).isDisabled(),
         'a shortlisted partner cannot be added twice');

  // Move it on to "contacted".
  await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/v1/pipeline') && r.request().method() === 'POST'),
    row.locator('select').selectOption('contacted'),
  ]);
  await page.waitForFunction(([n, p]) => {
    const s = document.querySelector(`#shortlist tr[data-need="${n}"][data-partner="${p}"] select`);
    return s && s.value === 'contacted';
  }, [needKey, partnerKey]);
  shortlisted = { needKey, partnerKey };
  await page.screenshot({ path: path.join(out, 'liaison.png'), fullPage: true });

  // Export: the server writes the file (GET /v1/pipeline?format=csv), the
  // page saves it under the server's name; read it back per RFC 4180.
  const [download, csvResp] = await Promise.all([
    page.waitForEvent('download'),
    page.waitForResponse((r) => r.url().includes('/v1/pipeline?') && r.url().includes('format=csv')),
    page.locator('#export-csv').click(),
  ]);
  assert(csvResp.status() === 200, `CSV export answered ${csvResp.status()}`);
  assert(csvResp.headers()['content-type'] === 'text/csv; charset=utf-8',
         `CSV content type ${csvResp.headers()['content-type']}`);
  assert(/^kxmatch-pipeline-\d{8}\.csv$/.test(download.suggestedFilename()),
         `file name ${download.suggestedFilename()}`);
  const file = path.join(out, 'shortlist.csv');
  await download.saveAs(file);
  const text = fs.readFileSync(file, 'utf8');
  assert(text.charCodeAt(0) === 0xfeff, 'the CSV starts with a BOM');
  const rows = parseCsv(text.slice(1));
  assert(rows[0].join(',').startsWith('需求编号,需求名称,合作方编号,合作方名称,类型,单位,阶段'),
         `CSV header: ${rows[0]}`);
  const mine = rows.find((r) => r[0] === needKey && r[2] === partnerKey);
  assert(mine, `the CSV has the pair ${needKey} ${partnerKey}`);
  assert(mine[6] === '已联系', `the pair is at "contacted": ${mine}`);
  const bad = rows.flat().filter((c) => /^[=+\-@\t\r]/.test(c));
  assert(!bad.length, `no cell starts a formula: ${bad}`);

  await page.setViewportSize(phone);
  await noSideScroll(page, 'liaison page on a phone');
  await page.screenshot({ path: path.join(out, 'liaison-phone.png'), fullPage: true });
});

await withPage('a digest link opens the need on the liaison page', desk, async (page) => {
  if (!shortlisted) throw new Error('needs the pair of the liaison test');
  const id = shortlisted.needKey.slice('need:'.length);
  await login(page, `liaison.html?need=${encodeURIComponent(id)}`, tokens.liaison);
  await page.locator('#detail li.match').first().waitFor();
  const title = await page.locator('#detail-title').textContent();
  assert(!title.includes(shortlisted.needKey), `the need is named, not keyed: ${title}`);
  const keys = await page.locator('#detail li.match').evaluateAll((ls) => ls.map((l) => l.dataset.key));
  assert(keys.includes(shortlisted.partnerKey), `the need's partners include ${shortlisted.partnerKey}`);
  // A partner link (the token is remembered now) shows that partner's needs.
  await page.goto(`${base}/liaison.html?partner=${encodeURIComponent(shortlisted.partnerKey)}`);
  await page.locator('#app').waitFor({ state: 'visible' });
  await page.locator('#detail li.match').first().waitFor();
  const needs = await page.locator('#detail li.match').evaluateAll((ls) => ls.map((l) => l.dataset.key));
  assert(needs.length > 0 && needs.every((k) => k.startsWith('need:')), `needs for the partner: ${needs}`);
  await page.screenshot({ path: path.join(out, 'liaison-digest-link.png'), fullPage: true });
});

await withPage('dashboard renders its charts', desk, async (page) => {
  // A pair signed, then declined: the key figure 签约 and the funnel's last
  // step count it the same way (issue 18 item 4).
  for (const stage of ['agreement_signed', 'declined']) {
    const r = await fetch(`${base}/v1/pipeline`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${tokens.admin}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ need: 'need:N0001', partner: 'expert:E0002', stage }),
    });
    assert(r.status === 200 || r.status === 201, `pipeline ${stage}: ${r.status}`);
  }
  await login(page, 'dashboard.html', tokens.admin);
  await page.locator('#chart-county svg rect.bar').first().waitFor();
  const bars = async (sel, series) => page.locator(`${sel} rect.bar[data-series=${series}]`)
    .evaluateAll((rs) => rs.map((r) => Number(r.dataset.value)));
  const needs = await bars('#chart-county', 'needs');
  assert(needs.length >= 3 && needs.some((v) => v > 0), `needs per county: ${needs}`);
  const ind = await bars('#chart-industry', 'needs');
  assert(ind.length >= 3 && ind.some((v) => v > 0), `needs per industry: ${ind}`);
  const steps = await page.locator('#chart-funnel rect.step')
    .evaluateAll((rs) => rs.map((r) => [r.dataset.series, Number(r.dataset.value)]));
  assert(steps.length === 3 && steps[0][0] === 'shortlisted', `funnel steps: ${steps}`);
  if (shortlisted) {
    assert(steps[0][1] >= 1 && steps[1][1] >= 1, `the shortlisted pair is in the funnel: ${steps}`);
    const matches = await bars('#chart-county', 'matches');
    assert(matches.some((v) => v > 0), 'matches per county count the pair');
  }
  const kpi = await page.locator('.kpi[data-kpi=needs] b').textContent();
  assert(Number(kpi) > 0, `the needs figure: ${kpi}`);
  const signedKpi = Number(await page.locator('.kpi[data-kpi=agreements] b').textContent());
  const signedStep = (await page.locator('#chart-funnel rect.step')
    .evaluateAll((rs) => rs.map((r) => Number(r.dataset.value))))[2];
  assert(signedKpi >= 1 && signedKpi === signedStep,
         `签约 ${signedKpi} is the funnel's 已签约 ${signedStep}`);
  assert((await page.locator('#kpi-defs').textContent()).includes('已签约'), 'the page states the definition');
  await page.screenshot({ path: path.join(out, 'dashboard.png'), fullPage: true });
  await page.setViewportSize(phone);
  await noSideScroll(page, 'dashboard on a phone');
  await page.screenshot({ path: path.join(out, 'dashboard-phone.png'), fullPage: true });
});

await withPage('a wrong token is refused and a role sees only its pages', desk, async (page) => {
  await page.goto(`${base}/enterprise.html`);
  await page.locator('#token').fill('kx_0000000000000000000000000000000000000000');
  await page.locator('#login-form button[type=submit]').click();
  await page.waitForFunction(() => document.querySelector('#login-error').textContent.length > 0);
  assert(await page.locator('#app').isHidden(), 'nothing is shown without a valid token');
  await page.goto(`${base}/dashboard.html`);
  await page.locator('#token').fill(tokens.enterprise);
  await page.locator('#login-form button[type=submit]').click();
  await page.waitForFunction(() => document.querySelector('#login-error').textContent.includes('角色'));
  assert(await page.locator('#app').isHidden(), 'an enterprise does not get the dashboard');
});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
