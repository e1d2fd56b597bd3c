"""How DataTable paints a one-line cell, done without Rich's render passes.

NavTable (navtable.py) paints the cells it can through `fast_cell`: the same segments
and styles as DataTable's Styled(Padding(Text)), at a fraction of the cost;
tests/test_navtable_render.py pins the two outputs equal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

if TYPE_CHECKING:
    from rich.console import Console

NULL = Style.null()


def _truncate(plain: str, width: int, overflow: str, pad: bool = False) -> str:
    """rich.text.Text.truncate on a plain string."""
    length = cell_len(plain)
    if length > width:
        plain = (set_cell_size(plain, width - 1) + "…" if overflow == "ellipsis"
                 else set_cell_size(plain, width))
    if pad and length < width:
        plain += " " * (width - length)
    return plain


def _text_line(text: Text, width: int, justify: str | None, overflow: str | None) -> str | None:
    """The characters Rich lays out for a Text with no spans, one line and wrapping off,
    in `width` cells (Text.wrap and Lines.justify, rich 13-15); None for anything else
    (spans, several lines, tabs, wrapping, centre or full justify), left to Rich."""
    if text.spans or text.no_wrap is False or width < 1:
        return None
    plain = text.plain
    if "\n" in plain or "\t" in plain:
        return None
    justify = text.justify or justify or "default"
    overflow = text.overflow or overflow or "fold"
    if overflow == "ignore" or justify in ("center", "full"):
        return None
    if justify == "left":
        plain = _truncate(plain, width, overflow, pad=True)
    elif justify == "right":
        plain = _truncate(plain.rstrip(), width, overflow)
        plain = " " * (width - cell_len(plain)) + plain
    return _truncate(plain, width, overflow)


def layered(pre: Style, style: Style | None, post: Style) -> Style | None:
    """A segment's style under textual's Styled(pre, post): Segment.apply_style."""
    if pre:
        style = pre + style
    if post:
        style = style + post if style else post
    return style


class Paint(NamedTuple):
    """What every cell and line of one NavTable paint reads, taken once per paint."""

    console: Console
    justify: str | None
    overflow: str | None
    cell_padding: int
    fixed_rows: int
    fixed_columns: int
    show_cursor: bool
    css_foreground: bool
    css_background: bool
    row_styles: dict[tuple[int, Style], Style]
    widths: list[int]  # each column's, padding included
    widths_key: tuple[int, ...]


class Layers(NamedTuple):
    """The styles a row's cells share: under (pre) and over (post) their own, and each
    cell style already layered between them (None: a cell without one, and padding)."""

    pre: Style
    post: Style
    styled: dict[Any, Style | None]
    plain: bool  # no meta in the component and post styles


def row_layers(base_style: Style, component_style: Style, post_style: Style) -> Layers:
    """The Layers of a row's cells, from DataTable's styles for them."""
    # Styled(pre, post) layers pre = base + meta + component under each segment and
    # post over it. Meta holds no colours or attributes, so adding it last gives the
    # same style, and the rest is shared by every cell of a row; unless a style
    # after it holds meta of its own (the merged meta would be in another order).
    pre = base_style + component_style
    plain = not component_style.meta and not (post_style and post_style.meta)
    return Layers(pre, post_style, {None: layered(pre, NULL, post_style)}, plain)


def fast_cell(cell: Any, row_index: int, column_index: int, width: int,
              layers: Layers, paint: Paint) -> list[Segment] | None:
    """A one-line cell's segments, as DataTable renders them, or None when it is
    not a one-line Text without spans that fits (then DataTable renders it)."""
    if type(cell) is not Text or not layers.plain:
        return None
    pad = paint.cell_padding
    inner = width - 2 * pad
    chars = _text_line(cell, inner, paint.justify, paint.overflow)
    if chars is None:
        return None
    length = cell_len(chars)
    if length > inner:
        return None
    key = cell.style or None
    styled = layers.styled
    style = styled.get(key, NULL)
    if style is NULL:
        own = paint.console.get_style(key, default=NULL) if key else None
        style = styled[key] = None if own and own.meta else layered(layers.pre, own,
                                                                    layers.post)
    if key and style is None:  # the cell's style holds meta: see row_layers
        return None
    blank = styled[None]
    meta = Style.from_meta({"row": row_index, "column": column_index})
    blank_m = blank + meta if blank else meta
    segments: list[Segment] = []
    if pad:
        segments.append(Segment(" " * pad, blank_m))
    if chars or not key:  # Text.render: one unstyled segment, even when empty
        segments.append(Segment(chars, style + meta if style else meta))
    if length < inner:
        segments.append(Segment(" " * (inner - length), blank_m))
    if pad:
        segments.append(Segment(" " * pad, blank_m))
    return segments
