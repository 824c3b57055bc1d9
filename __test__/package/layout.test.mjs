// The README's layout section describes the tree exactly: every top-level
// entry and every entry of src/ is listed, and everything listed exists.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

const root = new URL('../../', import.meta.url).pathname;
const inGit = existsSync(`${root}.git`);

/** Paths named at the start of each line of the layout block, with their indent. */
function layoutEntries() {
  const readme = readFileSync(`${root}README.md`, 'utf8');
  const block = /## Layout\s+```\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(block, 'the README has a layout section');
  const entries = [];
  for (const line of block.split('\n')) {
    // An entry starts at column 0 (top level) or 2 (inside src/); deeper
    // indents continue the description of the line above.
    const match = /^( {0,2})(\S.*?)(?: {2,}|$)/.exec(line);
    if (!match) continue;
    for (const name of match[2].split(/,\s*/)) entries.push({ nested: match[1].length > 0, name: name.trim() });
  }
  return entries;
}

/** First path components of the files git tracks (under `prefix`). */
function tracked(prefix = '') {
  const files = execFileSync('git', ['ls-files', '--', prefix || '.'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);
  return new Set(files.map((f) => {
    const rest = f.slice(prefix.length);
    const slash = rest.indexOf('/');
    return slash < 0 ? rest : `${rest.slice(0, slash)}/`;
  }));
}

test('every top-level folder is listed in the README layout, and every listed one exists', { skip: !inGit && 'not a git checkout' }, () => {
  const listed = layoutEntries().filter((e) => !e.nested).map((e) => e.name);
  for (const name of listed) assert.ok(existsSync(`${root}${name}`), `${name} is listed but does not exist`);
  const folders = [...tracked()].filter((n) => n.endsWith('/'));
  for (const folder of folders) assert.ok(listed.includes(folder), `${folder} is not listed in the README layout`);
});

test('every entry of src/ is listed under src/, and every listed one exists', { skip: !inGit && 'not a git checkout' }, () => {
  const listed = layoutEntries().filter((e) => e.nested && !e.name.includes(' ')).map((e) => e.name);
  for (const name of listed) assert.ok(existsSync(`${root}src/${name}`), `src/${name} is listed but does not exist`);
  for (const entry of tracked('src/')) assert.ok(listed.includes(entry), `src/${entry} is not listed in the README layout`);
});
