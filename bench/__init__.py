"""`make bench`: figures for the README. Not tests: nothing here asserts a time."""
