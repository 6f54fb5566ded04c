"""Published scorecards: jinja2 templates and matplotlib charts rendered from the analysis."""
