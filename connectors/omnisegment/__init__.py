"""The OmniSegment destination: endpoint catalogue, payload schemas, request building, sandbox."""
