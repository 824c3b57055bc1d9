// The dev page in a real browser: headless Chromium (Debian's `chromium`,
// driven by playwright-core) against the page's server, a real orchestration
// and a real worker. Through the page only, as a user would: create tasks
// from the form, watch one complete after a retry, one fail for good and one
// run under the worker in the workers panel; the screenshot is kept.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { runtimeName, suiteTemplates, useEnvironment } from '../helpers/environment.mjs';
import { pkg } from '../helpers/package.mjs';

const require = createRequire(import.meta.url);
const { SqlClient, startDevServer } = require('../../dist/dev/index.js');
const { RetryableError, PermanentError } = pkg;

const CHROMIUM = process.env.TASKER_CHROMIUM ?? '/usr/bin/chromium';
// As root (CI) Chromium's sandbox cannot start; nothing here needs the network but loopback.
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const run = `${runtimeName}-${Date.now()}`;

let env;
let templates;
let worker;
let workerId;
let sql;
let server;
let browser;
let page;
let scratch;
let retried; // the flaky task's uuid
const pageErrors = [];

/** What the form sends for one of this suite's templates. */
const templateValue = (name) => JSON.stringify({ namespace: templates.namespace, name, version: '1.0.0' });

/** Creates a task through the form; resolves with its uuid once the page has selected it. */
async function createFromForm(name, context) {
  await page.selectOption('#template', templateValue(name));
  await page.fill('#context', JSON.stringify(context, null, 2));
  // The previous task's message and selection are still on the page: wait for the new one's.
  const previous = await page.evaluate(() => location.hash);
  await page.click('#create-submit');
  const uuid = await page.waitForFunction((prev) => location.hash !== prev && new URLSearchParams(location.hash.slice(1)).get('task'), previous);
  await page.waitForSelector('#create-message.ok');
  const taskUuid = await uuid.jsonValue();
  await page.waitForSelector(`#tasks tr[data-task="${taskUuid}"].selected`);
  return taskUuid;
}

/** Waits for the selected task's state on the page; a timeout says what the page and its API showed. */
const detailState = (state) =>
  page.waitForSelector(`#detail .task-state[data-state="${state}"]`, { timeout: 45_000 }).catch(async (error) => {
    const shown = await page.evaluate(() => ({
      hash: location.hash,
      status: document.getElementById('status')?.textContent,
      detail: document.querySelector('#detail .task-state')?.dataset.state,
      title: document.querySelector('#detail h2')?.textContent,
    }));
    const selected = new URLSearchParams(shown.hash.slice(1)).get('task');
    const answer = selected && (await fetch(new URL(`/api/tasks/${selected}`, server.url)).then(async (r) => `${r.status} ${(await r.text()).slice(0, 600)}`, (e) => e.message));
    throw new Error(`${error.message}; the page showed ${JSON.stringify(shown)}; its API answered ${answer}`);
  });
const text = (selector) => page.textContent(selector);

describe('dev page in a browser', { timeout: 240_000 }, () => {
  before(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`headless Chromium is not installed (${CHROMIUM}): run scripts/setup.sh (it installs Debian's chromium), or set TASKER_CHROMIUM`);
    }
    env = await useEnvironment();
    scratch = mkdtempSync(join(tmpdir(), 'tasker-dev-page-'));
    templates = suiteTemplates('devpage', ['single', 'flaky', 'long']);
    worker = new pkg.Worker({
      config: { databaseUrl: env.databaseUrl, templatePath: templates.path, namespace: templates.namespace, environment: 'test', logLevel: 'error' },
    });
    // The first attempt asks for a 1 s backoff; the retry succeeds.
    worker.register('flaky.step', (ctx) => {
      if (ctx.retryCount === 0) throw new RetryableError('payment gateway busy', { backoffSeconds: 1 });
      return { charged: ctx.taskContext.amount, attempt: ctx.retryCount + 1 };
    });
    worker.register('single.step', (ctx) => {
      if (ctx.taskContext.decline) throw new PermanentError('card declined', { errorCode: 'DECLINED' });
      return { ok: true };
    });
    // Runs until the file its task names exists: the workers panel must show it meanwhile.
    worker.register('long.step', (ctx) => new Promise((resolve, reject) => {
      const timer = setInterval(() => existsSync(ctx.taskContext.release) && (clearInterval(timer), resolve({ released: true })), 50);
      ctx.signal.addEventListener('abort', () => (clearInterval(timer), reject(ctx.signal.reason)), { once: true });
    }));
    worker.events.on('worker.started', (e) => (workerId = e.workerId));
    await worker.start();
    sql = await SqlClient.start(env.databaseUrl);
    server = await startDevServer({ client: env.client, sql, log: (m) => process.stderr.write(`[dev page] ${m}\n`) });
    const { chromium } = await import('playwright-core').catch((e) => {
      throw new Error(`playwright-core is not installed (a dev dependency): run scripts/setup.sh or npm install (${e.message})`);
    });
    // playwright gives the browser a fresh profile folder of its own and removes it at close().
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    page.setDefaultTimeout(30_000);
    page.on('pageerror', (e) => pageErrors.push(`page error: ${e.message}`));
    // The browser logs the 409 of the refused task (a test below asks for it); any other error is a bug.
    page.on('console', (m) => m.type() === 'error' && !/status of 409/.test(m.text()) && pageErrors.push(`console: ${m.text()}`));
    await page.goto(server.url);
  });

  after(async () => {
    // Each one stopped even if another fails.
    for (const stop of [() => browser?.close(), () => server?.close(), () => sql?.close(), () => worker?.stop(), () => templates?.remove(), () => env?.release()]) {
      try {
        await stop();
      } catch (e) {
        process.stderr.write(`[dev page] cleanup: ${e.message}\n`);
      }
    }
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  test('the form checks the JSON before sending it', async () => {
    await page.waitForSelector(`#template optgroup[label="${templates.namespace}"]`, { state: 'attached' });
    await page.selectOption('#template', templateValue('flaky'));
    await page.fill('#context', '{"amount": 42,');
    assert.match(await text('#context-error'), /not valid JSON/);
    assert.equal(await page.isDisabled('#create-submit'), true);
    await page.fill('#context', '[1, 2]');
    assert.match(await text('#context-error'), /must be a JSON object/);
    await page.fill('#context', '{}');
    assert.equal(await page.isVisible('#context-error'), false);
    assert.equal(await page.isDisabled('#create-submit'), false);
  });

  test('a task that fails once and is retried: both attempts on its timeline, then complete', async () => {
    const taskUuid = (retried = await createFromForm('flaky', { amount: 42, run }));
    await detailState('complete');
    const step = '#detail li.step[data-step="flaky_step"]';
    assert.match(await text(`${step} .attempts`), /attempts 2 \/ 3/);
    const first = `${step} .attempt[data-attempt="1"][data-outcome="retryable_failure"]`;
    assert.match(await text(first), /RetryableError: payment gateway busy/);
    assert.match(await text(`${first} .backoff`), /backoff requested: 1 s/);
    assert.match(await text(`${first} .retry`), /retried [\d.]+ s after it ended/);
    assert.match(await text(`${step} .attempt[data-attempt="2"][data-outcome="success"]`), /"charged": 42/);
    // Every transition is on the timeline, in order, with its time.
    const states = await page.$$eval(`${step} .event > .badge`, (els) => els.map((e) => e.dataset.state));
    assert.deepEqual(states.filter((s) => ['in_progress', 'waiting_for_retry', 'complete'].includes(s)), ['in_progress', 'waiting_for_retry', 'in_progress', 'complete']);
    await page.waitForSelector(`#tasks tr[data-task="${taskUuid}"] .badge[data-state="complete"]`);
  });

  test("tasker's refusal is shown in its own words", async () => {
    // Same template, same context: tasker refuses a second such task.
    await page.selectOption('#template', templateValue('flaky'));
    await page.fill('#context', JSON.stringify({ amount: 42, run }));
    await page.click('#create-submit');
    await page.waitForSelector('#create-message.error');
    assert.match(await text('#create-message'), /Refused: .*already exists/);
  });

  test("a step that fails for good shows its error, and the task's state", async () => {
    const taskUuid = await createFromForm('single', { decline: true, run });
    await detailState('blocked_by_failures');
    const attempt = '#detail li.step[data-step="only_step"] .attempt[data-attempt="1"][data-outcome="permanent_failure"]';
    assert.match(await text(attempt), /PermanentError: card declined \[DECLINED\]/);
    await page.waitForSelector(`#tasks tr[data-task="${taskUuid}"] .badge[data-state="blocked_by_failures"]`);
    // The state filter narrows the table to such tasks.
    await page.waitForSelector('#filter-state option[value="blocked_by_failures"]', { state: 'attached' });
    await page.selectOption('#filter-state', 'blocked_by_failures');
    await page.waitForFunction(() => [...document.querySelectorAll('#tasks tbody .badge')].every((b) => b.dataset.state === 'blocked_by_failures'));
    await page.selectOption('#filter-state', '');
  });

  test('the workers panel shows the worker and the step it runs now; the screenshot is kept', async () => {
    const release = join(scratch, 'release');
    const taskUuid = await createFromForm('long', { release, run });
    const running = `#workers li.worker[data-worker-id="${workerId}"] .running-step`;
    await page.waitForSelector(`${running}:has-text("long_step")`);
    assert.match(await text(running), new RegExp(`running long_step of ${templates.namespace}/long`));
    await page.waitForSelector('#detail .attempt[data-outcome="running"]');
    assert.match(await text('#dlq'), /Empty|pending/);

    // The picture: the retried task's timeline beside the worker running the long step.
    await page.click(`#tasks tr[data-task="${retried}"]`);
    await page.waitForSelector('#detail li.step[data-step="flaky_step"]');
    const dir = process.env.TASKER_SCREENSHOT_DIR || scratchShots();
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `dev-page-${runtimeName}.png`);
    await page.screenshot({ path: file, fullPage: true });
    console.log(`# dev page screenshot: ${file}`);

    writeFileSync(release, '');
    await page.click(`#tasks tr[data-task="${taskUuid}"]`);
    await detailState('complete');
    await page.waitForSelector(`#workers li.worker[data-worker-id="${workerId}"] .running-step:has-text("idle")`);
  });

  test('refreshing pauses while the tab is hidden and resumes when it is shown', async () => {
    const setHidden = (hidden) => page.evaluate((h) => {
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => h });
      document.dispatchEvent(new Event('visibilitychange'));
    }, hidden);
    await setHidden(true);
    await page.waitForSelector('#status.paused');
    await setHidden(false);
    await page.waitForFunction(() => document.getElementById('status').textContent.startsWith('live'));
    assert.deepEqual(pageErrors, []);
  });
});

/** Screenshots outlive the test's scratch folder: a temp folder of their own. */
function scratchShots() {
  return mkdtempSync(join(tmpdir(), 'tasker-dev-page-shots-'));
}
