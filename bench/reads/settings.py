"""Settings of the benchmark's server: PolicyHub's, plus the floors' URLs and a query counter."""

from policyhub.settings import *  # noqa: F403
from policyhub.settings import MIDDLEWARE

ROOT_URLCONF = "bench.reads.urls"
MIDDLEWARE = ["bench.reads.middleware.count_queries", *MIDDLEWARE]
