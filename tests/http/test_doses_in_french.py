"""Doses and custody in French (issue 19): French pharmacy and clinical staff read the patients, doses and
protocols pages, allocate a dose, record a custody event with a temperature typed with a decimal comma,
read the custody report back in French with its times on the facility's clock (Paris) and its zone, and
read a dose rule's refusal in French — and, blinded, the masked reason in French. The stored records stay
in English: a signed digest never depends on the language it was read in."""

from __future__ import annotations

import html
import io
import re
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from bank.clock import local_text
from bank.refusals import MASKED_RULE
from doses.custody import reports
from doses.custody.models import CustodyEvent
from doses.models import Allocation
from tests.factories import custody as fc
from tests.factories import doses as fd
from tests.support import PASSWORD, client_for

pytestmark = pytest.mark.requirement("ER-LANGUAGE")

TODAY = fd.TODAY


def french(app, user):
    """A signed-in browser whose user chose French with the language switch of every page."""
    web = client_for(app, user)
    web.get("/")
    assert web.post("/language", {"language": "fr"}).status_code in (302, 303)
    return web


def text(resp) -> str:
    return html.unescape(resp.get_data(as_text=True))


def fresh(session) -> None:
    session.commit()
    session.expire_all()


def french_day(day) -> str:
    return f"{day:%d/%m/%Y}"


def test_patients_doses_and_protocols_pages_read_in_french(app, staff, session):
    patient = fd.enrolled_patient(session, staff.clinician, "MAESTRO-4MS")
    web = french(app, staff.clinician)

    page = text(web.get("/doses/patients"))
    assert '<html lang="fr"' in page
    assert "Enregistrer un patient" in page and 'placeholder="N° de sujet"' in page and "tout statut" in page
    assert "Register a patient" not in page and "any status" not in page

    page = text(web.get(f"/doses/patients/{patient.id}"))
    assert (
        "Séquence de traitement" in page and "Listes d'inclusion" in page and "Enregistrer le poids" in page
    )
    assert "MSC-MSC-MSC (en ouvert)" in page
    # Days in the French notation: the date of birth, the schedule and its windows.
    assert french_day(patient.date_of_birth) in page and french_day(TODAY) in page
    assert patient.date_of_birth.isoformat() not in page
    assert "Treatment sequence" not in page and "Record weight" not in page

    page = text(web.get("/doses/protocols?q=MAESTRO"))
    assert "Protocoles d'essai" in page and "en ouvert" in page and "Trial protocols" not in page

    row = fd.protocol_row(session, "MAESTRO-4MS")
    page = text(web.get(f"/doses/protocols/{row.id}"))
    for expected in (
        "45–55 × 10⁶ cellules viables par dose (fixe)",
        "± 7 jours",
        "calculé : âge (années) 18–55",
        "K = 0,2 EU/kg/h × poids × heures",
        "Calendrier",
    ):
        assert expected in page, expected
    assert "viable cells per dose" not in page

    page = text(web.get("/doses/doses"))
    assert "Exporter en CSV" in page and "tout protocole" in page


def allocate_in_french(web, patient, day, container_ids: str | None = None) -> int:
    """Allocate dose 1 through the French pages; `container_ids` picks the containers (the shared test
    database holds other tests' containers, which first-expiry-first-out may propose)."""
    url = f"/doses/patients/{patient.id}/allocate"
    page = text(web.get(url))
    assert "Attribuer une dose" in page and "Proposer des contenants" in page
    form = {"dose_number": "1", "planned_date": day.isoformat(), "planned_time": "10:00", "action": "propose"}
    resp = web.post(url, form)
    page = text(resp)
    assert resp.status_code == 200 and "Contenants proposés" in page and "Attribuer ces contenants" in page
    ids = container_ids or re.search(r'name="container_ids" type="hidden" value="([0-9,]+)"', page).group(1)
    resp = web.post(url, dict(form, action="allocate", container_ids=ids))
    assert resp.status_code == 302, text(resp)[:3000]
    page = text(web.get(resp.headers["Location"]))
    assert "Dose 1 attribuée." in page and "Limite d'endotoxines" in page
    return int(resp.headers["Location"].rsplit("/", 1)[1])


def test_allocation_custody_event_and_custody_report_in_french(app, staff, session):
    lot = fd.cell_lot(session, staff, n=1, cells=5.0e7)
    patient = fd.enrolled_patient(session, staff.clinician, "MAESTRO-4MS")
    web = french(app, staff.clinician)
    allocation_id = allocate_in_french(web, patient, TODAY, str(fd.containers(session, lot)[0].id))
    fresh(session)
    allocation = session.get(Allocation, allocation_id)
    container = allocation.containers[0]

    url = f"/custody/doses/{allocation.id}"
    page = text(web.get(url))
    assert "Enregistrer l'événement suivant" in page and "Signatures : deux personnes" in page
    assert "Sortie du stockage" in page and "Quand (Europe/Paris ; vide = maintenant)" in page
    resp = web.post(
        f"{url}/events",
        {
            "scanned_code": fc.din_scan(container),
            "event": "issued_from_storage",
            "place": "Unité de thérapie cellulaire, salle de délivrance",
            "temperature_min_c": "-180,5",
            "temperature_max_c": "-150,5",  # the French decimal comma
            "signature_password": PASSWORD,
            "receiver_username": staff.pharmacist.username,
            "receiver_password": PASSWORD,
        },
    )
    assert resp.status_code == 302, text(resp)[:3000]
    page = text(web.get(resp.headers["Location"]))
    assert "Sortie du stockage : enregistré et signé par les deux personnes." in page
    assert "-180,5" in page and "-150,5" in page
    fresh(session)
    event = session.scalar(select(CustodyEvent).where(CustodyEvent.allocation_id == allocation.id))
    assert (event.temperature_min_c, event.temperature_max_c) == (-180.5, -150.5)
    assert event.handover_signature.meaning == "Issued from storage"  # stored in one stable English form

    resp = web.client.get(f"{url}/report.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    pdf_text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(resp.data)).pages)
    flat = " ".join(pdf_text.split())
    for expected in (
        "Rapport de chaîne de traçabilité",
        "Généalogie : du donneur au patient",
        "Sortie du stockage",
        "Reçue du stockage",
        "Min -180,5 °C / max -150,5 °C",
        "Aucun écart",
        "Europe/Paris (heure de l'établissement)",
    ):
        assert expected in flat, expected
    # The event's time on the facility's wall clock in the French notation, with the zone's abbreviation.
    occurred = local_text(event.occurred_at, "Europe/Paris", seconds=True, day_first=True)
    # (bank.pdf's table of electronic signatures, after the meanings "… (événement 1)", keeps UTC.)
    before_signatures = flat.split("(événement 1)")[0]
    assert occurred in before_signatures
    assert f"{event.occurred_at:%Y-%m-%d %H:%M:%S} UTC" not in before_signatures
    assert "Chain of custody report" not in flat and "Transport and temperature" not in flat
    # The digest is the data's, whatever the language of the print.
    digest = re.search(r"SHA-256[^0-9a-f]*([0-9a-f]{64})", pdf_text).group(1)
    assert digest == reports.report_digest(session, allocation, masked=False)
    web.get(url)
    page = text(web.post(f"{url}/report/check", {"digest": digest}))
    assert "L'empreinte <strong>correspond</strong> aux enregistrements." in page


def test_a_dose_rule_refusal_reads_in_french_with_french_days(app, staff, session):
    fd.cell_lot(session, staff, n=1, cells=5.0e7)
    weighed = TODAY - timedelta(days=40)
    patient = fd.enrolled_patient(session, staff.clinician, "MAESTRO-4MS", weighed_on=weighed)
    web = french(app, staff.clinician)
    url = f"/doses/patients/{patient.id}/allocate"
    web.get(url)
    resp = web.post(
        url,
        {"dose_number": "2", "planned_date": TODAY.isoformat(), "planned_time": "10:00", "action": "propose"},
    )
    page = text(resp)
    assert (
        "Doses précédentes non administrées : dose 1." in page
    )  # was "Earlier doses not administered: [1]."
    assert "Le poids date de 40 jours" in page
    assert f"pesé le {french_day(weighed)} ; dose prévue le {french_day(TODAY)}" in page
    assert "measured_on=" not in page and "[1]" not in page


def test_a_blinded_user_reads_the_masked_reason_in_french(app, staff, session):
    donor = fd.lf.screened_donor(session, staff.tech, autologous=True)
    lot = fd.cell_lot(session, staff, key="BM-MSC-AUTO", donor=donor, n=1, cells=1.0e8)
    patient = fd.enrolled_patient(session, staff.clinician, "MESEMS", donor=donor)
    fd.randomise(session, staff.pharmacist, patient, "PLACEBO-MSC")
    web = french(app, staff.clinician)  # blinded
    url = f"/doses/patients/{patient.id}/allocate"
    web.get(url)
    resp = web.post(
        url,
        {
            "dose_number": "1",
            "planned_date": TODAY.isoformat(),
            "planned_time": "10:00",
            "action": "allocate",
            "container_ids": str(fd.containers(session, lot)[0].id),
        },
    )
    page = text(resp)
    assert resp.status_code == 409 and f'data-rule="{MASKED_RULE}"' in page
    assert "la raison n'est pas affichée car elle pourrait révéler le traitement" in page
    assert "placebo" not in page.lower() and "withheld" not in page


def test_seed_protocol_texts_read_in_french_and_stay_stored_in_english(app, staff, session):
    """The seed protocols' titles, checklist items and assumptions are shown in French on the protocol
    page and the subject's checklist; the stored (compared) definition keeps its English."""
    row = fd.protocol_row(session, "MAESTRO-4MS")
    before = row.definition
    web = client_for(app, staff.clinician)  # no language chosen: the browser's
    fr_browser = {"Accept-Language": "fr"}

    page = text(web.get(f"/doses/protocols/{row.id}", headers=fr_browser))
    for expected in (
        "Injections intrathécales de CSM allogéniques de tissu adipeux dans la SEP primaire progressive",
        "Âge entre 18 et 55 ans",
        "LCR positif avec bandes oligoclonales",
        "Tous les 3 mois = jours 0, 91, 182, fenêtre de ±7 jours, comptés depuis la dose 1.",
    ):
        assert expected in page, expected
    assert "Age between 18 and 55 years" not in page and "Positive CSF with oligoclonal bands" not in page
    english = text(web.get(f"/doses/protocols/{row.id}", headers={"Accept-Language": "en"}))
    assert "Age between 18 and 55 years" in english

    listed = text(web.get("/doses/protocols?q=MAESTRO", headers=fr_browser))
    assert "dans la SEP primaire progressive (phase I, Rennes)" in listed

    patient = fd.registered_patient(session, staff.clinician, "MAESTRO-4MS")
    page = text(web.get(f"/doses/patients/{patient.id}/checklist", headers=fr_browser))
    assert (
        "Consentement libre, éclairé et écrit signé" in page
        and "Affilié à un régime de sécurité sociale" in page
    )
    assert "Free, informed and written consent signed" not in page

    session.expire_all()
    assert fd.protocol_row(session, "MAESTRO-4MS").definition == before
    assert "Age between 18 and 55 years" in before
