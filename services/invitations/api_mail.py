"""The admin's mail pages: the texts per kind and language with a preview, reminders and their
rules, and per respondent a resent invitation or a new link."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from jinja2 import Environment
from starlette.exceptions import HTTPException

from services.invitations import domain_mail
from services.invitations.api import http_errors
from services.invitations.mail_worker import SAMPLE_LINK
from services.invitations.usecases_mail import MailUseCases
from shared.runtime import utcnow
from shared.web import CheckedAdmin, CurrentAdmin, last_day, local_time, render


def _back(questionnaire_id: uuid.UUID, notice: str, count: int | None = None) -> RedirectResponse:
    extra = f"&count={count}" if count is not None else ""
    return RedirectResponse(f"/admin/questionnaires/{questionnaire_id}?notice={notice}{extra}",
                            status_code=303)


def _kind_and_language(kind: str, language: str) -> None:
    if kind not in domain_mail.KINDS or language not in domain_mail.LANGUAGES:
        raise HTTPException(404)


def build_router(mail: MailUseCases, env: Environment) -> APIRouter:
    router = APIRouter(tags=["pages"])
    env.globals["respondent_status"] = lambda row: domain_mail.respondent_status(
        row, local_time=local_time)
    base = "/admin/questionnaires/{questionnaire_id}"

    @router.get(base + "/mail/{kind}/{language}")
    async def mail_text(request: Request, questionnaire_id: uuid.UUID, kind: str,
                        language: str, admin: CurrentAdmin):  # noqa: ANN202
        _kind_and_language(kind, language)
        with http_errors():
            q, text = await mail.mail_text(admin, questionnaire_id, kind, language)
        return render(env, request, "mail_text.html", q=q, kind=kind, language=language,
                      form={"subject": text.subject, "body": text.body}, errors={})

    @router.post(base + "/mail/{kind}/{language}")
    async def save_mail_text(request: Request, questionnaire_id: uuid.UUID, kind: str,
                             language: str, admin: CheckedAdmin,
                             subject: Annotated[str, Form()] = "",
                             body: Annotated[str, Form()] = ""):  # noqa: ANN202
        _kind_and_language(kind, language)
        text, errors = domain_mail.parse_mail_text(subject=subject, body=body)
        with http_errors():
            if text is None:
                q = await mail.questionnaire(admin, questionnaire_id)
                return render(env, request, "mail_text.html", status_code=422, q=q, kind=kind,
                              language=language, form={"subject": subject, "body": body},
                              errors=errors)
            await mail.save_mail_text(admin, questionnaire_id, kind=kind, language=language,
                                      text=text, now=utcnow())
        return _back(questionnaire_id, "mail.notice.text_saved")

    @router.get(base + "/mail-preview")
    async def preview(request: Request, questionnaire_id: uuid.UUID, admin: CurrentAdmin,
                      kind: str = "invitation", respondent: str = ""):  # noqa: ANN202
        if kind not in domain_mail.KINDS:
            raise HTTPException(404)
        with http_errors():
            people, _ = await mail.people(admin, questionnaire_id)
            q = await mail.questionnaire(admin, questionnaire_id)
        person = next((p for p in people if str(p.id) == respondent), people[0] if people else None)
        if person is None:
            raise HTTPException(404)
        language = domain_mail.mail_language(person.language, q.mail_language)
        _, text = await mail.mail_text(admin, questionnaire_id, kind, language)
        filled = domain_mail.fill(text, {
            "name": person.name, "organisation": await mail.organisation_name(admin),
            "title": q.title, "deadline": last_day(q.deadline),
            "link": f"{mail.base_url}{SAMPLE_LINK}", "admin": admin.name})
        return render(env, request, "mail_preview.html", q=q, kind=kind, person=person,
                      people=people, language=language, mail=filled)

    @router.get(base + "/reminders")
    async def reminders(request: Request, questionnaire_id: uuid.UUID, admin: CurrentAdmin):  # noqa: ANN202
        with http_errors():
            q = await mail.questionnaire(admin, questionnaire_id)
        return render(env, request, "mail_reminders.html", q=q, errors={}, form={
            "gap_days": q.reminder_gap_days, "maximum": q.reminder_max,
            "auto_days_before": q.auto_remind_days_before or ""})

    @router.post(base + "/reminders")
    async def save_reminders(request: Request, questionnaire_id: uuid.UUID,
                             admin: CheckedAdmin, gap_days: Annotated[str, Form()] = "",
                             maximum: Annotated[str, Form()] = "",
                             auto_days_before: Annotated[str, Form()] = ""):  # noqa: ANN202
        settings, errors = domain_mail.parse_reminder_settings(
            gap_days=gap_days, maximum=maximum, auto_days_before=auto_days_before)
        with http_errors():
            if settings is None:
                q = await mail.questionnaire(admin, questionnaire_id)
                return render(env, request, "mail_reminders.html", status_code=422, q=q,
                              errors=errors, form={"gap_days": gap_days, "maximum": maximum,
                                                   "auto_days_before": auto_days_before})
            await mail.save_reminder_settings(admin, questionnaire_id, settings)
        return _back(questionnaire_id, "mail.notice.reminders_saved")

    @router.post(base + "/remind")
    async def remind(questionnaire_id: uuid.UUID, admin: CheckedAdmin,
                     group: Annotated[str, Form()] = ""):  # noqa: ANN202
        with http_errors():
            await mail.questionnaire(admin, questionnaire_id)  # another organisation's: 404
            if group not in domain_mail.REMINDER_GROUPS:
                raise HTTPException(422)  # only a changed form sends another group
            count = await mail.remind(admin, questionnaire_id, group=group, now=utcnow())
        return _back(questionnaire_id, "mail.notice.reminders_queued" if count
                     else "mail.notice.nobody_to_remind", count)

    @router.post(base + "/respondents/{respondent_id}/resend")
    async def resend(questionnaire_id: uuid.UUID, respondent_id: uuid.UUID,
                     admin: CheckedAdmin):  # noqa: ANN202
        with http_errors():
            queued = await mail.resend(admin, questionnaire_id, respondent_id, now=utcnow())
        return _back(questionnaire_id, "mail.notice.resend_queued" if queued
                     else "mail.notice.already_queued")

    @router.get(base + "/respondents/{respondent_id}/new-link")
    async def confirm_new_link(request: Request, questionnaire_id: uuid.UUID,
                               respondent_id: uuid.UUID, admin: CurrentAdmin):  # noqa: ANN202
        with http_errors():
            q = await mail.questionnaire(admin, questionnaire_id)
            person = await mail.invited_person(admin, questionnaire_id, respondent_id)
        return render(env, request, "mail_new_link.html", q=q, person=person, link=None)

    @router.post(base + "/respondents/{respondent_id}/new-link")
    async def new_link(request: Request, questionnaire_id: uuid.UUID, respondent_id: uuid.UUID,
                       admin: CheckedAdmin):  # noqa: ANN202
        with http_errors():
            q = await mail.questionnaire(admin, questionnaire_id)
            person, token = await mail.new_link(admin, questionnaire_id, respondent_id,
                                                now=utcnow())
        link = f"{mail.base_url}/r/{token}"
        return render(env, request, "mail_new_link.html", q=q, person=person, link=link)

    return router
