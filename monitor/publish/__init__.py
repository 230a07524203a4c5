"""The public status page and open data: a static site built from the recorded outcomes.

    pages.collect (SQL aggregates: query, stats_query) ──► figures (pure) ──► chart (pure)
        ──► Jinja2 templates (autoescape) + opendata (CSV, JSON) ──► site.publish (atomic)

``monitor publish OUTDIR`` writes it once; ``monitor run --publish OUTDIR`` (or
``settings.publish.dir``) has :class:`monitor.publish.refresh.SiteRefresher` rewrite it
after probes, at most once per ``settings.publish.min_gap``, in a worker thread.
"""
