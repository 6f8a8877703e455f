"""The read benchmark (`make bench-api`): PolicyHub's reads at 1k and 1M coverage criteria, against
raw-SQL floors. See docs/bench.md."""
