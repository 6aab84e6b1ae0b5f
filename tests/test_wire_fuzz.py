"""The wire-level fuzz test: whatever bytes the server sends, every call keeps the property.

See :mod:`tests.wire_fuzz` for what is drawn and what is checked. CI runs a
fixed set of examples (derandomized: the same every run); ``-m slow`` runs
many more with a fresh seed.
"""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.wire_fuzz import Answer, answers, fuzz_settings, run_example

CI_EXAMPLES = 300
SLOW_EXAMPLES = 3000


@fuzz_settings(CI_EXAMPLES, derandomize=True)
@given(answer=answers, project_token=st.booleans())
def test_every_call_ends_in_a_result_or_a_calyptia_error(
    answer: Answer, project_token: bool
) -> None:
    asyncio.run(run_example(answer, project_token=project_token))


@pytest.mark.slow
@fuzz_settings(SLOW_EXAMPLES, derandomize=False)
@given(answer=answers, project_token=st.booleans())
def test_every_call_ends_in_a_result_or_a_calyptia_error_at_length(
    answer: Answer, project_token: bool
) -> None:
    asyncio.run(run_example(answer, project_token=project_token))
