"""Tests of fmcnn.exercises (a package, so test module names cannot clash with other folders')."""
