"""The role → permission table (DESIGN.md: one pure table; segregation of duties)."""

from bank.permissions import ROLES, UNBLINDED, permissions_for


def test_unblinded_is_granted_separately_from_every_role():
    for role in ROLES:
        assert UNBLINDED not in permissions_for([role])
        assert UNBLINDED in permissions_for([role], unblinded=True)


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
