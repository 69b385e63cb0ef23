"""Moving a sync's state from the key a former omnisync used (`<spec file name>:<sync>`) to its
scoped key (engine/state/identity.py), once, so an upgrade loses no position.

The built-in backends move position and digests in one step (`MovesState`). A backend without it
gets its position copied and the old one cleared; its digests stay behind, so the next run sends
each record once more (never fewer).
"""

from __future__ import annotations

from engine.state.base import MovesState, StateStore


def holds_state(store: StateStore, key: str) -> bool:
    return store.load(key) is not None or store.count_digests(key) > 0


def move_former(store: StateStore, former: str, key: str) -> str | None:
    """Move what `former` holds under `key` unless `key` holds state already; a note of what moved,
    or None when nothing did."""
    if isinstance(store, MovesState):
        position, digests = store.move(former, key)
    else:
        position, digests = _copy_position(store, former, key), 0
    if not position and not digests:
        return None
    what = " and ".join(
        [*(["position"] if position else []), *([f"{digests} record digests"] if digests else [])]
    )
    return f"state moved from its former key {former} to {key} ({what})"


def _copy_position(store: StateStore, former: str, key: str) -> bool:
    stored = store.load(former)
    if stored is None or stored.position is None or holds_state(store, key):
        return False  # nothing, or unreadable: `state show` names it under its former key
    store.save(key, stored.position, stored.fingerprint, stored.where)
    store.clear(former)
    return True
