// The repository's commit-msg hook (.githooks/commit-msg; the rules in CONTRIBUTING.md, "Commit
// messages"), run on messages as git would hand them over. Needs no worker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const hook = new URL('../../.githooks/commit-msg', import.meta.url).pathname; // the shell script git runs
const dir = mkdtempSync(join(tmpdir(), 'commit-msg-'));

function check(message) {
  const file = join(dir, 'COMMIT_EDITMSG');
  writeFileSync(file, message);
  const r = spawnSync(hook, [file], { encoding: 'utf8' });
  return { ok: r.status === 0, why: r.stderr.split('\n')[0] };
}

const wrapped = 'Why it changed, wrapped at seventy-two columns as the rules ask for.';

test('commit-msg: the messages the rules allow pass', () => {
  for (const m of [
    'refresh: a reuse interval in which real clients survive rotation\n',
    `e2e, docs: two areas at once\n\n${wrapped}\n${wrapped}\n`,
    `store/cloudflare: one subject line only\n`,
    `docs: a long URL may stand alone\n\nhttps://example.com/${'x'.repeat(90)}\n`,
    '# a comment git strips\nsign-in: the subject after a comment\n\n# more comments\n',
    "Merge branch 'topic'\n",
    'fixup! refresh: a reuse interval\n',
    'README: an upper-case area is one word too\n',
  ]) {
    assert.deepEqual(check(m), { ok: true, why: '' }, m);
  }
});

test('commit-msg: a long, shapeless or unwrapped message is refused, saying why', () => {
  const cases = [
    ['', /empty/],
    [`refresh: ${'a'.repeat(70)}\n`, /at most 72/],
    ['Refresh tokens now rotate\n', /area: what changed/],
    ['Store glue: one refresh_record() for both reads\n', /area: what changed/],
    ['refresh:no space after the colon\n', /area: what changed/],
    ['refresh: the subject\nand a second line right after it\n', /second line must be blank/],
    [`refresh: the subject\n\n${'word '.repeat(16)}\n`, /wrap the body at 72/],
  ];
  for (const [m, why] of cases) {
    const r = check(m);
    assert.equal(r.ok, false, m);
    assert.match(r.why, why, m);
  }
});
