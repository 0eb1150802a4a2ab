"""Issue 11's fault scenarios on real Kafka and PostgreSQL with workers as real processes: after
each fault every link in has exactly one outcome, no article or alert is lost or sent under two
keys, every bad message is dead-lettered with a reason, and the workers still run."""

from __future__ import annotations

import pytest

from .scenarios import SCENARIOS, restart

# The harness waits up to 300 s for every outcome and then fails naming what is missing, with each
# worker's last log lines; pytest's own 300 s limit would cut that short and leave a bare timeout.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(480)]


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_scenario(name, fault_env):
    result = await SCENARIOS[name](fault_env)
    print(result.row())
    result.check()


async def test_a_restarted_worker_is_back_well_before_its_session_times_out(fault_env):
    """Static group membership: worker 1, killed -9 and started again under its group.instance.id,
    gets its partitions back without waiting out its session, and the survivor never stops for that
    long (with dynamic membership both wait about the whole session: `make bench-faults`). A 90 s
    session and a bound of two thirds of it: what is checked is that the session is not waited out,
    not how fast a loaded machine restarts a worker (bench-faults measures that: 5.0 s against 43.2
    s). At load 9-14 a restart took 31-47 s here, so a 60 s session's bound of 30 s failed there."""
    session = 90.0
    result = await restart(fault_env, static=True, session_timeout=session)
    print(result.row())
    result.check()
    assert result.rejoin_s is not None and result.rejoin_s < session * 2 / 3, result.rejoin_s
    assert result.stall_s < session * 2 / 3, result.stall_s
