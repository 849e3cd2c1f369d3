"""Tests of snapcheck.checks; a package so that the helpers in tests/snapcheck import."""
