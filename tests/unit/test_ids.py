"""Ids made in bulk never collide: 100,000 at once in one process, from several threads, from
two processes at once and across a fork; each has ZITADEL's look (19 decimal digits, an int64),
and one id says nothing about the next."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
from collections import Counter

from passkeys import ids

BULK = 100_000
MAKE = f"from passkeys import ids\nprint('\\n'.join(ids.new_id() for _ in range({BULK})))"


def _looks_right(made: list[str]) -> None:
    for value in made:
        assert len(value) == 19 and value.isdecimal() and 10**18 <= int(value) < 2**63, value


def test_100000_at_once_are_distinct_and_look_like_zitadel_ids() -> None:
    made = [ids.new_id() for _ in range(BULK)]
    assert len(set(made)) == BULK
    _looks_right(made)


def test_threads_making_ids_at_once_never_share_one() -> None:
    made: list[list[str]] = [[] for _ in range(4)]

    def make(into: list[str]) -> None:
        into.extend(ids.new_id() for _ in range(BULK // 4))

    threads = [threading.Thread(target=make, args=(into,)) for into in made]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({value for into in made for value in into}) == BULK


def test_two_processes_making_100000_at_once_never_share_one() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [subprocess.Popen([sys.executable, "-c", MAKE], stdout=subprocess.PIPE, text=True, env=env) for _ in "ab"]
    outputs = [proc.communicate(timeout=120)[0].split() for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0]
    assert [len(out) for out in outputs] == [BULK, BULK]
    _looks_right(outputs[0][:100])
    assert len(set(outputs[0]) | set(outputs[1])) == 2 * BULK


def test_a_forked_child_does_not_repeat_its_parents_ids() -> None:
    ids.new_id()
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child: its next ids into the pipe, then out at once
        try:
            with os.fdopen(write, "w") as out:
                out.write("\n".join(ids.new_id() for _ in range(1000)))
        finally:
            os._exit(0)
    os.close(write)
    parents = {ids.new_id() for _ in range(1000)}
    with os.fdopen(read) as pipe:
        childs = set(pipe.read().split())
    os.waitpid(child, 0)
    assert len(childs) == 1000 and not parents & childs


def test_consecutive_ids_are_not_close_to_each_other() -> None:
    """A time-ordered id or a counter puts the next id near the last one, so that a caller who
    saw one could walk to its neighbours; these scatter over the whole range."""
    made = [int(ids.new_id()) for _ in range(10_000)]
    near = sum(abs(b - a) < 2**40 for a, b in itertools.pairwise(made))
    assert near == 0  # for uniform ids: about 3 in 10 million pairs
    # Uniform over [10**18, 2**63): 1 to 8 lead 12.2 % each (about 1,220 of 10,000, sd 33), 9 the rest (2.7 %).
    first_digits = Counter(str(value)[0] for value in made)
    assert all(1000 < first_digits[digit] < 1450 for digit in "12345678"), first_digits
    assert 150 < first_digits["9"] < 400, first_digits
