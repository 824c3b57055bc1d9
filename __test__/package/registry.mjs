// A throwaway npm registry on loopback that serves the packed tarballs, so a
// Deno consumer can import `npm:@tasker-systems/worker` as from the real
// registry (Deno fetches, verifies and caches it itself). Only what Deno asks
// of a registry: the package document (metadata of each version) and the
// tarball. Packages it does not hold answer 404, as unpublished ones would.
//
//   node registry.mjs PORT_FILE TARBALL...   writes the port to PORT_FILE, serves until SIGTERM
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { basename } from 'node:path';

const [portFile, ...tarballs] = process.argv.slice(2);
if (!portFile || tarballs.length === 0) {
  console.error('usage: node registry.mjs PORT_FILE TARBALL...');
  process.exit(2);
}

const packages = new Map();
for (const path of tarballs) {
  const bytes = readFileSync(path);
  const manifest = JSON.parse(execFileSync('tar', ['xzf', path, '-O', 'package/package.json'], { encoding: 'utf8' }));
  packages.set(manifest.name, {
    manifest,
    bytes,
    file: basename(path),
    integrity: `sha512-${createHash('sha512').update(bytes).digest('base64')}`,
    shasum: createHash('sha1').update(bytes).digest('hex'),
  });
}

const server = createServer((req, res) => {
  // Scoped names arrive as /@scope%2fname (documents) or /@scope/name/-/file.tgz (tarballs).
  const path = decodeURIComponent(new URL(req.url, 'http://registry').pathname).slice(1);
  const [name, file] = path.split('/-/');
  const entry = packages.get(name);
  const send = (status, body, type = 'application/json') => {
    res.writeHead(status, { 'content-type': type });
    res.end(body);
  };
  if (!entry) return send(404, JSON.stringify({ error: 'Not found' }));
  if (file !== undefined) return file === entry.file ? send(200, entry.bytes, 'application/octet-stream') : send(404, '{}');
  const { address, port } = server.address();
  const { version } = entry.manifest;
  const doc = {
    name,
    'dist-tags': { latest: version },
    versions: {
      [version]: {
        ...entry.manifest,
        dist: { tarball: `http://${address}:${port}/${name}/-/${entry.file}`, integrity: entry.integrity, shasum: entry.shasum },
      },
    },
  };
  send(200, JSON.stringify(doc));
});

server.listen(0, '127.0.0.1', () => {
  writeFileSync(portFile, String(server.address().port));
  console.error(`[registry] serving ${[...packages.keys()].join(', ')} on 127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
