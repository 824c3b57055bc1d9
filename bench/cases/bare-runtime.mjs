// The floor of an idle worker: the runtime alone, without the package, over
// the idle case's window (a timer pending, as the idle case's sleep): what an
// idle worker costs above this, in CPU and RSS, is the package's.
import { params, report, runCase, sleep } from '../lib/child.mjs';

runCase(async () => {
  const { seconds = 30 } = params();
  await sleep(2000); // as long as the idle case lets its worker settle
  const before = process.cpuUsage();
  const started = process.hrtime.bigint();
  await sleep(seconds * 1000);
  const used = process.cpuUsage(before);
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  const cpuMs = (used.user + used.system) / 1000;
  report({ delivery: 'bare', seconds: wall, cpuMs: Math.round(cpuMs), cpuPercentOfCore: Math.round((cpuMs / 10 / wall) * 100) / 100, rssBytes: process.memoryUsage().rss });
});
