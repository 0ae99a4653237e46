"""Where the API lives and the environment variables that say so (API.md, "Base URL and
authentication"; the vendor's SDK reads the same variables).

A module of its own, free of imports, so the app can read them at start-up without loading
``client`` and its HTTP stack (httpx, tenacity: about a tenth of a second).
"""

PRODUCTION_URL = "https://api.chamelaion.com/api"
STAGING_URL = "https://api.dev.chamelaion.com/api"
ENV_API_KEY = "CHAMELAION_API_KEY"
ENV_BASE_URL = "CHAMELAION_BASE_URL"

PRODUCTION = "production"
STAGING = "staging"
SANDBOX = "sandbox"
CUSTOM = "custom"


def environment_of(base_url: str, *, sandbox_url: str | None = None) -> str:
    """``production``, ``staging``, ``sandbox`` or ``custom`` for an API base URL
    (``sandbox`` when it is ``sandbox_url``, the built-in sandbox's address)."""
    url = base_url.rstrip("/")
    if sandbox_url is not None and url == sandbox_url.rstrip("/"):
        return SANDBOX
    if url == PRODUCTION_URL:
        return PRODUCTION
    if url == STAGING_URL:
        return STAGING
    return CUSTOM
