// Keeps the platform packages (npm/*) at the main package's version.
//   node scripts/sync-versions.mjs                   set npm/*/package.json versions
//   node scripts/sync-versions.mjs --check           fail if any differs
//   node scripts/sync-versions.mjs --optional-deps F write the platform packages into F's
//     optionalDependencies at that version (done on the copy that is packed or
//     published, as napi-rs's prepublish does: the packages do not exist on the
//     registry before the first release, and npm ci rejects unresolvable ones)
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const read = (path) => JSON.parse(readFileSync(path, 'utf8'));
const write = (path, data) => writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
const args = process.argv.slice(2);

const mainPath = new URL('package.json', root);
const main = read(mainPath);
const platforms = readdirSync(new URL('npm/', root)).map((dir) => {
  const path = new URL(`npm/${dir}/package.json`, root);
  return { path, pkg: read(path) };
});

if (args[0] === '--check') {
  const stale = platforms.filter(({ pkg }) => pkg.version !== main.version).map(({ pkg }) => `${pkg.name}@${pkg.version}`);
  if (stale.length) {
    console.error(`not at ${main.version}: ${stale.join(', ')} (run node scripts/sync-versions.mjs)`);
    process.exit(1);
  }
  console.log(`all ${platforms.length} platform packages at ${main.version}`);
} else if (args[0] === '--optional-deps') {
  const target = args[1];
  if (!target) throw new Error('--optional-deps needs the package.json to write');
  const pkg = read(target);
  pkg.optionalDependencies = Object.fromEntries(platforms.map(({ pkg: p }) => [p.name, main.version]));
  write(target, pkg);
  console.log(`${target}: optionalDependencies on ${platforms.length} platform packages at ${main.version}`);
} else {
  for (const { path, pkg } of platforms) write(path, { ...pkg, version: main.version });
  console.log(`platform packages set to ${main.version}`);
}
