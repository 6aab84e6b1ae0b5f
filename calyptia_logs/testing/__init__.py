"""Test against a faithful fake of the Calyptia Cloud API instead of the real one.

Like moto for AWS: :class:`FakeCalyptiaCloud` serves the pipeline-log
endpoints from memory over real sockets, with real statuses, auth, UUID
checks and pagination, and injects faults on cue (:class:`Fault`).

Example:
    >>> from calyptia_logs.testing import FakeCalyptiaCloud, Fault, run_fake_cloud
    >>> fake = FakeCalyptiaCloud()
    >>> rule = fake.inject(Fault.http_status(503, retry_after=1), times=2)
    >>> rule.times
    2

The pytest fixtures ``fake_cloud`` and ``fake_cloud_client`` come with the
package (see :mod:`calyptia_logs.testing.plugin`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from calyptia_logs._lazy import lazy_exports

if TYPE_CHECKING:
    from collections.abc import Callable

    from calyptia_logs.testing.fake import (
        DEFAULT_TOKEN,
        FakeCalyptiaCloud,
        RecordedRequest,
        fluent_bit_lines,
    )
    from calyptia_logs.testing.faults import TRANSIENT_MIX, Fault, FaultKind, FaultRule
    from calyptia_logs.testing.server import (
        RunningFake,
        run_fake_cloud,
        run_fake_cloud_in_thread,
        serve_app,
        serve_forever,
    )

_EXPORTS = {
    "DEFAULT_TOKEN": "calyptia_logs.testing.fake",
    "FakeCalyptiaCloud": "calyptia_logs.testing.fake",
    "RecordedRequest": "calyptia_logs.testing.fake",
    "fluent_bit_lines": "calyptia_logs.testing.fake",
    "TRANSIENT_MIX": "calyptia_logs.testing.faults",
    "Fault": "calyptia_logs.testing.faults",
    "FaultKind": "calyptia_logs.testing.faults",
    "FaultRule": "calyptia_logs.testing.faults",
    "RunningFake": "calyptia_logs.testing.server",
    "run_fake_cloud": "calyptia_logs.testing.server",
    "run_fake_cloud_in_thread": "calyptia_logs.testing.server",
    "serve_app": "calyptia_logs.testing.server",
    "serve_forever": "calyptia_logs.testing.server",
}
__getattr__: Callable[[str], object]
__dir__: Callable[[], list[str]]
__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)


__all__ = [
    "DEFAULT_TOKEN",
    "TRANSIENT_MIX",
    "FakeCalyptiaCloud",
    "Fault",
    "FaultKind",
    "FaultRule",
    "RecordedRequest",
    "RunningFake",
    "fluent_bit_lines",
    "run_fake_cloud",
    "run_fake_cloud_in_thread",
    "serve_app",
    "serve_forever",
]
