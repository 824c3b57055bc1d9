// Static checks of one platform binary, the same for every target (ELF and
// Mach-O alike, with the llvm tools of rustup's llvm-tools in $LLVM_BIN):
//
//   node scripts/platforms/inspect.mjs PLATFORM BUILT SHIPPED
//
// BUILT is cargo's output (symbols intact: no benchmark code in it), SHIPPED
// the stripped copy in npm/PLATFORM/. Checks: the file is for PLATFORM's CPU;
// it exports napi_register_module_v1 and nothing else; what it links (glibc
// or musl only, or on macOS only libSystem, libiconv and the three frameworks
// with every import bound to one of them, Node-API's excepted); SHIPPED has no
// symbol table or debug info. Prints one JSON line of facts; exits 1 on a failure.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';

const [platform, built, shipped] = process.argv.slice(2);
if (!platform || !built || !shipped) {
  console.error('usage: inspect.mjs PLATFORM BUILT SHIPPED');
  process.exit(2);
}
const tool = (name, ...args) => execFileSync(join(process.env.LLVM_BIN ?? '', name), args, { encoding: 'utf8', maxBuffer: 1 << 28 });
const lines = (text) => text.split('\n').map((l) => l.trim()).filter(Boolean);
const failures = [];
const check = (ok, message) => ok || failures.push(message);

const [os, cpu, libc] = platform.split('-');
const head = Buffer.alloc(20);
readSync(openSync(shipped, 'r'), head, 0, 20, 0);
const facts = { platform, bytes: statSync(shipped).size, builtBytes: statSync(built).size };

// Node-API comes from the host process (napi-build links macOS with -undefined dynamic_lookup).
const fromHost = (sym) => /^_?(napi|node_api)_/.test(sym);
const exported = lines(tool('llvm-nm', ...(os === 'darwin' ? [] : ['-D']), '--defined-only', '--extern-only', '-j', shipped));
facts.exports = exported;
check(exported.includes(os === 'darwin' ? '_napi_register_module_v1' : 'napi_register_module_v1'), 'napi_register_module_v1 is not exported');
check(exported.length === 1, `exports more than napi_register_module_v1: ${exported.join(', ')}`);
// By symbol name, so only where the build kept its symbols (debug; a release
// build is stripped by its profile, and a loaded binary is checked for `bench` instead).
const symbols = lines(execFileSync(join(process.env.LLVM_BIN ?? '', 'llvm-nm'), ['-C', '-j', built], { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] }));
facts.benchCheckedBySymbols = symbols.length > 0;
const benchSymbols = symbols.filter((s) => s.includes('tasker_worker_napi::bench::'));
check(benchSymbols.length === 0, `the build carries the bench namespace (${benchSymbols.length} symbols): build without --features bench`);

if (os === 'linux') {
  const machine = head.readUInt16LE(18);
  facts.machine = { 62: 'x86_64', 183: 'aarch64' }[machine] ?? machine;
  check(head.readUInt32BE(0) === 0x7f454c46, 'not an ELF file');
  check(facts.machine === { x64: 'x86_64', arm64: 'aarch64' }[cpu], `built for ${facts.machine}, not ${cpu}`);
  const needed = lines(tool('llvm-readobj', '--needed-libs', shipped).split('NeededLibraries [')[1].split(']')[0]);
  facts.needed = needed;
  if (libc === 'musl') {
    // musl's loader answers for libc.so itself; anything glibc's (libc.so.6,
    // libgcc_s, libm.so.6) would not load on Alpine.
    check(needed.every((lib) => lib === 'libc.so'), `links more than musl's libc.so: ${needed.join(', ')}`);
  } else {
    check(needed.includes('libc.so.6'), `does not link glibc: ${needed.join(', ')}`);
    const versions = tool('llvm-objdump', '-T', shipped).match(/GLIBC_\d+(\.\d+)+/g) ?? [];
    facts.glibc = versions.map((v) => v.slice(6)).sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).pop();
  }
  const sections = tool('llvm-objdump', '-h', shipped);
  check(!/\s\.symtab\s/.test(sections) && !/\s\.debug_/.test(sections), 'not stripped (.symtab or .debug_* sections)');
} else {
  check(head.readUInt32LE(0) === 0xfeedfacf, 'not a 64-bit Mach-O file');
  facts.cputype = { 0x01000007: 'x86_64', 0x0100000c: 'arm64' }[head.readUInt32LE(4)] ?? head.readUInt32LE(4);
  check(facts.cputype === { x64: 'x86_64', arm64: 'arm64' }[cpu], `built for ${facts.cputype}, not ${cpu}`);
  const headers = tool('llvm-objdump', '--macho', '--private-headers', shipped);
  facts.minos = /cmd LC_BUILD_VERSION[\s\S]*?minos (\S+)/.exec(headers)?.[1] ?? /cmd LC_VERSION_MIN_MACOSX[\s\S]*?version (\S+)/.exec(headers)?.[1];
  facts.installName = lines(tool('llvm-objdump', '--macho', '--dylib-id', shipped))[1];
  check(facts.installName === '@rpath/tasker-worker.node', `install name ${facts.installName} (a path of the build machine)`);
  // Apple silicon runs no code whose signature does not match: the linker's
  // ad-hoc signature must still hold after stripping.
  facts.codeSignature = codeSignature(readFileSync(shipped));
  if (cpu === 'arm64') check(facts.codeSignature === 'valid', `code signature: ${facts.codeSignature}`);
  const allowed = ['/usr/lib/libSystem.B.dylib', '/usr/lib/libiconv.2.dylib', ...['CoreFoundation', 'Security', 'SystemConfiguration'].map((f) => `/System/Library/Frameworks/${f}.framework/Versions/A/${f}`)];
  facts.dylibs = lines(tool('llvm-objdump', '--macho', '--dylibs-used', shipped)).slice(1).map((l) => l.split(' (')[0]).filter((d) => d !== facts.installName);
  check(facts.dylibs.every((d) => allowed.includes(d)), `links unexpected libraries: ${facts.dylibs.filter((d) => !allowed.includes(d)).join(', ')}`);
  // Each import names its library (two-level namespace) unless it is Node-API's; an import
  // looked up at load time otherwise is a symbol missing from a framework stub.
  const imports = lines(tool('llvm-nm', '-m', '--undefined-only', shipped));
  const unbound = imports.filter((l) => l.includes('dynamically looked up')).map((l) => l.split(/\s+/).pop()).filter((s) => !fromHost(s));
  check(unbound.length === 0, `imports bound to no library (add them to scripts/platforms/macos/*.txt): ${unbound.join(', ')}`);
  facts.imports = Object.fromEntries(['CoreFoundation', 'Security', 'SystemConfiguration', 'libSystem'].map((f) => [f, imports.filter((l) => l.endsWith(`(from ${f})`)).length]));
  check(!/\s__debug_|__DWARF/.test(tool('llvm-objdump', '-h', shipped)), 'carries debug sections');
  const locals = lines(tool('llvm-nm', '--defined-only', '-j', shipped)).length - exported.length;
  check(locals === 0, `not stripped: ${locals} local symbols`);
}

/** 'valid' when every page hash of the ad-hoc signature's code directory matches the file, else why not. */
function codeSignature(file) {
  const ncmds = file.readUInt32LE(16);
  let at = 32;
  for (let i = 0; i < ncmds; i++, at += file.readUInt32LE(at + 4)) {
    if (file.readUInt32LE(at) !== 0x1d) continue; // LC_CODE_SIGNATURE
    const blob = file.readUInt32LE(at + 8);
    if (file.readUInt32BE(blob) !== 0xfade0cc0) return 'no signature super blob';
    for (let j = 0; j < file.readUInt32BE(blob + 8); j++) {
      const cd = blob + file.readUInt32BE(blob + 12 + j * 8 + 4);
      if (file.readUInt32BE(cd) !== 0xfade0c02) continue; // a code directory
      const [hashOffset, slots, limit] = [file.readUInt32BE(cd + 16), file.readUInt32BE(cd + 28), file.readUInt32BE(cd + 32)];
      const [hashSize, hashType, pageSize] = [file[cd + 36], file[cd + 37], 2 ** file[cd + 39]];
      const algorithm = { 1: 'sha1', 2: 'sha256' }[hashType];
      if (!algorithm) return `hash type ${hashType}`;
      for (let page = 0; page < slots; page++) {
        const data = file.subarray(page * pageSize, Math.min(limit, (page + 1) * pageSize));
        const want = file.subarray(cd + hashOffset + page * hashSize, cd + hashOffset + (page + 1) * hashSize);
        if (!createHash(algorithm).update(data).digest().subarray(0, hashSize).equals(want)) return `page ${page} does not match its hash`;
      }
      return 'valid';
    }
    return 'no code directory';
  }
  return 'unsigned';
}

console.log(JSON.stringify(facts));
if (failures.length) {
  console.error(`${platform}: ${failures.join('; ')}`);
  process.exit(1);
}
