// Sums what every step of `npm test` ran: Vitest JSON reports, JUnit XML reports (pytest, schemathesis) and,
// for a step that writes no report (typecheck, lint), the step itself as one check.
// Usage: node scripts/test-summary.mjs <log dir>   → prints "<passed> <failed> <skipped>" for the steps in <log dir>/steps.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
if (!dir) throw new Error('usage: test-summary.mjs <log dir>');

/** Counts of one Vitest `--reporter=json` file. */
function vitestCounts(file) {
  const r = JSON.parse(readFileSync(file, 'utf8'));
  return {
    passed: r.numPassedTests ?? 0,
    // A file that fails before its tests run (a beforeAll, an import) fails no test: count the file instead.
    failed: (r.numFailedTests ?? 0) > 0 ? r.numFailedTests : (r.numFailedTestSuites ?? 0),
    skipped: (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0),
  };
}

/** Counts of one JUnit XML file (pytest --junitxml, schemathesis --report junit): the <testsuite> totals. */
function junitCounts(file) {
  const xml = readFileSync(file, 'utf8');
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const m of xml.matchAll(/<testsuite\b([^>]*)>/g)) {
    const attr = (name) => Number(new RegExp(`\\b${name}="(\\d+)"`).exec(m[1] ?? '')?.[1] ?? 0);
    const bad = attr('failures') + attr('errors');
    const skip = attr('skipped');
    passed += attr('tests') - bad - skip;
    failed += bad;
    skipped += skip;
  }
  return { passed, failed, skipped };
}

const total = { passed: 0, failed: 0, skipped: 0 };
// Each line of <dir>/steps: "<name> <exit status>"; its reports are <dir>/<name>*.json / *.xml.
const steps = readFileSync(join(dir, 'steps'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => line.split(' '));
const files = readdirSync(dir);
for (const [name, status] of steps) {
  const own = { passed: 0, failed: 0, skipped: 0 };
  for (const f of files.filter((f) => f.startsWith(`${name}.`) || f.startsWith(`${name}-`))) {
    const c = f.endsWith('.json')
      ? vitestCounts(join(dir, f))
      : f.endsWith('.xml')
        ? junitCounts(join(dir, f))
        : null;
    if (!c) continue;
    own.passed += c.passed;
    own.failed += c.failed;
    own.skipped += c.skipped;
  }
  // A step without reports counts as one check; a failed step whose reports show no failure (it crashed, or a
  // non-test check such as ruff failed) counts one failure, so a red step can never add up to "0 failed".
  if (own.passed + own.failed + own.skipped === 0) {
    if (status === '0') own.passed = 1;
    else own.failed = 1;
  } else if (status !== '0' && own.failed === 0) own.failed = 1;
  total.passed += own.passed;
  total.failed += own.failed;
  total.skipped += own.skipped;
}
console.log(`${total.passed} ${total.failed} ${total.skipped}`);
