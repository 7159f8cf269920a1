"""Print one pytest-style summary line for all the test passes of make test
(module tests on SQLite and PostgreSQL, cross-module tests) from their JUnit
reports, and exit non-zero if anything failed."""

import sys
import xml.etree.ElementTree as ET


def main(paths):
    totals = dict.fromkeys(['failed', 'passed', 'skipped', 'errors'], 0)
    seconds = 0.0
    for path in paths:
        root = ET.parse(path).getroot()
        suites = [root] if root.tag == 'testsuite' else root.iter('testsuite')
        for suite in suites:
            tests = int(suite.get('tests', 0))
            failures = int(suite.get('failures', 0))
            errors = int(suite.get('errors', 0))
            skipped = int(suite.get('skipped', 0))
            totals['failed'] += failures
            totals['errors'] += errors
            totals['skipped'] += skipped
            totals['passed'] += tests - failures - errors - skipped
            seconds += float(suite.get('time', 0))
    parts = [f'{n} {k}' for k, n in totals.items() if n or k == 'passed']
    minutes, secs = divmod(int(seconds), 60)
    line = f' {", ".join(parts)} in {seconds:.2f}s (0:{minutes:02d}:{secs:02d}) '
    print(line.center(80, '='))
    return 1 if totals['failed'] or totals['errors'] else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
