"""Running syncs: from a valid spec to the API's answers (runner, pipeline, resume, stop, plan, replay)."""
