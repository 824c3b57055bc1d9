// The pgmq PostgreSQL extension (pure SQL) from the files the `pgmq` crate
// carries: `cargo fetch` brings the crate, and its control file and SQL script
// are copied into the server's extension folder.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

import { repoRoot } from './paths.mjs';

const CRATE = 'pgmq-0.34.0-alpha.7';
const EMBEDDED = `${CRATE}/src/install/embedded/`;

function cargoHome() {
  return process.env.CARGO_HOME ?? join(homedir(), '.cargo');
}

/** The downloaded .crate archive, fetched with cargo when missing. */
function crateArchive() {
  const find = () => {
    const cache = join(cargoHome(), 'registry', 'cache');
    if (!existsSync(cache)) return undefined;
    for (const registry of readdirSync(cache)) {
      const file = join(cache, registry, `${CRATE}.crate`);
      if (existsSync(file)) return file;
    }
    return undefined;
  };
  let file = find();
  if (!file) {
    execFileSync('cargo', ['fetch', '--manifest-path', join(repoRoot, 'devenv', 'pgmq-extension', 'Cargo.toml')], {
      stdio: 'inherit',
    });
    file = find();
  }
  if (!file) throw new Error(`cargo fetch did not bring ${CRATE}.crate into ${cargoHome()}/registry/cache`);
  return file;
}

/** Reads named files out of a .tar.gz without unpacking the rest. */
function readFromTarGz(archive, wanted) {
  const tar = gunzipSync(readFileSync(archive));
  const found = new Map();
  for (let offset = 0; offset + 512 <= tar.length; ) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start, len) => header.subarray(start, start + len).toString('utf8').replace(/\0.*$/s, '');
    const name = field(345, 155) ? `${field(345, 155)}/${field(0, 100)}` : field(0, 100);
    const size = parseInt(field(124, 12).trim() || '0', 8);
    if (wanted.includes(name)) found.set(name, tar.subarray(offset + 512, offset + 512 + size));
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return found;
}

/** Installs pgmq.control and pgmq--<version>.sql into `extensionDir` (idempotent). */
export async function installPgmqExtension(extensionDir, log = () => {}) {
  if (existsSync(join(extensionDir, 'pgmq.control'))) return;
  const control = `${EMBEDDED}pgmq.control`;
  const script = `${EMBEDDED}sql/pgmq.sql`;
  const files = readFromTarGz(crateArchive(), [control, script]);
  if (!files.has(control) || !files.has(script)) throw new Error(`${CRATE}.crate lacks the pgmq extension files`);
  const version = /default_version\s*=\s*'([^']+)'/.exec(files.get(control).toString())?.[1];
  if (!version) throw new Error('pgmq.control names no default_version');
  writeFileSync(join(extensionDir, `pgmq--${version}.sql`), files.get(script));
  writeFileSync(join(extensionDir, 'pgmq.control'), files.get(control));
  log(`installed the pgmq ${version} extension into ${extensionDir}`);
}
