"""The dashboard's keys the config may remap: every binding id, and what a key may be.

`[keys]` in the config maps a binding id to one key or several, comma-separated:
`"app.poll" = "ctrl+r"`. The ids are those `?` shows in the dashboard (BINDING_IDS,
checked against the screens' own bindings by the tests). A key is a name such as
`ctrl+r`, `f5`, `escape`, `question_mark`, or a single character (`?` is taken as
Textual's `question_mark`); anything else is a config error naming the entry. No
Textual import here: the config is checked before the dashboard is loaded.
"""

from __future__ import annotations

import difflib
import unicodedata

# By where they work: what `?` groups them by.
BINDING_IDS: dict[str, tuple[str, ...]] = {
    "everywhere": ("app.quit", "app.palette", "app.help", "app.help_f1", "app.poll",
                   "app.pause", "app.export", "app.search", "app.alarms"),
    "tables": ("table.down", "table.up", "table.top", "table.bottom", "table.sort",
               "table.sort_reverse"),
    "carrier list": ("list.filter", "list.window", "list.window_1h", "list.window_24h",
                     "list.window_7d", "list.alarmed_first", "list.clear_filter",
                     "list.trunk_groups"),
    "carrier": ("carrier.back", "carrier.tab_contacts", "carrier.tab_rates",
                "carrier.tab_consistency", "carrier.tab_failures", "carrier.tab_summary",
                "carrier.tab_failover", "carrier.filter", "carrier.window",
                "carrier.period", "carrier.direction", "carrier.halt_only",
                "carrier.fas_only", "carrier.next_page", "carrier.prev_page",
                "carrier.copy"),
    "trunk groups": ("trunks.back", "trunks.filter", "trunks.window", "trunks.window_1h",
                     "trunks.window_24h", "trunks.window_7d"),
    "trunk group": ("tg.back", "tg.tab_dids", "tg.tab_deliveries", "tg.tab_registrations",
                    "tg.tab_findings", "tg.tab_summary", "tg.filter", "tg.window",
                    "tg.outcome", "tg.trigger", "tg.period"),
    "delivery chain": ("chain.back",),
    "call": ("call.back", "call.copy"),
    "calls to a number": ("number.back",),
    "export dialog": ("export.csv", "export.json", "export.svg", "export.txt",
                      "export.cancel"),
    "help": ("help.close",),
    "search": ("search.back", "search.edit", "search.copy"),
    "alarms": ("alarms.back", "alarms.ack"),
}
ALL_IDS = frozenset(i for ids in BINDING_IDS.values() for i in ids)

MODIFIERS = ("ctrl", "shift", "alt", "meta", "super", "hyper")
NAMED_KEYS = frozenset({
    "escape", "enter", "tab", "space", "backspace", "delete", "insert", "home", "end",
    "pageup", "pagedown", "up", "down", "left", "right", *(f"f{n}" for n in range(1, 25)),
})
# Textual's names for characters that are not letters or digits (its _character_to_key).
_RENAMED = {"solidus": "slash", "reverse_solidus": "backslash", "commercial_at": "at",
            "hyphen_minus": "minus", "plus_sign": "plus", "low_line": "underscore"}


def character_key(char: str) -> str:
    """The key name Textual gives a typed character: "?" -> "question_mark"."""
    if char == "\t":
        return "tab"
    if char.isalnum():
        return char
    try:
        name = unicodedata.name(char).lower().replace("-", "_").replace(" ", "_")
    except ValueError:
        return char
    return _RENAMED.get(name, name)


# Every printable ASCII character's name: "a", "7", "question_mark", "slash"...
CHARACTER_KEYS = frozenset(character_key(chr(c)) for c in range(33, 127))


class KeymapError(ValueError):
    """A [keys] entry the dashboard cannot use; the message names it."""


def _one_key(text: str) -> str:
    if len(text) == 1:
        if not text.isprintable():
            raise ValueError
        return "space" if text == " " else character_key(text)
    *mods, base = text.lower().split("+")
    if base == "" and text.endswith("+"):  # "ctrl++": the plus key
        mods, base = mods[:-1], "plus"
    if any(m not in MODIFIERS for m in mods) or len(set(mods)) != len(mods):
        raise ValueError
    if len(base) == 1:
        base = character_key(base)
    if base not in NAMED_KEYS and base not in CHARACTER_KEYS:
        raise ValueError
    return "+".join([*mods, base])


def check_keymap(keys: dict[str, str]) -> dict[str, str]:
    """The [keys] table with each key as Textual names it; KeymapError for an unknown
    binding id or something that is not a key, naming the entry."""
    out: dict[str, str] = {}
    for binding_id, value in keys.items():
        if binding_id not in ALL_IDS:
            near = difflib.get_close_matches(binding_id, sorted(ALL_IDS), n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise KeymapError(f"{binding_id!r} is not a binding id{hint}; `?` in the "
                              "dashboard lists them, e.g. app.poll")
        if not isinstance(value, str) or not value.strip():
            raise KeymapError(f"{binding_id}: give a key such as \"ctrl+r\"")
        parts = [p.strip() for p in value.split(",")] if value.strip() != "," else [","]
        try:
            out[binding_id] = ",".join(_one_key(p) for p in parts)
        except ValueError:
            raise KeymapError(
                f"{binding_id} = {value!r}: not a key; write a name such as ctrl+r, f5, "
                "escape, question_mark or one character, several with commas") from None
    return out
