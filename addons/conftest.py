"""Collect the modules' proteus scenarios (tests/scenario_*.rst) as pytest
items, run the way Tryton's load_doc_tests runs them: a database per
scenario, dropped afterwards, on the backend chosen by the environment
(DB_NAME, TRYTOND_DATABASE__URI, DB_CACHE)."""

import doctest
import unittest

import pytest


def pytest_collect_file(parent, file_path):
    if file_path.suffix == '.rst' and file_path.name.startswith('scenario_'):
        return ScenarioFile.from_parent(parent, path=file_path)


class ScenarioFile(pytest.File):
    def collect(self):
        yield ScenarioItem.from_parent(self, name=self.path.stem)


class ScenarioItem(pytest.Item):
    def runtest(self):
        from trytond import backend
        from trytond.tests.test_tryton import (
            STRIP_DECIMAL,
            doctest_checker,
            doctest_setup,
            doctest_teardown,
        )

        optionflags = (
            doctest.REPORT_ONLY_FIRST_FAILURE
            | doctest.ELLIPSIS
            | doctest.IGNORE_EXCEPTION_DETAIL
        )
        if backend.name == 'sqlite':
            optionflags |= STRIP_DECIMAL
        suite = doctest.DocFileSuite(
            str(self.path),
            module_relative=False,
            setUp=doctest_setup,
            tearDown=doctest_teardown,
            encoding='utf-8',
            checker=doctest_checker,
            optionflags=optionflags,
        )
        result = unittest.TestResult()
        suite.run(result)
        problems = result.failures + result.errors
        if problems:
            raise ScenarioFailure('\n'.join(text for _, text in problems))

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, ScenarioFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, 0, f'scenario: {self.name}'


class ScenarioFailure(Exception):
    pass
