"""The application's own settings, for the benchmark on loopback.

Only what measuring needs changes: the URLconf adds the constant endpoint (the
ceiling), the throttles are lifted (a load generator is one user sending thousands of
requests a minute), and plain HTTP is served on loopback, with no TLS proxy in front.
Everything else — middleware, authentication, database, DEBUG off — is production's.
"""

from config.settings import *  # noqa: F403
from config.settings import REST_FRAMEWORK

ROOT_URLCONF = "bench.urls"
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"anon": None, "user": None, "auth": None},
}
