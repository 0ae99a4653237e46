"""The status bar's view of the connection: reachable, whose token, what is wrong."""

from __future__ import annotations

import socket

from chamelaion_desktop.sandbox import SandboxThread
from chamelaion_desktop.services.connection import ConnectionService, ConnectionState
from chamelaion_desktop.services.session import ApiSession
from chamelaion_desktop.services.tasks import TaskRegistry
from chamelaion_desktop.ui.connection_label import ConnectionLabel
from tests.conftest import API_KEY_NAME, AsyncRunner
from tests.helpers import wait_until


def watch(
    session: ApiSession, tasks: TaskRegistry
) -> tuple[ConnectionService, list[ConnectionState]]:
    service = ConnectionService(session, tasks)
    states: list[ConnectionState] = []
    service.stateChanged.connect(states.append)
    service.start()
    return service, states


def test_online_with_the_token_name(
    arun: AsyncRunner, sandbox: SandboxThread, api_key: str, qtbot: object
) -> None:
    tasks = TaskRegistry()
    session = ApiSession(sandbox.base_url, api_key, tasks, sandbox_url=sandbox.base_url)
    service, _states = watch(session, tasks)
    arun(wait_until(lambda: service.state.token_name is not None, timeout=10))
    assert service.state == ConnectionState("sandbox", sandbox.base_url, True, API_KEY_NAME, "")
    label = ConnectionLabel()
    label.set_state(service.state)
    assert label.text() == f"Offline sandbox · {API_KEY_NAME} · online"

    # A new key is checked again, and a rejected one is said plainly.
    session.set_api_key("not-a-key")
    arun(wait_until(lambda: "not accepted" in service.state.problem, timeout=10))
    assert service.state.problem == "The API key was not accepted (invalid token)."
    label.set_state(service.state)
    assert label.text() == "Offline sandbox · needs attention"
    assert "invalid token" in label.toolTip()
    arun(tasks.shutdown())
    arun(session.aclose())


def test_unreachable_service_is_reported(arun: AsyncRunner, qtbot: object) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/api"
        tasks = TaskRegistry()
        session = ApiSession(url, "key", tasks)
        service, _states = watch(session, tasks)
        arun(wait_until(lambda: service.state.reachable is False, timeout=10))
    assert service.state.environment == "custom"
    assert service.state.problem.startswith("Cannot reach the service: Could not connect")
    label = ConnectionLabel()
    label.set_state(service.state)
    assert label.text() == "Custom server · unreachable"
    arun(tasks.shutdown())
    arun(session.aclose())
