"""prefecture-monitor: watch prefectures' booking pages, keep evidence, alert on open slots."""

__version__ = "0.1.0"
