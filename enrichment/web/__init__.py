"""The outside world, as a leaf library: imports no project module; callers pass settings in."""
