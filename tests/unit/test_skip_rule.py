"""The suite's one skip rule: a missing tool skips on a laptop and fails in CI."""

from __future__ import annotations

import os
import pathlib

import pytest
from tests.machine import in_ci, skip_or_fail


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "True", "yes", "on", " true "])
def test_ci_set_to_a_true_value_turns_a_skip_into_a_failure(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("CI", value)
    assert in_ci()
    with pytest.raises(pytest.fail.Exception, match="needs root"):
        skip_or_fail("needs root")


@pytest.mark.parametrize("value", [None, "", "0", "false", "no", "off"])
def test_anything_else_is_a_laptop_where_the_test_skips_with_its_reason(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    assert not in_ci()
    with pytest.raises(pytest.skip.Exception, match="needs root"):
        skip_or_fail("needs root")


pytest_plugins = ["pytester"]


def test_the_needs_mark_acts_before_any_fixture_runs(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        test_marked="""
        import pytest
        from tests.machine import needs

        @pytest.fixture
        def expensive():
            raise AssertionError("a fixture ran although the test lacks what it needs")

        @needs(["root"], "this test")
        def test_x(expensive):
            pass

        @needs([], "this test")
        def test_y():
            pass
        """
    )
    pytester.makeconftest("from tests.conftest import pytest_runtest_setup  # noqa: F401")
    # The inner pytest runs in a folder of its own: it finds `tests` through the repository.
    repository = str(pathlib.Path(__file__).resolve().parents[2])
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [repository, os.environ.get("PYTHONPATH")]))
    )
    monkeypatch.setenv("CI", "false")
    laptop = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs")
    laptop.assert_outcomes(passed=1, skipped=1)
    laptop.stdout.fnmatch_lines(["*this test needs: root*"])
    monkeypatch.setenv("CI", "true")
    ci = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    ci.assert_outcomes(passed=1, errors=1)
    ci.stdout.fnmatch_lines(["*this test needs: root (CI is set*"])
    assert "a fixture ran" not in ci.stdout.str()
