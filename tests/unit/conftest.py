from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_socket import disable_socket, enable_socket


@pytest.fixture(autouse=True)
def _no_sockets() -> Iterator[None]:
    """Unit tests run on fakes: any network use is a bug."""
    disable_socket()
    yield
    enable_socket()
