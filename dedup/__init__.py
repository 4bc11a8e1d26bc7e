"""dedup: near-duplicate documents, repeated passages and boilerplate in scraped text.

>>> import dedup
>>> report = dedup.scan(["one text here", "one text here", "another"])
>>> report.clusters[0].members
('0', '1')
"""

from .config import BoilerplateConfig, Config, InputConfig, NearDupConfig, RepeatsConfig, load_config
from .errors import ConfigError, DedupError, IndexStoreError, InputError
from .model import Cluster, Document, Report, Span, SpanRef
from .pipeline import clean, scan

__all__ = [
    "BoilerplateConfig",
    "Cluster",
    "Config",
    "ConfigError",
    "DedupError",
    "Document",
    "IndexStoreError",
    "InputConfig",
    "InputError",
    "NearDupConfig",
    "RepeatsConfig",
    "Report",
    "Span",
    "SpanRef",
    "clean",
    "load_config",
    "scan",
]
