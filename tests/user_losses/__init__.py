"""A user's own loss module, importable from tests/ (used by the tests of
custom losses and persistence, also from fresh subprocesses)."""
