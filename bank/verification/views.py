"""The "Entries to verify" page (/verify/): entries entered by others awaiting the user's verification,
filtered by kind and lot or donor; the confirmation that shows the chosen entries side by side and
verifies them with one electronic signature. Single-entry Verify buttons lead to the same confirmation."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, g, redirect, render_template, request, url_for

from bank.auth_views import safe_next
from bank.i18n import N_, localize, t
from bank.languages import flash, local_time
from bank.lists import EXPORT_LIMIT, SortColumn, Sorting, csv_download, sorting, wants_csv
from bank.permissions import ENTRY_VERIFY
from bank.verification import services
from bank.verification.forms import VerifyEntriesForm, VerifyFilterForm
from bank.verification.states import VERIFIED_MEANING
from bank.web import COUNT_CAP, Page, actor, db, posted, requires

bp = Blueprint("verify", __name__, url_prefix="/verify")


def registry() -> dict[str, services.VerifiableKind]:
    return services.registry_of(current_app)


def _page_number() -> int:
    value = request.args.get("page", "")
    return int(value) if value.isdigit() and 0 < int(value) <= 10_000 else 1


# The entries are gathered kind by kind in Python (oldest first), so they sort there too.
ENTRY_COLUMNS = (
    SortColumn("entry", N_("Entry"), lambda e: (e.kind, e.title.lower())),
    SortColumn("subject", N_("Lot / donor"), lambda e: e.subject),
    SortColumn("entered_by", N_("Entered by"), lambda e: e.entered_by.lower()),
    SortColumn("entered", N_("Entered"), lambda e: e.entered_at),
)


def awaiting_page(kind: str, subject: str | None, order: Sorting | None = None) -> Page:
    """One page of the entries awaiting the user's verification (at most COUNT_CAP counted)."""
    per_page = current_app.config["PAGE_SIZE"]
    found = services.awaiting_verification(
        db(), registry(), actor(), kinds=[kind] if kind else (), subject=subject, limit=COUNT_CAP + 1
    )
    if order is not None:
        found = order.arrange(found)
    page = _page_number()
    items = found[(page - 1) * per_page : page * per_page]
    return Page(
        items,
        page,
        per_page,
        min(len(found), COUNT_CAP),
        len(found) > COUNT_CAP,
        len(found) > page * per_page,
    )


@bp.route("/")
@requires(ENTRY_VERIFY)
def index():
    form = VerifyFilterForm(request.args)
    kinds = services.kinds_for(registry(), actor().permissions)
    form.kind.choices = [("", t("All kinds"))] + [(k.key, k.label) for k in kinds]
    valid = form.validate()
    kind = form.kind.data if form.kind.data in {k.key for k in kinds} else ""
    if form.kind.data and not kind:
        form.kind.errors = [*form.kind.errors, t("Not a kind of entry you verify.")]
    subject = form.subject.data if valid else None
    order = sorting(*ENTRY_COLUMNS)
    labels = {k.key: k.label for k in kinds}
    if wants_csv():  # what the list shows, every entry awaiting as filtered
        found = order.arrange(
            services.awaiting_verification(
                db(), registry(), actor(), kinds=[kind] if kind else (), subject=subject, limit=EXPORT_LIMIT
            )
        )
        rows = (
            (
                f"{localize(labels.get(e.kind, e.kind))} · {localize(e.title)}",
                e.subject,
                "; ".join(f"{localize(label)} {localize(value)}" for label, value in e.values),
                e.entered_by,
                local_time(e.entered_at),
            )
            for e in found
        )
        header = ("entry", "lot_or_donor", "values_entered", "entered_by", "entered")
        return csv_download("entries-to-verify.csv", header, rows)
    page = awaiting_page(kind, subject, order)
    return render_template(
        "verify/index.html",
        form=form,
        page=page,
        kinds={k.key: k for k in kinds},
        meaning=VERIFIED_MEANING,
        sorting=order,
    )


def _shown(keys: list[tuple[str, int]]):
    """The chosen entries as they are now, and every reason one of them cannot be verified by the user."""
    reg = registry()
    found = services.entries_by_key(db(), reg, keys)
    problems, entries = [], []
    for kind, ident in keys:
        entry = found.get(f"{kind}:{ident}")
        chosen = services.Chosen(kind, ident, entry.digest if entry else "")
        problems += services.entry_problems(chosen, reg.get(kind), entry, actor())
        if entry is not None:
            entries.append(entry)
    return entries, problems


@bp.route("/confirm", methods=["GET", "POST"])
@requires(ENTRY_VERIFY)
def confirm():
    form = VerifyEntriesForm()
    if request.method == "POST":
        done = posted(
            form,
            lambda: services.verify_entries(
                db(),
                registry(),
                g.user,
                form.signature_password.data,
                services.parse_chosen(form.entries.data),
            ),
            "entries verified",
        )
        if done.ok:
            count = len(done.value)
            flash(
                t("%(count)s entry verified.", count=count)
                if count == 1
                else t("%(count)s entries verified.", count=count),
                "success",
            )
            return redirect(safe_next(form.next.data) if form.next.data else url_for("verify.index"))
        raw = [str(v).partition("@")[0] for v in form.entries.data or []]
    else:
        raw = request.args.getlist("entries")
        form.next.data = request.args.get("next", "")
    keys, bad = services.parse_keys(raw)
    entries, problems = _shown(keys[: services.MAX_PER_ACT])
    form.entries.data = [f"{e.key}@{e.digest}" for e in entries]
    return render_template(
        "verify/confirm.html",
        form=form,
        entries=entries,
        problems=problems,
        unreadable=bad,
        too_many=len(keys) > services.MAX_PER_ACT,
        max_per_act=services.MAX_PER_ACT,
        meaning=VERIFIED_MEANING,
    )


def init_app(app: Flask) -> None:
    from bank.verification import api  # noqa: F401  (JSON API routes, before bank.api registers them)

    app.extensions.setdefault(services.REGISTRY, {})
    app.register_blueprint(bp)
    app.extensions["bank.nav"].append((N_("Entries to verify"), "verify.index", ENTRY_VERIFY))

    @app.template_global()
    def entry_verifications(kind: str, ids) -> dict[int, services.Verification]:
        """The verification (record, signature, validity) of each entry of `kind` among `ids`."""
        return services.verifications_of(db(), registry(), kind, ids)
