"""Private files: streamed with a type from the name, never sniffed, NotFound when the file is gone."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db.models import FileField
from django.db.models.fields.files import FieldFile
from django.utils.translation import gettext_lazy as _

from wangge.core.errors import NotFound
from wangge.core.files import private_file_response


def test_a_file_is_streamed_with_its_type_and_private_headers(tmp_path: Path) -> None:
    path = tmp_path / "ab12.jpg"
    path.write_bytes(b"\xff\xd8jpeg")
    response = private_file_response(path)
    assert b"".join(response.streaming_content) == b"\xff\xd8jpeg"
    assert response["Content-Type"] == "image/jpeg" and response["Content-Length"] == "6"
    assert response["Cache-Control"] == "private, max-age=3600" and response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == 'inline; filename="ab12.jpg"'
    response.file_to_stream.close()  # what closing the response does, without its request signals


def test_an_attachment_is_offered_under_the_persons_own_name(tmp_path: Path) -> None:
    path = tmp_path / "4f9e.pdf"
    path.write_bytes(b"%PDF-1.7")
    response = private_file_response(path, filename="第一季度预算.pdf", as_attachment=True, cache_control="no-store")
    assert response["Content-Type"] == "application/pdf" and response["Cache-Control"] == "no-store"
    assert response["Content-Disposition"].startswith("attachment; filename*=utf-8''%E7%AC%AC")
    response.file_to_stream.close()  # what closing the response does, without its request signals


def test_a_missing_file_is_not_found_in_both_languages(tmp_path: Path) -> None:
    with pytest.raises(NotFound) as gone:
        private_file_response(tmp_path / "gone.jpg", missing=_("photo file not found"))
    assert (gone.value.zh, gone.value.en) == ("找不到照片文件", "photo file not found")


def test_a_stored_field_with_no_file_behind_it_is_not_found() -> None:
    empty = FieldFile(instance=None, field=FileField(name="image"), name=None)
    with pytest.raises(NotFound):
        private_file_response(empty)
