"""State backends: where each sync's low-water mark survives a crash (see docs/state.md)."""

from engine.state.base import StateContext, StateStore, StoredPosition

__all__ = ["StateContext", "StateStore", "StoredPosition"]
