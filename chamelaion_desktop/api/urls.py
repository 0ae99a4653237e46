"""Where the API lives and the environment variables that say so (API.md, "Base URL and
authentication"; the vendor's SDK reads the same variables).

A module of its own, free of imports, so the app can read them at start-up without loading
``client`` and its HTTP stack (httpx, tenacity: about a tenth of a second).
"""

PRODUCTION_URL = "https://api.chamelaion.com/api"
STAGING_URL = "https://api.dev.chamelaion.com/api"
ENV_API_KEY = "CHAMELAION_API_KEY"
ENV_BASE_URL = "CHAMELAION_BASE_URL"
