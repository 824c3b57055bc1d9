// The floor of an idle worker: the runtime alone, without the package, over
// the idle case's window (a timer pending, as the idle case's sleep): what an
// idle worker costs above this, in CPU and RSS, is the package's.
import { idleWindow, params, report, runCase, sleep } from '../lib/child.mjs';

runCase(async () => {
  const { seconds = 30 } = params();
  await sleep(2000); // as long as the idle case lets its worker settle
  report({ delivery: 'bare', ...(await idleWindow(seconds)) });
});
