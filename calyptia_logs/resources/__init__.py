"""The API's resources, reached from :class:`CalyptiaClient`: ``client.pipeline_logs``."""

from calyptia_logs.resources.client import CalyptiaClient
from calyptia_logs.resources.pipeline_logs import PipelineLogs, as_uuid

__all__ = ["CalyptiaClient", "PipelineLogs", "as_uuid"]
