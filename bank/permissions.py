"""Roles and what each may do: one pure table, checked by every endpoint (21 CFR 11.10(d), (g))."""

from __future__ import annotations

from bank.i18n import t

ROLES = ("admin", "technician", "qa", "clinical")
ROLE_LABELS = {
    "admin": t("Administrator"),
    "technician": t("Technician"),
    "qa": t("Quality assurance"),
    "clinical": t("Clinical / pharmacy"),
}

# Pseudo-permission for pages every signed-in user may open (home, own password, scan box).
AUTHENTICATED = "authenticated"
# Sees the treatment behind blinded doses (every view is logged). Granted to a person separately
# (an unblinded pharmacist), and held by the manufacturing roles, who fill the placebo themselves.
UNBLINDED = "unblinded"

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset(
        {
            "user.manage",
            "audit.view",
            "donor.view",
            "lot.view",
            "storage.view",
            "release.view",
            "patient.view",
            "dose.view",
            "protocol.view",
        }
    ),
    "technician": frozenset(
        {
            "donor.view",
            "donor.edit",
            "donor.identify",
            "lot.view",
            "lot.edit",
            "lot.verify",
            "material.manage",
            "storage.view",
            "storage.manage",
            "deviation.record",
            "release.view",
            "result.enter",
            "result.verify",
            "dose.view",
            "label.print",
            "custody.record",
        }
    ),
    "qa": frozenset(
        {
            "donor.view",
            "donor.edit",
            "donor.identify",
            "donor.determine",
            "criteria.manage",
            "lot.view",
            "lot.verify",
            "lot.hold",
            "storage.view",
            "deviation.record",
            "deviation.close",
            "release.view",
            "spec.manage",
            "result.enter",
            "result.verify",
            "lot.release",
            "audit.view",
            "protocol.view",
            "protocol.manage",
            "patient.view",
            "dose.view",
            "event.view",
            "event.record",
            "event.investigate",
            "event.hold",
        }
    ),
    "clinical": frozenset(
        {
            "protocol.view",
            "patient.view",
            "patient.enroll",
            "dose.view",
            "dose.allocate",
            "label.print",
            "custody.record",
            "event.view",
            "event.record",
        }
    ),
}

# Lot and storage pages name the product behind a container (placebo media or MSC), so a blinded
# clinical user must not open them: clinical staff get them only with the unblinded permission.
UNBLINDED_CLINICAL = frozenset({"lot.view", "storage.view"})

# Manufacturing staff (technicians, QA) formulate, store, test and release the placebo lots: they know the
# arm of every container by their work, so their roles carry the unblinded permission (and every view they
# have of a blinded treatment is logged like anyone's).
UNBLINDED_ROLES = frozenset({"technician", "qa"})

# Blinding follows the permission, not the role (DOMAIN.md §5): whatever their roles, a person without
# the unblinded permission never holds what would link a blinded dose's container to its product — lots,
# containers, storage positions, genealogy and certificates (lot, storage, release and donor pages) and
# the audit trail (its rows name the containers' real product codes). Such an address answers the neutral
# "masked for blinded users" page (bank.app).
BLINDED_HIDDEN = frozenset({"lot.view", "storage.view", "release.view", "donor.view", "audit.view"})

# Second-person verification of entries (bank.verification): whoever holds any of these permissions
# holds ENTRY_VERIFY, the permission of the "Entries to verify" page; each kind of entry still needs
# its own permission (an isolation lot.verify, a test result result.verify).
VERIFY_PERMISSIONS = frozenset({"lot.verify", "result.verify"})
ENTRY_VERIFY = "entry.verify"

# Steps only the system takes, on someone's behalf (bank.uow.acting_with): no role holds them, so no
# person can take them by hand (a seed specification or criteria set made effective without approval).
SYSTEM_PERMISSIONS = frozenset({"spec.seed", "criteria.seed"})

ALL_PERMISSIONS = (
    frozenset().union(*ROLE_PERMISSIONS.values())
    | {AUTHENTICATED, UNBLINDED, ENTRY_VERIFY, "api.token"}
    | SYSTEM_PERMISSIONS
)


def permissions_for(roles: list[str] | tuple[str, ...], unblinded: bool = False) -> frozenset[str]:
    """Every permission held through `roles`, plus the separately granted unblinded permission; without
    the unblinded permission (granted or held through a manufacturing role) no BLINDED_HIDDEN one."""
    perms = {AUTHENTICATED, "api.token"}
    for role in roles:
        perms |= ROLE_PERMISSIONS.get(role, frozenset())
    if unblinded or UNBLINDED_ROLES & set(roles):
        perms.add(UNBLINDED)
        if "clinical" in roles:
            perms |= UNBLINDED_CLINICAL
    else:
        perms -= BLINDED_HIDDEN
    if perms & VERIFY_PERMISSIONS:
        perms.add(ENTRY_VERIFY)
    return frozenset(perms)


def hidden_by_blinding(permission: str, roles, permissions) -> bool:
    """True when `permission` is missing only because the person is blinded: their roles (or the
    unblinded permission) would grant it. The refusal then says the record is masked, nothing more."""
    if UNBLINDED in permissions or permission not in BLINDED_HIDDEN | UNBLINDED_CLINICAL:
        return False
    return permission in permissions_for(list(roles), unblinded=True)
