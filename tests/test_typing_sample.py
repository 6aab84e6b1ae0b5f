"""The typed user-code sample (tests/typing/user_code.py) runs as well as it type-checks.

CI checks it with ``mypy --strict`` and pyright (strict); here it runs against the fake,
so that the sample cannot drift from what the library does.
"""

from __future__ import annotations

from calyptia_logs.testing import FakeCalyptiaCloud, run_fake_cloud
from tests.typing.user_code import main


async def test_the_typed_sample_runs_against_the_fake() -> None:
    async with run_fake_cloud(FakeCalyptiaCloud(fill_delay=0)) as cloud:
        pipeline = cloud.add_pipeline()
        cloud.seed_logs(pipeline, 3)
        fetched = await main(cloud.base_url, cloud.token, pipeline)
    assert fetched == 4  # three seeded and the one it created
