"""The flow diagram with the task titles as written.

viewflow's graph.svg passes the first line of every node's label through
Django's `title` filter ("Übergabe Annehmen", "Prüfen, Ob Eine"); German
capitalises nouns only. Rather than copy viewflow's template (it is not
vendored, see ARCHITECTURE.md), the rendered SVG gets each first line back
as the flow declares it.
"""

from __future__ import annotations

from typing import Any

from django.template.defaultfilters import title as title_filter
from django.utils.html import escape


def svg_with_titles_as_written(svg: str, grid: Any) -> str:
    """Return `svg` with every node's first label line as declared."""
    for cell in grid.cells:
        lines = getattr(cell.shape, "text", None) or []
        if not lines:
            continue
        first = str(lines[0][0])
        shouted = title_filter(first)
        if shouted != first:
            svg = svg.replace(f">{escape(shouted)}</text>", f">{escape(first)}</text>")
    return svg
