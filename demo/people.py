"""The demo facility's staff: one account per role, two where four eyes need a second person."""

from __future__ import annotations

from dataclasses import dataclass

from bank.models import User
from bank.uow import Actor, unit_of_work
from bank.users import actor_for, create_user

STAFF = (
    ("tech.ana", "Ana Moreau", ["technician"], False),
    ("tech.ben", "Ben Laurent", ["technician"], False),
    ("qa.claire", "Claire Dubois", ["qa"], False),
    ("qa.david", "David Petit", ["qa"], False),
    ("clin.eva", "Eva Martin", ["clinical"], False),
    ("pharm.farid", "Farid Haddad", ["clinical"], True),
)


@dataclass
class Staff:
    tech: User
    tech2: User
    qa: User
    qa2: User
    clinician: User
    pharmacist: User  # unblinded: prepares blinded doses


def create_staff(session, password: str) -> Staff:
    with unit_of_work(session, Actor(None, "system (demo facility)"), "demo staff"):
        users = [
            create_user(
                session, username, name, roles, password, unblinded=unblinded, must_change_password=False
            )
            for username, name, roles, unblinded in STAFF
        ]
    return Staff(*users)


def as_(user: User) -> Actor:
    return actor_for(user)
