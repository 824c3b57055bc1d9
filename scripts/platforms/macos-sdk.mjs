// Writes the little of a macOS SDK that linking the addon needs, as text
// stubs (.tbd, the format of Apple's SDK), so LLVM's Mach-O linker can link
// darwin binaries here without Apple's SDK:
//
//   node scripts/platforms/macos-sdk.mjs OUT ZIG_LIB
//     OUT/usr/lib/libSystem.tbd (zig's, see below), libc.tbd and libm.tbd (the same
//       library, as in Apple's SDK), libiconv.tbd (the libc crate links it; nothing is imported)
//     OUT/Frameworks/<F>.framework/<F>.tbd for the three frameworks the dependencies link
//
// A framework stub lists the symbols the addon may import from it
// (scripts/platforms/macos/<F>.txt, Mach-O names). A symbol missing there still
// links (napi-build links with -undefined dynamic_lookup) but is not bound to
// its framework: inspect.mjs names it.
//   Security: rustls-native-certs (via lapin) and rustls-platform-verifier (via jsonschema's reqwest)
//   CoreFoundation: those, chrono's iana-time-zone and whoami (via sqlx-postgres)
//   SystemConfiguration: whoami's computer name (via sqlx-postgres)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [out, zigLib] = process.argv.slice(2);
if (!out || !zigLib) {
  console.error('usage: macos-sdk.mjs OUT ZIG_LIB');
  process.exit(2);
}
const targets = '[ x86_64-macos, arm64-macos, arm64e-macos ]';
const stub = (installName, current, compat, symbols) =>
  ['--- !tapi-tbd', 'tbd-version:     4', `targets:         ${targets}`, `install-name:    '${installName}'`,
    `current-version: ${current}`, `compatibility-version: ${compat}`,
    ...(symbols.length ? ['exports:', `  - targets:         ${targets}`, `    symbols:         [ ${symbols.map((s) => `'${s}'`).join(', ')} ]`] : []),
    '...', ''].join('\n');

const lib = join(out, 'usr/lib');
mkdirSync(lib, { recursive: true });
// zig's libSystem stub also names the arm64e.x1 architecture, which LLVM's
// linker does not know: drop it from every target list.
const system = readFileSync(join(zigLib, 'libc/darwin/libSystem.tbd'), 'utf8').replace(/\[([^\]]*)\]/g, (list, items) =>
  items.includes('arm64e.x1-') ? `[ ${items.split(',').map((s) => s.trim()).filter((s) => s && !s.startsWith('arm64e.x1-')).join(', ')} ]` : list);
for (const name of ['libSystem', 'libc', 'libm']) writeFileSync(join(lib, `${name}.tbd`), system);
writeFileSync(join(lib, 'libiconv.tbd'), stub('/usr/lib/libiconv.2.dylib', 7, 7, []));

// The compatibility versions the frameworks have carried for years; dyld
// refuses a framework older than what the binary records.
const FRAMEWORKS = { CoreFoundation: 150, Security: 1, SystemConfiguration: 1 };
for (const [name, compat] of Object.entries(FRAMEWORKS)) {
  const symbols = readFileSync(new URL(`macos/${name}.txt`, import.meta.url), 'utf8').split('\n').map((s) => s.trim()).filter(Boolean);
  const dir = join(out, 'Frameworks', `${name}.framework`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.tbd`), stub(`/System/Library/Frameworks/${name}.framework/Versions/A/${name}`, '1.0', compat, symbols));
}
