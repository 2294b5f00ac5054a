// Refuses a commit message that breaks the project's rules (CONTRIBUTING.md, "Commit messages"):
//   - a subject of at most 72 characters, shaped `area: what changed` (the area one word:
//     letters, digits and `/._-`, at most 24 characters, such as `refresh` or `README`; several
//     areas as `a, b: ...`);
//   - when there is a body: a blank second line, and body lines of at most 72 characters (a line
//     without spaces, such as a URL or a path, may be longer).
// Merge, revert, fixup! and squash! messages that git writes are let through. Installed by
// `npm start` and `npm test` (git config core.hooksPath .githooks). Node, which the project
// needs anyway, so that it runs alike wherever git does (`commit-msg`, the hook git calls, is a
// two-line POSIX shell script that runs this file).
import { readFileSync } from 'node:fs';

const file = process.argv[2];
// What git keeps: without comment lines (core.commentChar is '#' unless set) and trailing blanks.
const lines = readFileSync(file, 'utf8')
  .split('\n')
  .filter((l) => !l.startsWith('#'))
  .map((l) => l.replace(/\s+$/, ''));
while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
const subject = lines[0] ?? '';

function fail(why) {
  console.error(`commit-msg: ${why}`);
  console.error(`  subject: ${subject}`);
  console.error('  the rules: CONTRIBUTING.md, "Commit messages" (a subject of at most 72 characters,');
  console.error(`  'area: what changed', a blank line, a body wrapped at 72). Your message is in ${file}.`);
  process.exit(1);
}

if (/^(Merge |Revert "|fixup! |squash! |amend! )/.test(subject)) process.exit(0);
if (subject === '') fail('the message is empty');
if ([...subject].length > 72) fail(`the subject has ${[...subject].length} characters; at most 72`);
const area = '[A-Za-z0-9][A-Za-z0-9/._-]{0,23}';
if (!new RegExp(`^${area}(, ${area})*: \\S`).test(subject)) {
  fail("the subject is not 'area: what changed' (a one-word area, a colon, a space, then the change)");
}
if (lines.length > 1) {
  if (lines[1] !== '') fail('the second line must be blank (the subject is one line)');
  lines.slice(2).forEach((line, i) => {
    if ([...line].length > 72 && line.includes(' ')) fail(`body line ${i + 3} has ${[...line].length} characters; wrap the body at 72`);
  });
}
