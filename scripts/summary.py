"""Print one pytest-style summary line for all the test passes of make test
(module tests on SQLite and PostgreSQL, cross-module tests) from their JUnit
reports, and exit non-zero if anything failed.

ModuleTestCase checks every model in subtests: pytest counts them in the
suite's "tests" attribute without a testcase element of their own, and, like
pytest's own summary, they are reported apart as subtests."""

import sys
import xml.etree.ElementTree as ET

OUTCOMES = ['failed', 'passed', 'skipped', 'error']


def outcome(testcase):
    for tag, name in [
        ('failure', 'failed'),
        ('error', 'error'),
        ('skipped', 'skipped'),
    ]:
        if testcase.find(tag) is not None:
            return name
    return 'passed'


def main(paths):
    tests = {}
    subtests = dict.fromkeys(OUTCOMES, 0)
    seconds = 0.0
    for index, path in enumerate(paths):
        root = ET.parse(path).getroot()
        for suite in root.iter('testsuite'):
            seconds += float(suite.get('time', 0))
            extra = int(suite.get('tests', 0)) - len(suite.findall('testcase'))
            subtests['passed'] += max(extra, 0)
        for testcase in root.iter('testcase'):
            key = (index, testcase.get('classname'), testcase.get('name'))
            result = outcome(testcase)
            if key in tests:
                subtests[result] += 1
                # A failed subtest fails its test, as pytest reports it.
                if result in {'failed', 'error'}:
                    tests[key] = result
            else:
                tests[key] = result
    totals = dict.fromkeys(OUTCOMES, 0)
    for result in tests.values():
        totals[result] += 1
    parts = [f'{n} {k}' for k, n in totals.items() if n or k == 'passed']
    parts += [f'{n} subtests {k}' for k, n in subtests.items() if n]
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    line = f' {", ".join(parts)} in {seconds:.2f}s ({hours}:{minutes:02d}:{secs:02d}) '
    print(line.center(80, '='))
    return 1 if totals['failed'] or totals['error'] else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
