"""The status strings of a lip-sync request, as the API spells them.

Source: ``shared/api/API.md`` (the ``LipsyncRequest`` shape). ``processing`` comes from the
sibling video-translate API; any other string is kept verbatim (see
``LipsyncRequest.status``). A module of its own, without dataclasses, so that the window's
first frame can name statuses without building the typed results (``models``, ~8 ms).
"""

QUEUED = "queued"
PROCESSING = "processing"
COMPLETED = "completed"
FAILED = "failed"
#: Statuses after which a request no longer changes.
TERMINAL_STATUSES = frozenset({COMPLETED, FAILED})
