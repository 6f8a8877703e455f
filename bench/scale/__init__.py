"""The scale data set of the read benchmark (`make bench-scale`); see `__main__`."""
