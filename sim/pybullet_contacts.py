"""Contacts of a PyBullet world between robosynth's named bodies (the robot's links, objects, floor)."""

from __future__ import annotations

from typing import Any

from sim.types import Contact


def _name(names: dict[tuple[int, int], str], uid: int, link: int) -> str:
    return names.get((uid, link), f"<{uid}:{link}>")


def contact_list(client: Any, names: dict[tuple[int, int], str]) -> list[Contact]:
    """Return every contact point of the world as a Contact (bodies named by ``names[(uid, link)]``)."""
    return [Contact(_name(names, cp[1], cp[3]), _name(names, cp[2], cp[4]),
                    (float(cp[5][0]), float(cp[5][1]), float(cp[5][2])), float(cp[9]))
            for cp in client.getContactPoints()]


def touching(client: Any, names: dict[tuple[int, int], str], bodies: dict[str, tuple[int, int]],
             body: str) -> set[str]:
    """Return the names of the bodies in contact with ``body`` (a name ending in "/": every body it starts), from
    the contact points of its engine bodies only (PyBullet filters them in C and reports the queried body as A)."""
    if body.endswith("/"):
        wanted = {n for n in bodies if n.startswith(body)}
    else:
        wanted = {body} if body in bodies else set()
    out: set[str] = set()
    for uid in sorted({bodies[n][0] for n in wanted}):
        for cp in client.getContactPoints(bodyA=uid):
            a, b = _name(names, cp[1], cp[3]), _name(names, cp[2], cp[4])
            if a in wanted:
                out.add(b)
            if b in wanted:  # a contact between two of the wanted links names both
                out.add(a)
    return out
