"""A local server that speaks the Chamelaion lip-sync API (``shared/api/API.md``).

It is the app's offline mode, the demo backend and what every test talks to. It stands
alone: no Qt, and no imports from ``chamelaion_desktop.api`` or ``.core``, so an independent
implementation of the contract catches drift on either side.

    from chamelaion_desktop.sandbox import SandboxConfig, SandboxThread
    with SandboxThread(SandboxConfig(data_dir=tmp)) as sandbox:
        client = chamelaion.Chamelaion(base_url=sandbox.base_url, api_key="sandbox-key")

Choices where API.md is silent ([assumed]; clients must not depend on them):
- Success answers are 200. Timestamps carry milliseconds (``2026-04-07T10:00:05.123Z``).
- Optional ``LipsyncRequest`` fields are omitted, never ``null``; ``error_message`` only
  when ``failed``, ``output_url`` only when ``completed``.
- ``Authorization`` wins when both auth headers are sent; a revoked key is ``unauthorized``.
- Upload checks run in the documented order: content type, video, audio, model. A
  ``disable_active_speaker_detection`` other than true/false/1/0 (Go's ParseBool set) and
  malformed multipart are ``invalid request body``.
- ``limit=0`` is allowed (an empty page with the total); a non-integer or negative
  ``limit``/``offset`` is 400 ``limit must be a non-negative integer`` (or ``offset ...``).
- Over-size bodies are 413 ``request body too large``; unknown routes 404 ``not found``;
  wrong methods 405 ``method not allowed``; download links 403 ``link expired`` /
  ``invalid signature``. Every generation request that passes authentication counts
  against the rate limit, valid or not.
- Uploaded inputs stay under ``data_dir/uploads/<id>/`` after the job ends.
"""

from .config import Faults, SandboxConfig
from .server import Sandbox
from .thread import SandboxThread

__all__ = ["Faults", "Sandbox", "SandboxConfig", "SandboxThread"]
