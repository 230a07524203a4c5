"""Probe engines: how pages are fetched (httpx or Playwright), behind one PageSession interface."""
