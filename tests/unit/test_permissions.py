"""The role → permission table (DESIGN.md: one pure table; segregation of duties)."""

import pytest

from bank.permissions import BLINDED_HIDDEN, ROLES, UNBLINDED, hidden_by_blinding, permissions_for

pytestmark = pytest.mark.requirement("ER-AUTHORITY")


def test_unblinded_is_granted_to_people_and_held_only_by_the_manufacturing_roles():
    """Technicians and QA fill and release the placebo: they know the arm by their work. Clinical staff
    and administrators are blinded unless the permission is granted to them."""
    assert {r for r in ROLES if UNBLINDED in permissions_for([r])} == {"technician", "qa"}
    for role in ROLES:
        assert UNBLINDED in permissions_for([role], unblinded=True)


@pytest.mark.parametrize("roles", [["admin"], ["clinical"], ["admin", "clinical"]])
def test_blinding_follows_the_permission_not_the_role(roles):
    """Issue 16: whatever the roles, without the unblinded permission no lot, storage, release, donor
    (genealogy) or audit page; with it, what the roles grant."""
    perms = permissions_for(roles)
    assert not BLINDED_HIDDEN & perms
    for permission in BLINDED_HIDDEN & permissions_for(roles, unblinded=True):
        assert hidden_by_blinding(permission, roles, perms)
    assert not hidden_by_blinding("user.manage", roles, perms)
    assert not hidden_by_blinding("lot.view", roles, permissions_for(roles, unblinded=True))


def test_only_qa_releases_and_determines_eligibility():
    holders = {r for r in ROLES if "lot.release" in permissions_for([r])}
    assert holders == {"qa"}
    assert {r for r in ROLES if "donor.determine" in permissions_for([r])} == {"qa"}


def test_admin_manages_users_but_cannot_release_or_allocate():
    perms = permissions_for(["admin"])
    assert "user.manage" in perms
    assert "lot.release" not in perms and "dose.allocate" not in perms


def test_blinded_clinical_users_cannot_open_lot_or_storage_pages():
    """DOMAIN.md §5 blinding: lot pages name the product (placebo or MSC) behind a container."""
    assert not {"lot.view", "storage.view"} & permissions_for(["clinical"])
    assert {"lot.view", "storage.view"} <= permissions_for(["clinical"], unblinded=True)
