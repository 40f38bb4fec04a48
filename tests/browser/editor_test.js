#!/usr/bin/env node
// Real-browser test of the editor page of `skillmatch serve` (apps/skillmatch/server/page/).
//
//   node tests/browser/editor_test.js --url http://127.0.0.1:PORT --out DIR
//        [--chromium /usr/bin/chromium] [--timeout 60] [--key API_KEY]
//
// Drives Debian's Chromium through playwright-core (tests/tools/node/node_modules) against a
// running server: German/English UI, taxonomies, matching (Ctrl+Enter), supporting spans (UTF-8
// byte offsets), accept/reject (Tab/Enter and mouse), the manual skill search (arrow keys/Enter),
// JSON/CSV downloads, the clipboard, feedback stored by the API, an API error shown readably,
// no horizontal scrolling at 375 px, and screenshots (editor-desktop.png, editor-phone.png) into
// DIR. Exit codes: 0 pass, 1 fail (with the step and the reason), 77 skipped (no playwright-core
// or no Chromium), 2 bad arguments.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

function parseArgs(argv) {
  const out = { chromium: process.env.CHROMIUM || '/usr/bin/chromium', timeout: 60 };
  for (let i = 0; i < argv.length; i++) {
    const m = /^--(url|out|chromium|timeout|key)$/.exec(argv[i]);
    if (!m || i + 1 >= argv.length) {
      console.error(`editor_test: usage: editor_test.js --url http://127.0.0.1:PORT --out DIR [--chromium PATH] [--timeout S] [--key K] (bad argument '${argv[i]}')`);
      process.exit(2);
    }
    out[m[1]] = argv[++i];
  }
  if (!out.url || !out.out) {
    console.error('editor_test: --url and --out are required');
    process.exit(2);
  }
  out.url = out.url.replace(/\/+$/, '');
  out.timeout = Number(out.timeout);
  return out;
}
const args = parseArgs(process.argv.slice(2));

let chromium;
try {
  ({ chromium } = require(path.resolve(__dirname, '../tools/node/node_modules/playwright-core')));
} catch (e) {
  console.log('editor_test: SKIP: playwright-core is not installed (cd tests/tools/node && npm install --ignore-scripts)');
  process.exit(77);
}
if (!fs.existsSync(args.chromium)) {
  console.log(`editor_test: SKIP: no Chromium at ${args.chromium} (apt-get install chromium)`);
  process.exit(77);
}

const COURSE = 'Grundlagen der Buchhaltung: doppelte Buchführung, Kontenrahmen und Jahresabschluss. ' +
  'Sie üben Buchungssätze, die Umsatzsteuer und die Gewinn- und Verlustrechnung am Computer.';
const SEARCH = 'Tabellenkalk';

let currentStep = 'start';
let browserCtx = null;
let userDir = null;
const pageErrors = [];

class Fail extends Error {}
function check(cond, msg) { if (!cond) throw new Fail(msg); }
function log(msg) { console.log('editor_test: ' + msg); }
async function step(name, fn) {
  currentStep = name;
  const t0 = Date.now();
  await fn();
  log(`ok   ${name} (${Date.now() - t0} ms)`);
}
async function cleanup() {
  try { if (browserCtx) await browserCtx.close(); } catch (_) { /* already gone */ }
  browserCtx = null;
  try { if (userDir) fs.rmSync(userDir, { recursive: true, force: true }); } catch (_) { /* best effort */ }
}
let timedOut = false;
const watchdog = setTimeout(async () => {
  timedOut = true;
  console.error(`editor_test: FAIL: timed out after ${args.timeout} s in step '${currentStep}'`);
  await Promise.race([cleanup(), new Promise((r) => setTimeout(r, 3000))]);
  process.exit(1);
}, args.timeout * 1000);

function authHeaders() { return args.key ? { Authorization: 'Bearer ' + args.key } : {}; }
function parseCsv(s) {
  const rows = []; let row = [], f = '', q = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (q) { if (c === '"') { if (s[i + 1] === '"') { f += '"'; i++; } else q = false; } else f += c; } else if (c === '"') q = true;
    else if (c === ',') { row.push(f); f = ''; } else if (c === '\n') { row.push(f); rows.push(row); row = []; f = ''; } else if (c !== '\r') f += c;
  }
  if (f || row.length) { row.push(f); rows.push(row); }
  return rows;
}

async function main() {
  fs.mkdirSync(args.out, { recursive: true });
  userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'skillmatch-chromium-'));
  browserCtx = await chromium.launchPersistentContext(userDir, {
    executablePath: args.chromium,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 800 },
    acceptDownloads: true,
    locale: 'de-DE',
  });
  try {
    await browserCtx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: args.url });
  } catch (_) { /* older Chromium: the clipboard check is then skipped */ }
  const page = browserCtx.pages()[0] || await browserCtx.newPage();
  page.setDefaultTimeout(15000);
  page.on('pageerror', (e) => pageErrors.push(String(e && e.stack || e)));
  page.on('console', (m) => { if (m.type() === 'error') log('browser console: ' + m.text()); });
  const $text = (sel) => page.locator(sel).first().innerText();
  const htmlLang = () => page.evaluate(() => document.documentElement.lang);

  let taxonomies = [];
  await step('open the page', async () => {
    const resp = await page.goto(args.url + '/' + (args.key ? '?key=' + encodeURIComponent(args.key) : ''));
    check(resp && resp.status() === 200, `GET / answered ${resp && resp.status()}`);
    check((resp.headers()['content-type'] || '').startsWith('text/html'), `GET / has Content-Type ${resp.headers()['content-type']}`);
    await page.waitForSelector('#taxonomies input[type=checkbox]', { timeout: 20000 });
    if (args.key) {
      check(!(await page.evaluate(() => location.search)).includes('key='), 'the API key stayed in the address bar');
      check(await page.evaluate(() => sessionStorage.getItem('skillmatch.apiKey')) === args.key, 'the API key is not in sessionStorage');
    }
  });

  await step('German UI, switch to English and back (remembered)', async () => {
    check(await htmlLang() === 'de', `<html lang> is '${await htmlLang()}', not 'de'`);
    check((await $text('#match')).trim() === 'Vorschläge', `the match button says '${await $text('#match')}'`);
    check((await $text('#h-add')).includes('hinzufügen'), 'the search heading is not German');
    check((await $text('#lang')).trim() === 'English', `the language switch says '${await $text('#lang')}'`);
    await page.click('#lang');
    check(await htmlLang() === 'en', 'after the switch <html lang> is not en');
    check((await $text('#match')).trim() === 'Suggest', `English match button says '${await $text('#match')}'`);
    check(await page.evaluate(() => localStorage.getItem('skillmatch.lang')) === 'en', 'the language is not kept in localStorage');
    await page.reload();
    await page.waitForSelector('#taxonomies input[type=checkbox]');
    check(await htmlLang() === 'en', 'English was not remembered across a reload');
    check((await $text('#h-results')).trim() === 'Suggestions', 'the results heading is not English after reload');
    await page.click('#lang');
    check(await htmlLang() === 'de' && (await $text('#match')).trim() === 'Vorschläge', 'switching back to German failed');
  });

  await step('taxonomies listed with skill counts', async () => {
    const r = await fetch(args.url + '/v1/taxonomies', { headers: authHeaders() });
    check(r.status === 200, `GET /v1/taxonomies answered ${r.status}`);
    taxonomies = await r.json();
    check(Array.isArray(taxonomies) && taxonomies.length > 0, 'GET /v1/taxonomies is empty');
    const shown = await page.$$eval('#taxonomies label', (ls) => ls.map((l) => ({
      name: l.querySelector('input').value, checked: l.querySelector('input').checked, text: l.innerText })));
    for (const t of taxonomies) {
      const s = shown.find((x) => x.name === t.name);
      check(s, `taxonomy ${t.name} has no checkbox`);
      check(s.checked, `taxonomy ${t.name} is not checked by default`);
      check(s.text.replace(/\D/g, '').endsWith(String(t.skills)), `taxonomy ${t.name}: '${s.text}' does not show ${t.skills} skills`);
    }
    check(taxonomies.some((t) => t.name === 'esco-de'), 'esco-de is not among the taxonomies');
    log('taxonomies: ' + shown.map((s) => s.text.replace(/\s+/g, ' ')).join(' | '));
  });

  await step('an API error is shown readably', async () => {
    await page.route('**/v1/match', (route) => route.fulfill({ status: 429, contentType: 'application/json',
      body: JSON.stringify({ error: 'queue is full (test)', error_type: 'Overloaded' }) }), { times: 1 });
    await page.fill('#text', 'Testtext');
    await page.click('#match');
    const err = page.locator('#error');
    await err.waitFor({ state: 'visible' });
    const t = await err.innerText();
    check(t.includes('queue is full (test)') && t.includes('429') && /ausgelastet/.test(t), `the error reads '${t}'`);
    check(await err.getAttribute('role') === 'alert', 'the error box is not role=alert');
    await page.unrouteAll();
  });

  let results = [];
  let matchRequest = null;
  await step('paste a German course text and match with Ctrl+Enter', async () => {
    await page.fill('#text', '');
    await page.click('#text');
    await page.keyboard.insertText(COURSE);
    const respP = page.waitForResponse((r) => r.url().endsWith('/v1/match') && r.request().method() === 'POST');
    await page.keyboard.press('Control+Enter');
    const resp = await respP;
    check(resp.status() === 200, `POST /v1/match answered ${resp.status()}: ${await resp.text()}`);
    matchRequest = resp.request().postDataJSON();
    check(matchRequest.text === COURSE, 'the page did not send the course text as `text`');
    check(matchRequest.explain === true, 'the page did not ask for explain: true');
    check(matchRequest.top === 10, `strictness "normal" sent top=${matchRequest.top}`);
    const body = await resp.json();
    results = body.results;
    check(Array.isArray(results) && results.length >= 2, `expected at least 2 suggestions, got ${results && results.length}`);
    await page.waitForFunction((n) => document.querySelectorAll('#results li.sugg').length === n, results.length);
    check(await page.locator('#error').isHidden(), 'the old error is still shown');
    const status = await $text('#status');
    check(status.includes(String(results.length)), `the live status says '${status}'`);
    const meta = await $text('#meta');
    check(meta.includes(body.mode) && /ms/.test(meta), `the model/timing line says '${meta}'`);
    const first = await page.locator('#results li.sugg').first();
    check((await first.locator('.label').innerText()) === results[0].label, 'the first suggestion is not the first result');
    log(`${results.length} suggestions, meta '${meta}'; first: ${results[0].label}`);
  });

  await step('supporting spans highlighted in the text (UTF-8 byte offsets)', async () => {
    const source = await page.locator('#source').innerText();
    check(source === COURSE, 'the read-only text is not the course text');
    const bytes = Buffer.from(COURSE, 'utf8');
    let checked = 0, afterUmlaut = 0;
    for (let i = 0; i < results.length; i++) {
      const sup = results[i].support;
      if (!sup) continue;
      const want = bytes.subarray(sup.start, sup.end).toString('utf8');
      check(want === sup.text, `result ${i + 1}: support.text '${sup.text}' is not bytes ${sup.start}..${sup.end} of the text ('${want}')`);
      await page.hover(`#results li.sugg[data-i="${i}"] .label`);
      const mark = page.locator('#source mark');
      check(await mark.count() === 1, `hovering suggestion ${i + 1} highlights ${await mark.count()} spans`);
      const got = await mark.innerText();
      check(got === want, `hovering suggestion ${i + 1} highlights '${got}', expected '${want}'`);
      const pos = await page.evaluate(() => { const m = document.querySelector('#source mark'); let n = 0; for (let x = m.previousSibling; x; x = x.previousSibling) n += x.textContent.length; return n; });
      check(pos === bytes.subarray(0, sup.start).toString('utf8').length, `suggestion ${i + 1}: the highlight starts at character ${pos}`);
      check(await page.locator(`#results li.sugg[data-i="${i}"] .support`).innerText().then((t) => t.includes(want)), `suggestion ${i + 1} does not show its supporting span`);
      if (sup.start !== bytes.subarray(0, sup.start).toString('utf8').length) afterUmlaut++;
      checked++;
    }
    check(checked > 0, 'no suggestion has a supporting span (explain: true)');
    log(`${checked} spans checked, ${afterUmlaut} of them after a multi-byte character`);
  });

  let accepted = null, rejected = null;
  await step('accept one with the keyboard (Tab, Enter)', async () => {
    await page.focus('#text');
    const target = '#results li.sugg[data-i="0"] button.accept';
    let found = false;
    for (let n = 0; n < 40 && !found; n++) {
      await page.keyboard.press('Tab');
      found = await page.evaluate((sel) => document.activeElement && document.activeElement.matches(sel), target);
    }
    check(found, 'Tab never reached the first suggestion\'s accept button');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    check(outline !== 'none', 'the focused accept button shows no focus outline');
    const sup = results[0].support;
    if (sup) {
      const want = Buffer.from(COURSE).subarray(sup.start, sup.end).toString('utf8');
      check(await page.locator('#source mark').innerText() === want, 'focusing the first suggestion does not highlight its span');
    }
    await page.keyboard.press('Enter');
    const li = page.locator('#results li.sugg[data-i="0"]');
    check(await li.getAttribute('data-state') === 'accepted', 'Enter on ✓ did not accept the suggestion');
    check(await li.locator('button.accept').getAttribute('aria-pressed') === 'true', 'the accept button is not aria-pressed');
    check((await li.locator('.badge').innerText()).includes('übernommen'), 'the accepted state has no visible text');
    check(await page.evaluate(() => document.activeElement.matches('#results li.sugg[data-i="0"] button.accept')), 'the focus left the accept button');
    accepted = results[0];
  });

  await step('reject one with the mouse', async () => {
    await page.click('#results li.sugg[data-i="1"] button.reject');
    const li = page.locator('#results li.sugg[data-i="1"]');
    check(await li.getAttribute('data-state') === 'rejected', 'clicking ✗ did not reject');
    check(await li.locator('button.reject').getAttribute('aria-pressed') === 'true', 'the reject button is not aria-pressed');
    check((await li.locator('.badge').innerText()).includes('abgelehnt'), 'the rejected state has no visible text');
    const deco = await li.locator('.label').evaluate((e) => getComputedStyle(e).textDecorationLine);
    check(deco.includes('line-through'), 'a rejected label is not struck through');
    rejected = results[1];
  });

  let added = null;
  await step('search a skill and add it with the keyboard', async () => {
    await page.click('#search');
    const searchP = page.waitForResponse((r) => r.url().includes('/v1/skills?'));
    await page.keyboard.type(SEARCH, { delay: 15 });
    const resp = await searchP;
    check(resp.status() === 200, `GET /v1/skills answered ${resp.status()}`);
    await page.waitForSelector('#search-list li[role=option][data-uri]');
    await page.waitForTimeout(400); // debounce: let the last keystroke's answer land
    const opts = await page.$$eval('#search-list li[role=option][data-uri]', (ls) => ls.map((l) => ({ uri: l.dataset.uri, taxonomy: l.dataset.taxonomy, label: l.querySelector('.label').textContent })));
    check(opts.length > 0, `no autocomplete options for '${SEARCH}'`);
    const idx = opts.findIndex((o) => !results.some((r) => r.uri === o.uri && r.taxonomy === o.taxonomy));
    check(idx >= 0, 'every option is already a suggestion');
    for (let n = 0; n <= idx; n++) await page.keyboard.press('ArrowDown');
    const ad = await page.getAttribute('#search', 'aria-activedescendant');
    check(ad === 'search-opt-' + idx, `aria-activedescendant is '${ad}'`);
    check(await page.getAttribute('#' + ad, 'aria-selected') === 'true', 'the active option is not aria-selected');
    await page.keyboard.press('Enter');
    added = opts[idx];
    await page.waitForSelector(`#added li[data-uri="${added.uri}"]`);
    check(await page.locator('#search-list').isHidden(), 'the option list stayed open');
    check((await page.inputValue('#search')) === '', 'the search field was not cleared');
    check((await $text('#final-count')).trim() === '2', `the final list counts ${await $text('#final-count')}`);
    log(`added by hand: ${added.label}`);
  });

  let json = null;
  await step('download the final list as JSON and CSV', async () => {
    const [dj] = await Promise.all([page.waitForEvent('download'), page.click('#dl-json')]);
    check(dj.suggestedFilename().endsWith('.json'), `JSON file named ${dj.suggestedFilename()}`);
    const jp = path.join(args.out, 'editor-final.json');
    await dj.saveAs(jp);
    json = JSON.parse(fs.readFileSync(jp, 'utf8'));
    check(Array.isArray(json) && json.length === 2, `the JSON has ${json.length} entries, expected 2`);
    check(json[0].uri === accepted.uri && json[0].taxonomy === accepted.taxonomy && json[0].label === accepted.label &&
      Math.abs(json[0].score - accepted.score) < 1e-9, `JSON entry 1 is ${JSON.stringify(json[0])}`);
    check(json[1].uri === added.uri && json[1].label === added.label && json[1].score === null, `JSON entry 2 is ${JSON.stringify(json[1])}`);
    check(!json.some((s) => s.uri === rejected.uri), 'the rejected skill is in the JSON');

    const [dc] = await Promise.all([page.waitForEvent('download'), page.click('#dl-csv')]);
    check(dc.suggestedFilename().endsWith('.csv'), `CSV file named ${dc.suggestedFilename()}`);
    const cp = path.join(args.out, 'editor-final.csv');
    await dc.saveAs(cp);
    const rows = parseCsv(fs.readFileSync(cp, 'utf8'));
    check(rows.length === 3, `the CSV has ${rows.length} rows, expected 3`);
    check(rows[0].join(',') === 'taxonomy,uri,label,score', `the CSV header is ${rows[0].join(',')}`);
    check(rows[1][0] === accepted.taxonomy && rows[1][1] === accepted.uri && rows[1][2] === accepted.label &&
      Math.abs(Number(rows[1][3]) - accepted.score) < 1e-9, `CSV row 1 is ${rows[1].join(',')}`);
    check(rows[2][0] === added.taxonomy && rows[2][1] === added.uri && rows[2][2] === added.label && rows[2][3] === '', `CSV row 2 is ${rows[2].join(',')}`);
  });

  await step('copy the final list as JSON', async () => {
    await page.click('#copy-json');
    await page.waitForFunction(() => /kopiert|Kopieren/.test(document.getElementById('announce').textContent), null, { timeout: 5000 })
      .catch(async () => { throw new Fail(`copying announced '${await page.locator('#announce').textContent()}'`); });
    const msg = await page.locator('#announce').textContent();
    let clip = null;
    try { clip = await page.evaluate(() => navigator.clipboard.readText()); } catch (_) { clip = null; }
    if (clip === null) { log('note: the clipboard cannot be read here; only the message was checked'); check(/kopiert/.test(msg), `copy says '${msg}'`); return; }
    check(/kopiert/.test(msg), `copy says '${msg}'`);
    check(JSON.stringify(JSON.parse(clip)) === JSON.stringify(json), 'the clipboard JSON differs from the downloaded JSON');
  });

  await step('send feedback; the API stores it', async () => {
    const respP = page.waitForResponse((r) => r.url().endsWith('/v1/feedback') && r.request().method() === 'POST');
    await page.click('#send-feedback');
    const resp = await respP;
    check(resp.status() === 201, `POST /v1/feedback answered ${resp.status()}: ${await resp.text()}`);
    const sent = resp.request().postDataJSON();
    check(sent.text === COURSE, 'feedback: wrong text');
    check(JSON.stringify(sent.accepted) === JSON.stringify([{ taxonomy: accepted.taxonomy, uri: accepted.uri }]), `feedback: accepted ${JSON.stringify(sent.accepted)}`);
    check(JSON.stringify(sent.rejected) === JSON.stringify([{ taxonomy: rejected.taxonomy, uri: rejected.uri }]), `feedback: rejected ${JSON.stringify(sent.rejected)}`);
    check(JSON.stringify(sent.added) === JSON.stringify([{ taxonomy: added.taxonomy, uri: added.uri }]), `feedback: added ${JSON.stringify(sent.added)}`);
    const stored = await resp.json();
    await page.waitForSelector('#feedback-result[data-feedback-id]');
    const shown = await $text('#feedback-result');
    check(shown.includes(String(stored.id)), `the page shows '${shown}', not id ${stored.id}`);

    const ex = await fetch(args.url + '/v1/feedback/export', { headers: authHeaders() });
    check(ex.status === 200, `GET /v1/feedback/export answered ${ex.status}`);
    const lines = (await ex.text()).split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
    const line = lines.find((l) => l.id === stored.id) || lines.filter((l) => l.query === COURSE).pop();
    check(line, `feedback ${stored.id} is not in the export (${lines.length} lines)`);
    check(line.query === COURSE, 'the exported query is not the course text');
    const pos = [...(line.pos || []), ...(line.pos_uris || [])], neg = [...(line.neg || []), ...(line.neg_uris || [])];
    check(pos.includes(accepted.uri), `the accepted URI ${accepted.uri} is not in pos/pos_uris: ${JSON.stringify(line)}`);
    check(pos.includes(added.uri), `the added URI ${added.uri} is not in pos/pos_uris`);
    check(neg.includes(rejected.uri), `the rejected URI ${rejected.uri} is not in neg/neg_uris: ${JSON.stringify(line)}`);
    check(!pos.includes(rejected.uri) && !neg.includes(accepted.uri), 'accepted and rejected are swapped in the export');
    if (line.pos) check(line.pos.includes(accepted.label) && line.neg.includes(rejected.label), 'pos/neg do not hold the labels');
    log(`feedback ${stored.id} exported: pos ${JSON.stringify(line.pos)}, neg ${JSON.stringify(line.neg)}`);
  });

  await step('accessible names and labels', async () => {
    const bad = await page.evaluate(() => {
      const out = [];
      for (const b of document.querySelectorAll('button')) if (!(b.getAttribute('aria-label') || b.textContent).trim()) out.push('button ' + b.outerHTML.slice(0, 80));
      for (const i of document.querySelectorAll('input:not([type=hidden]), textarea')) {
        if (!(i.labels && i.labels.length) && !i.getAttribute('aria-label') && !i.getAttribute('aria-labelledby')) out.push('input ' + (i.id || i.name));
      }
      return out;
    });
    check(bad.length === 0, 'unnamed controls: ' + bad.join('; '));
  });

  await step('desktop screenshot (1280x800)', async () => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.hover('#results li.sugg[data-i="0"] .label');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(args.out, 'editor-desktop.png') });
  });

  await step('no horizontal scrolling at 375 px; phone screenshot (390x844)', async () => {
    for (const width of [375, 390, 320]) {
      await page.setViewportSize({ width, height: 844 });
      const w = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, cw: document.documentElement.clientWidth, bw: document.body.scrollWidth }));
      const wide = await page.evaluate((vw) => [...document.querySelectorAll('body *')].filter((e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.right > vw + 1; }).slice(0, 4).map((e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : '') + ` '${e.textContent.trim().slice(0, 30)}'`), w.cw);
      check(w.sw <= w.cw && w.bw <= w.cw && wide.length === 0,
        `at ${width} px the page is ${Math.max(w.sw, w.bw)} px wide (horizontal scrolling); sticking out: ${wide.join(', ')}`);
      const cramped = await page.evaluate(() => [...document.querySelectorAll('button')].filter((b) => b.offsetParent &&
        (b.scrollWidth > b.clientWidth + 1 || b.getBoundingClientRect().height > 60)).map((b) => b.textContent.trim()));
      check(cramped.length === 0, `at ${width} px these buttons overflow or wrap: ${cramped.join(', ')}`);
    }
    await page.setViewportSize({ width: 390, height: 844 });
    await page.locator('#h-results').scrollIntoViewIfNeeded();
    await page.evaluate(() => document.getElementById('h-results').scrollIntoView({ block: 'start' }));
    await page.screenshot({ path: path.join(args.out, 'editor-phone.png') });
  });

  check(pageErrors.length === 0, 'JavaScript errors on the page: ' + pageErrors.join(' | '));
}

main().then(async () => {
  clearTimeout(watchdog);
  await cleanup();
  log('PASS');
  process.exit(0);
}, async (e) => {
  clearTimeout(watchdog);
  if (timedOut) return; // the watchdog reports and exits
  const why = e instanceof Fail ? e.message : (e && e.stack) || String(e);
  console.error(`editor_test: FAIL in step '${currentStep}': ${why}`);
  if (pageErrors.length) console.error('editor_test: JavaScript errors on the page: ' + pageErrors.join(' | '));
  try {
    const p = browserCtx && browserCtx.pages()[0];
    if (p) { await p.screenshot({ path: path.join(args.out, 'editor-failure.png'), fullPage: true }); console.error(`editor_test: screenshot of the failure: ${path.join(args.out, 'editor-failure.png')}`); }
  } catch (_) { /* no screenshot */ }
  await cleanup();
  process.exit(1);
});
