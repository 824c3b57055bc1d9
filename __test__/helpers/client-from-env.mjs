// Run as a child process: a TaskerClient configured only by the environment
// it was started with. Prints what it saw as one JSON line.
import { pkg } from './package.mjs';

const namespace = process.argv[2];
try {
  const page = await new pkg.TaskerClient().listTemplates(namespace);
  console.log(JSON.stringify({ templates: page.templates.length }));
} catch (e) {
  console.log(JSON.stringify({ code: e.code, status: e.status }));
}
