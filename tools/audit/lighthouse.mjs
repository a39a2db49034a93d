// Runs Lighthouse over a list of pages in one Chromium, for tools/audit/audit.py.
//
//   node lighthouse.mjs jobs.json
//
// jobs.json: {"chromePath": "/usr/bin/chromium", "chromeFlags": [...], "quiet": 0.25,
//   "quietSeconds": 30, "jobs": [
//   {"id": "...", "url": "...", "formFactor": "mobile" | "desktop", "headers": {...},
//    "ignoreStatusCode": false, "skipAudits": [], "ignoredConsolePatterns": [],
//    "report": "/tmp/.../id.json"}]}
//
// An error page answers 404 on purpose: its job sets ignoreStatusCode, skips the
// http-status-code audit and ignores the console's "status of 404" line about the page
// itself (any other console error still counts).
//
// Each finished job prints one JSON line on stdout: {"id", "scores", "failing",
// "runtimeError", "cpuBusy"}; the whole Lighthouse report goes to the job's "report" path.
// Throttling is Lighthouse's default (simulated); desktop uses its desktop preset.
//
// Simulated throttling scales the main-thread time it observes, so other work on the
// machine inflates the scores' timings: before each run this waits (up to "quietSeconds",
// default 30) until less than "quiet" (a share, default 0.25) of the CPUs is busy, and a
// first throwaway run warms Chromium up.

import {existsSync, readFileSync} from 'node:fs';
import {readFile, writeFile} from 'node:fs/promises';
import {setTimeout as sleep} from 'node:timers/promises';

import * as chromeLauncher from 'chrome-launcher';
import lighthouse from 'lighthouse';
import {defaultSettings} from 'lighthouse/core/config/constants.js';
import desktopConfig from 'lighthouse/core/config/desktop-config.js';

const CATEGORIES = ['performance', 'accessibility', 'best-practices', 'seo'];

// What a failing audit says in the table's notes: its title and where on the page.
function failingAudits(lhr) {
  const failing = [];
  for (const category of CATEGORIES) {
    for (const ref of lhr.categories[category]?.auditRefs ?? []) {
      const audit = lhr.audits[ref.id];
      if (ref.weight === 0 || audit.score === null || audit.score >= 1) continue;
      const items = (audit.details?.items ?? []).slice(0, 5).map((item) =>
        item.node?.snippet ?? item.node?.selector ?? item.url ?? item.source?.url
        ?? item.description ?? JSON.stringify(item).slice(0, 160));
      failing.push({category, id: ref.id, title: audit.title, score: audit.score,
                    displayValue: audit.displayValue ?? '', items});
    }
  }
  return failing;
}

function configFor(job) {
  const base = job.formFactor === 'desktop' ? desktopConfig : {extends: 'lighthouse:default'};
  if (!job.ignoredConsolePatterns?.length) return base;
  return {...base, audits: [{path: 'errors-in-console',
                             options: {ignoredPatterns: job.ignoredConsolePatterns}}]};
}


function cpuTimes() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1);
  const numbers = fields.map(Number);
  return {idle: numbers[3] + (numbers[4] ?? 0), total: numbers.reduce((a, b) => a + b, 0)};
}

// The busy share of the CPUs over the last second, once it is under `quiet` or time is up.
async function quietCpu(seconds, quiet) {
  if (!existsSync('/proc/stat')) return null;
  const until = Date.now() + seconds * 1000;
  for (;;) {
    const before = cpuTimes();
    await sleep(1000);
    const after = cpuTimes();
    const busy = 1 - (after.idle - before.idle) / Math.max(1, after.total - before.total);
    if (busy < quiet || Date.now() >= until) return Math.round(busy * 100) / 100;
  }
}

async function launch(plan) {
  return chromeLauncher.launch({chromePath: plan.chromePath, chromeFlags: plan.chromeFlags});
}

async function main() {
  const plan = JSON.parse(await readFile(process.argv[2], 'utf8'));
  let chrome = await launch(plan);
  const flagsFor = (job) => ({
    port: chrome.port,
    output: 'json',
    logLevel: 'error',
    onlyCategories: CATEGORIES,
    disableFullPageScreenshot: true,
    // Lighthouse keeps cookies between runs; a signed-in page's cookie comes from the
    // job's headers, and a jar's cookie from an earlier page would win over it.
    clearStorageTypes: [...defaultSettings.clearStorageTypes, 'cookies'],
    extraHeaders: job.headers ?? {},
    ignoreStatusCode: Boolean(job.ignoreStatusCode),
    skipAudits: job.skipAudits?.length ? job.skipAudits : undefined,
  });
  try {
    if (plan.jobs.length) {
      await lighthouse(plan.jobs[0].url, flagsFor(plan.jobs[0]), configFor(plan.jobs[0]))
        .catch(() => undefined);
    }
    for (const job of plan.jobs) {
      const cpuBusy = await quietCpu(plan.quietSeconds ?? 30, plan.quiet ?? 0.25);
      let line;
      try {
        const result = await lighthouse(job.url, flagsFor(job), configFor(job));
        const lhr = result.lhr;
        await writeFile(job.report, result.report);
        const scores = Object.fromEntries(CATEGORIES.map((c) => [c, lhr.categories[c]?.score ?? null]));
        // A page that sent the browser elsewhere (to the login form) is not the page asked for.
        const elsewhere = lhr.finalDisplayedUrl !== job.url
          ? `redirected to ${lhr.finalDisplayedUrl}` : null;
        line = {id: job.id, scores, failing: failingAudits(lhr), cpuBusy,
                runtimeError: lhr.runtimeError?.code ?? elsewhere};
      } catch (error) {
        // A crashed run leaves Chromium in an unknown state: start a fresh one.
        line = {id: job.id, scores: {}, failing: [], cpuBusy,
                runtimeError: String(error?.message ?? error)};
        await chrome.kill();
        chrome = await launch(plan);
      }
      process.stdout.write(JSON.stringify(line) + '\n');
    }
  } finally {
    await chrome.kill();
  }
}

await main();
