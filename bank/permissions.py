"""Roles and what each may do: one pure table, checked by every endpoint (21 CFR 11.10(d), (g))."""

from __future__ import annotations

ROLES = ("admin", "technician", "qa", "clinical")
ROLE_LABELS = {"admin": "Administrator", "technician": "Technician", "qa": "Quality assurance", "clinical": "Clinical / pharmacy"}

# Pseudo-permission for pages every signed-in user may open (home, own password, scan box).
AUTHENTICATED = "authenticated"
# Granted separately from roles: sees the treatment behind blinded doses (every view is logged).
UNBLINDED = "unblinded"

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({"user.manage", "audit.view", "donor.view", "lot.view", "storage.view", "release.view",
                        "patient.view", "dose.view", "protocol.view"}),
    "technician": frozenset({
        "donor.view", "donor.edit", "donor.identify", "lot.view", "lot.edit", "lot.verify", "material.manage",
        "storage.view", "storage.manage", "deviation.record", "release.view", "result.enter", "result.verify", "dose.view",
        "label.print", "custody.record",
    }),
    "qa": frozenset({
        "donor.view", "donor.edit", "donor.identify", "donor.determine", "criteria.manage", "lot.view",
        "lot.verify", "lot.hold", "storage.view", "deviation.record", "deviation.close", "release.view", "spec.manage", "result.enter",
        "result.verify", "lot.release", "audit.view", "protocol.view", "protocol.manage", "patient.view",
        "dose.view",
    }),
    "clinical": frozenset({
        "protocol.view", "patient.view", "patient.enroll", "dose.view", "dose.allocate", "label.print",
        "custody.record",
    }),
}

# Lot and storage pages name the product behind a container (placebo media or MSC), so a blinded
# clinical user must not open them: clinical staff get them only with the unblinded permission.
# Manufacturing staff (technicians, QA) make the placebo lots and are unblinded by their work.
UNBLINDED_CLINICAL = frozenset({"lot.view", "storage.view"})

# Steps only the system takes, on someone's behalf (bank.uow.acting_with): no role holds them, so no
# person can take them by hand (a seed specification or criteria set made effective without approval).
SYSTEM_PERMISSIONS = frozenset({"spec.seed", "criteria.seed"})

ALL_PERMISSIONS = (frozenset().union(*ROLE_PERMISSIONS.values())
                   | {AUTHENTICATED, UNBLINDED, "api.token"} | SYSTEM_PERMISSIONS)


def permissions_for(roles: list[str] | tuple[str, ...], unblinded: bool = False) -> frozenset[str]:
    """Every permission held through `roles`, plus the separately granted unblinded permission."""
    perms = {AUTHENTICATED, "api.token"}
    for role in roles:
        perms |= ROLE_PERMISSIONS.get(role, frozenset())
    if unblinded:
        perms.add(UNBLINDED)
        if "clinical" in roles:
            perms |= UNBLINDED_CLINICAL
    return frozenset(perms)
