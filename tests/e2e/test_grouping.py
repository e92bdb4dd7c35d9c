"""`make test` keeps each xdist group on one worker: one shared stack, one packaging run."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def test_loadgroup_keeps_an_xdist_group_on_one_worker(request: pytest.FixtureRequest) -> None:
    # pytest-xdist tells its scheduler a test's group by appending "@<group>" to the node id.
    # With a pytest whose node ids cannot be changed that way (9.2: pytest-xdist#1386) every
    # group is silently spread over the workers, and each worker starts its own end-to-end
    # stack and packages the services once more; requirements-dev.txt pins a pytest that works.
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("not run with --dist loadgroup")

    assert request.node.nodeid.endswith("@e2e"), f"pytest {pytest.__version__} lost the group: pytest-xdist#1386"
