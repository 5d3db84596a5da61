"""Tournament reports: Markdown and HTML documents with tables, plots and rendered rollouts."""
