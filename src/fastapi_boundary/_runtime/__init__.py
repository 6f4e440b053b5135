"""The run-time lines of defence: loop threads, attribution, detection, wrappers, interception,
the guard, exemptions, step timing, stack samples, the monitor, ``install`` and the tests' reset."""
