"""The static status page: rendering (Jinja2, autoescape) and the sample history for previews."""
