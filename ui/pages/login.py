"""The sign-in page (`/login`): e-mail and password; on success back to the page that asked for it. Failed
sign-ins are throttled per account and per client address (engine/access/throttle.py): the form says how
long to wait."""

from __future__ import annotations

from nicegui import run, ui

from engine.access import sign_in
from engine.access.throttle import Throttled
from ui import session
from ui.dependencies import EngineDep

HOME = "/journeys"
WRONG = "Wrong e-mail or password, or the account is deactivated."


def safe_target(redirect_to: str) -> str:
    """Only a path on this site (never `//elsewhere` or `https://elsewhere`): no open redirect."""
    if redirect_to.startswith("/") and not redirect_to.startswith(("//", "/\\")):
        return redirect_to
    return HOME


def client_address() -> str:
    """The address of the browser showing this page (behind a proxy, what uvicorn's forwarded headers
    make of it)."""
    request = ui.context.client.request
    return request.client.host if request is not None and request.client is not None else "unknown"


@ui.page("/login")
async def login_page(engine: EngineDep, redirect_to: str = HOME) -> None:
    target = safe_target(redirect_to)
    if session.signed_in() is not None:
        ui.navigate.to(target)
        return
    ui.page_title("Sign in · Journeys")
    ui.colors(primary="#4f46e5")
    address = client_address()
    with ui.column().classes("absolute-center items-stretch gap-3 w-80"):
        ui.label("Journeys").classes("text-2xl font-bold text-indigo-700")
        ui.label("Sign in to continue").classes("text-slate-500")
        email = ui.input("E-mail").props("outlined autofocus autocomplete=username data-login=email")
        email.mark("login-email")
        password = ui.input("Password", password=True, password_toggle_button=True)
        password.props("outlined autocomplete=current-password data-login=password").mark("login-password")
        problem = ui.label().classes("text-negative text-sm").mark("login-problem")
        problem.set_visibility(False)

        def say(text: str) -> None:
            problem.set_text(text)
            problem.set_visibility(True)
            password.set_value("")

        async def submit() -> None:
            try:
                signed = await run.io_bound(
                    sign_in.sign_in, engine, email.value or "", password.value or "", address)
            except Throttled as refused:
                say(refused.message)
                return
            if signed is None:
                say(WRONG)
                return
            session.remember(signed.actor, signed.session_version)
            ui.navigate.to(target)

        password.on("keydown.enter", submit)
        submit_button = ui.button("Sign in", on_click=submit).props("unelevated no-caps data-login=submit")
        submit_button.mark("login-submit")
