"""Checkpoints of the audit chain kept outside the database (EU GMP Annex 11 §7, §12): row count, last
row, that row's keyed hash and the time, signed (HMAC) with the audit key. Written every
AUDIT_ANCHOR_EVERY appended rows, by `flask audit anchor` and by `flask backup`, into AUDIT_ANCHOR_DIR
(and POSTed to AUDIT_ANCHOR_URL when set). `audit verify` holds the trail against the last one, so a
trail cut at its end, wiped, or restored from a copy that lost committed rows is named."""

from __future__ import annotations

import json
import logging
import os
import urllib.request
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

from bank import audit, auditkey
from bank.clock import utcnow
from bank.digest import canonical
from bank.i18n import t

log = logging.getLogger(__name__)
_SITE: dict = {"dir": None, "url": None}


def configure(anchor_dir: str | Path | None, url: str | None = None, every: int = 0) -> None:
    """Where checkpoints go, and every how many appended rows one is written (0: only on command)."""
    _SITE["dir"] = Path(anchor_dir) if anchor_dir else None
    _SITE["url"] = url or None
    audit.anchoring["every"] = every if anchor_dir else 0
    audit.anchoring["write"] = _write_quietly


def anchor_dir() -> Path | None:
    return _SITE["dir"]


def _signed(fields: dict) -> str:
    key = auditkey.by_id(fields["key_id"])
    if key is None:
        raise LookupError(fields["key_id"])
    return key.mac("checkpoint|" + canonical(fields))


def state_of(engine: Engine) -> dict:
    """The chain as committed: its id, its last row and that row's hash, and the rows up to it."""
    with engine.connect() as conn:
        chain_id, last_id, tip_hash = conn.execute(
            text("SELECT chain_id, entry_id, row_hash FROM audit_chain_tip WHERE id = 1")
        ).one()
        rows = conn.execute(
            text("SELECT count(*) FROM audit_entries WHERE id <= :i"), {"i": last_id or 0}
        ).scalar_one()
        conn.rollback()
    return {"chain_id": chain_id, "rows": rows, "last_id": last_id, "tip_hash": tip_hash if last_id else None}


def write_checkpoint(
    engine: Engine, directory: Path | None = None, url: str | None = None
) -> tuple[Path, dict]:
    """Sign the chain's state with the current audit key, write it under `directory`/<chain id>/ (mode
    0640, never overwritten) and POST it to `url` when one is configured."""
    directory = directory or _SITE["dir"]
    if directory is None:
        raise RuntimeError("no anchor directory configured (AUDIT_ANCHOR_DIR)")
    fields = {**state_of(engine), "at": utcnow().isoformat(), "key_id": auditkey.current().id}
    checkpoint = {**fields, "signature": _signed(fields)}
    folder = Path(directory) / fields["chain_id"]
    folder.mkdir(parents=True, exist_ok=True)
    stamp = fields["at"].replace(":", "").replace("-", "").replace("+0000", "Z")
    path = folder / f"{fields['last_id'] or 0:012d}-{stamp}.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(checkpoint, indent=1, sort_keys=True))
        f.flush()
        os.fsync(f.fileno())
    url = url or _SITE["url"]
    if url:
        post_checkpoint(url, checkpoint)
    return path, checkpoint


def post_checkpoint(url: str, checkpoint: dict, timeout: float = 10) -> None:
    request = urllib.request.Request(
        url, data=json.dumps(checkpoint).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 — the site's own URL
        if response.status >= 300:
            raise OSError(f"{url} answered {response.status}")


def _write_quietly(engine: Engine) -> None:
    # After a commit, in a request: the work is saved; a checkpoint that cannot be written is logged,
    # and the next one (or `flask audit anchor`) covers the rows.
    try:
        write_checkpoint(engine)
    except Exception:  # noqa: BLE001
        log.exception("audit checkpoint not written")


def latest_checkpoint(directory: Path | None, chain_id: str) -> tuple[Path, dict] | None:
    folder = Path(directory) / chain_id if directory else None
    if folder is None or not folder.is_dir():
        return None
    files = sorted(folder.glob("*.json"))
    if not files:
        return None
    return files[-1], json.loads(files[-1].read_text())


def check_against(engine: Engine, path: Path, checkpoint: dict) -> list[tuple[str, str]]:
    """(kind, message) for everything in which the trail disagrees with a checkpoint."""
    fields = {k: v for k, v in checkpoint.items() if k != "signature"}
    try:
        if _signed(fields) != checkpoint.get("signature"):
            return [
                (
                    "checkpoint-forged",
                    t("checkpoint %(name)s does not carry a valid signature: altered", name=path.name),
                )
            ]
    except LookupError:
        return [
            (
                "checkpoint-key",
                t(
                    "checkpoint %(name)s is signed with key %(key)s, which is not the configured audit key",
                    name=path.name,
                    key=fields.get("key_id"),
                ),
            )
        ]
    now = state_of(engine)
    last_id, at = fields["last_id"], fields["at"]
    if not last_id:
        return []
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT row_hash FROM audit_entries WHERE id = :i"), {"i": last_id}
        ).scalar()
        conn.rollback()
    problems = []
    if found is None:
        problems.append(
            (
                "lost-rows",
                t(
                    "the checkpoint of %(at)s counted %(rows)s rows up to row %(last)s; "
                    "the trail now ends at row %(now_last)s with %(now_rows)s rows: committed "
                    "rows were removed (cut from the end, wiped, or a restored copy that lost them)",
                    at=at,
                    rows=fields["rows"],
                    last=last_id,
                    now_last=now["last_id"] or t("none"),
                    now_rows=now["rows"],
                ),
            )
        )
    elif found != fields["tip_hash"]:
        problems.append(
            (
                "rewritten",
                t(
                    "row %(last)s is not the row the checkpoint of %(at)s signed: the trail up to it was rewritten",
                    last=last_id,
                    at=at,
                ),
            )
        )
    elif (count := _count_upto(engine, last_id)) != fields["rows"]:
        problems.append(
            (
                "lost-rows" if count < fields["rows"] else "added-rows",
                t(
                    "the checkpoint of %(at)s counted %(rows)s rows up to row %(last)s; there are "
                    "%(count)s: rows were removed from or slipped into the trail",
                    at=at,
                    rows=fields["rows"],
                    last=last_id,
                    count=count,
                ),
            )
        )
    return problems


def _count_upto(engine: Engine, last_id: int) -> int:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT count(*) FROM audit_entries WHERE id <= :i"), {"i": last_id}
        ).scalar_one()


def install_site(config: dict) -> None:
    """The app's audit key and checkpoint settings, for every session of this process (bank.app)."""
    auditkey.install(config["AUDIT_KEY"])
    configure(config["AUDIT_ANCHOR_DIR"], config.get("AUDIT_ANCHOR_URL"), config.get("AUDIT_ANCHOR_EVERY", 0))
