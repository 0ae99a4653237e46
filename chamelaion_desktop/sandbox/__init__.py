"""A local server that speaks the Chamelaion lip-sync API (``shared/api/API.md``).

It is the app's offline mode, the demo backend and what every test talks to. It stands
alone: no Qt, and no imports from ``chamelaion_desktop.api`` or ``.core``, so an independent
implementation of the contract catches drift on either side.

    from chamelaion_desktop.sandbox import SandboxConfig, SandboxThread
    with SandboxThread(SandboxConfig(data_dir=tmp)) as sandbox:
        client = chamelaion.Chamelaion(base_url=sandbox.base_url, api_key="sandbox-key")
"""

from .config import Faults, SandboxConfig
from .server import Sandbox
from .thread import SandboxThread

__all__ = ["Faults", "Sandbox", "SandboxConfig", "SandboxThread"]
