// Keeps the platform packages (npm/*) and the main package's
// optionalDependencies at the main package's version. `--check` only reports.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const read = (url) => JSON.parse(readFileSync(url, 'utf8'));
const write = (url, data) => writeFileSync(url, `${JSON.stringify(data, null, 2)}\n`);
const check = process.argv.includes('--check');

const main = read(new URL('package.json', root));
const stale = [];
for (const dir of readdirSync(new URL('npm/', root))) {
  const url = new URL(`npm/${dir}/package.json`, root);
  const pkg = read(url);
  if (pkg.version !== main.version) stale.push(`${pkg.name}@${pkg.version}`);
  if (main.optionalDependencies?.[pkg.name] !== main.version) stale.push(`optionalDependencies.${pkg.name}`);
  pkg.version = main.version;
  main.optionalDependencies = { ...main.optionalDependencies, [pkg.name]: main.version };
  if (!check) write(url, pkg);
}
if (check) {
  if (stale.length) {
    console.error(`not at ${main.version}: ${stale.join(', ')} (run npm run version:sync)`);
    process.exit(1);
  }
  console.log(`all packages at ${main.version}`);
} else {
  write(new URL('package.json', root), main);
  console.log(`packages set to ${main.version}`);
}
