"""Spec loading and checking: YAML with line numbers, ${ENV} interpolation, JSON Schema, typed objects."""

from engine.specfile.model import Spec, SyncSpec, load_spec, load_spec_hiding_secrets

__all__ = ["Spec", "SyncSpec", "load_spec", "load_spec_hiding_secrets"]
