"""The customers page's file import: the upload is capped at the request-body limit, and a file is imported
from its bytes as the API reads a body (UTF-8 line by line, a byte order mark allowed)."""

from __future__ import annotations

from nicegui.elements.upload_files import SmallFileUpload
from nicegui.testing import User

from engine.audience import customers
from engine.engine import Engine
from tests.ui.kit import one


async def _upload_dialog(user: User) -> object:
    await user.open("/customers")
    user.find(marker="import-customers").click()
    return one(user, "import-upload")


async def test_the_upload_refuses_files_over_the_body_cap(engine: Engine, user: User) -> None:
    upload = await _upload_dialog(user)
    assert upload.props["max-file-size"] == engine.settings.max_body_bytes  # type: ignore[attr-defined]


async def test_an_uploaded_file_with_a_line_that_is_not_utf8_reports_that_line(
    engine: Engine, user: User
) -> None:
    upload = await _upload_dialog(user)
    data = "\ufeffid,city\r\nu1,Köln\r\n".encode() + b"u2,K\xf6ln\r\n"
    file = SmallFileUpload(name="people.csv", content_type="text/csv", _data=data)
    await upload.handle_uploads([file])  # type: ignore[attr-defined]
    await user.should_see("1 created, 0 updated, 1 rejected; line 3: not UTF-8 text")
    assert customers.get_customer(engine, "u1")["attributes"] == {"city": "Köln"}
